// Socket mode strings, as the original: 't'/'b' text or binary, 'n'/'l'/'f' flushing, 'a'/'A' autoflush.
import type { FlushMode } from './output.js';

/** Input mode: text translation and pushback (buffered input replayed into a TLS handshake). */
export interface InputMode {
  text: boolean;
  pushback: boolean;
}

/** Output mode: text translation, flush policy and autoflush before reads. */
export interface OutputMode {
  text: boolean;
  flush: FlushMode;
  autoflush: boolean;
}

export const DEFAULT_INPUT: Readonly<InputMode> = { text: true, pushback: true };
export const DEFAULT_OUTPUT: Readonly<OutputMode> = { text: true, flush: 'l', autoflush: true };

/** Parses an input mode string on top of `base`; unknown characters are ignored, as the original. */
export function parseInput(mode: string, base: Readonly<InputMode>): InputMode {
  const m = { ...base };
  for (const ch of mode) {
    if (ch === 't') m.text = true;
    else if (ch === 'b') m.text = false;
    else if (ch === 'p') m.pushback = true;
    else if (ch === 'P') m.pushback = false;
  }
  return m;
}

/** Parses an output mode string on top of `base`. */
export function parseOutput(mode: string, base: Readonly<OutputMode>): OutputMode {
  const m = { ...base };
  for (const ch of mode) {
    if (ch === 't') m.text = true;
    else if (ch === 'b') m.text = false;
    else if (ch === 'n' || ch === 'l' || ch === 'f') m.flush = ch;
    else if (ch === 'a') m.autoflush = true;
    else if (ch === 'A') m.autoflush = false;
  }
  return m;
}

/** The original's rendering: input "t-p" / "b-P", output "tla" / "bnA". */
export function formatInput(m: Readonly<InputMode>): string {
  return `${m.text ? 't' : 'b'}-${m.pushback ? 'p' : 'P'}`;
}

export function formatOutput(m: Readonly<OutputMode>): string {
  return `${m.text ? 't' : 'b'}${m.flush}${m.autoflush ? 'a' : 'A'}`;
}
