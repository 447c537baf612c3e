// A socket's settings: modes, buffer sizes, line limits and encoding, with the setters of the public API.
import { invalidArgType } from '../errors.js';
import type { ReadShape } from './input.js';
import { DEFAULT_INPUT, DEFAULT_OUTPUT, formatInput, formatOutput, parseInput, parseOutput, type InputMode, type OutputMode } from './modes.js';

/** What a moving socket's settings look like on the wire (plus its type, timeout and EOF mark). */
export interface TransferState {
  type: number;
  inMode: string;
  outMode: string;
  bufsiz: [number, number];
  maxline: [number, number];
  timeout: number | null;
  encoding: BufferEncoding;
  eof: boolean;
}

/** The settings of one socket, each defaulting to the original's. */
export class SocketConfig {
  inMode: InputMode = { ...DEFAULT_INPUT };
  outMode: OutputMode = { ...DEFAULT_OUTPUT };
  inBufsiz = 4096;
  outBufsiz = 4096;
  inMaxline = 4096;
  outMaxline = 4096;
  encoding: BufferEncoding = 'utf8';
  /** What reads need of the above, kept as one object so a read allocates none. */
  shape: ReadShape = { text: true, maxline: 4096, bufsiz: 4096 };

  /** Sets modes (undefined leaves a side), each parsed from the defaults; returns the previous ones. */
  setmode(input?: string, output?: string): [string, string] {
    const prev: [string, string] = [formatInput(this.inMode), formatOutput(this.outMode)];
    if (input !== undefined && input !== null) this.inMode = parseInput(String(input), DEFAULT_INPUT);
    if (output !== undefined && output !== null) this.outMode = parseOutput(String(output), DEFAULT_OUTPUT);
    this.#reshape();
    return prev;
  }

  #reshape(): void {
    this.shape = { text: this.inMode.text, maxline: this.inMaxline, bufsiz: this.inBufsiz };
  }

  setEncoding(enc: BufferEncoding): void {
    if (!Buffer.isEncoding(enc)) throw invalidArgType('enc', 'a Buffer encoding', enc);
    this.encoding = enc;
  }

  setbufsiz(input?: number, output?: number): [number, number] {
    const prev: [number, number] = [this.inBufsiz, this.outBufsiz];
    if (input !== undefined) this.inBufsiz = sizeArg('input', input, this.inBufsiz);
    if (output !== undefined) this.outBufsiz = sizeArg('output', output, this.outBufsiz);
    this.#reshape();
    return prev;
  }

  setmaxline(input?: number, output?: number): [number, number] {
    const prev: [number, number] = [this.inMaxline, this.outMaxline];
    if (input !== undefined) this.inMaxline = sizeArg('input', input, this.inMaxline);
    if (output !== undefined) this.outMaxline = sizeArg('output', output, this.outMaxline);
    this.#reshape();
    return prev;
  }

  /** The settings part of a transfer state. */
  toState(): Pick<TransferState, 'inMode' | 'outMode' | 'bufsiz' | 'maxline' | 'encoding'> {
    return {
      inMode: formatInput(this.inMode),
      outMode: formatOutput(this.outMode),
      bufsiz: [this.inBufsiz, this.outBufsiz],
      maxline: [this.inMaxline, this.outMaxline],
      encoding: this.encoding,
    };
  }

  /** Takes the settings of a transfer state. */
  apply(state: TransferState): void {
    this.setmode(state.inMode, state.outMode);
    this.setbufsiz(...state.bufsiz);
    this.setmaxline(...state.maxline);
    this.setEncoding(state.encoding);
  }
}

/** 0 keeps the current size, negative or Infinity means unlimited, as the original. */
function sizeArg(name: string, v: number, keep: number): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw invalidArgType(name, 'a number', v);
  if (v === 0) return keep;
  return v < 0 ? Infinity : v;
}
