// A framed message channel over a troupe Socket: batched writes, a reader task, close on corruption.
import { Controller, RuntimeError, type Socket } from 'troupe';
import { FrameDecoder, FrameEncoder } from './codec.js';

/** Callbacks of a {@link Channel}. */
export interface ChannelHandlers {
  /** Each message, in the order sent. */
  message(msg: unknown): void;
  /** The channel ended: cleanly (peer closed, or close()) or with the error that ended it. */
  closed?(err?: unknown): void;
}

const READ_CHUNK = -65536; // whatever is there, up to 64 KiB

/**
 * Messages both ways over one socket (a socketpair between two threads). send() never blocks: messages
 * sent in one turn go out as consecutive frames in one write. A frame that does not decode closes the
 * channel with ERR_INVALID_FRAME: the peer is broken, this side lives on.
 */
export class Channel {
  readonly #sock: Socket;
  readonly #handlers: ChannelHandlers;
  readonly #enc = new FrameEncoder();
  readonly #dec = new FrameDecoder();
  #queue: unknown[] = [];
  #flushing = false;
  #closed = false;

  constructor(sock: Socket, handlers: ChannelHandlers, controller: Controller = Controller.root()) {
    this.#sock = sock;
    this.#handlers = handlers;
    sock.setmode('b', 'bf');
    controller.wrap(() => this.#read());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues msg; the queue goes out in one write at the end of this turn. @throws ERR_HANDLE_CLOSED */
  send(msg: unknown): void {
    if (this.#closed) throw new RuntimeError('ERR_HANDLE_CLOSED', 'channel is closed');
    this.#queue.push(msg);
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => void this.#flush());
    }
  }

  /** Closes the channel and its socket; handlers.closed runs once. */
  close(err?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#sock.close();
    this.#handlers.closed?.(err);
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const batch = this.#queue;
        this.#queue = [];
        await this.#sock.write(this.#enc.encodeAll(batch));
        await this.#sock.flush();
      }
    } catch (err) {
      this.close(err);
    } finally {
      this.#flushing = false;
    }
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        const chunk = await this.#sock.readBytes(READ_CHUNK);
        if (chunk === null) break; // the peer closed
        for (const msg of this.#dec.push(chunk)) {
          if (this.#closed) return;
          this.#handlers.message(msg);
        }
      }
      this.close();
    } catch (err) {
      // Closed here already, a corrupt frame, or the socket failed: end the channel, not the thread.
      if (!this.#closed) this.close((err as { code?: string }).code === 'ERR_HANDLE_CLOSED' ? undefined : err);
    }
  }
}
