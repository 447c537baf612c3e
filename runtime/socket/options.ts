// The options of socket constructors and reads.
import type { Controller } from '../controller.js';
import type { Endpoint } from './address.js';
import type { BindOptions, DialOptions } from './setup.js';
import type { TlsOptions } from './tls.js';

/** Options of every socket constructor. */
export interface SocketOptions {
  /** The controller the socket waits through. Default: the thread's root controller. */
  controller?: Controller;
  /** Default timeout of every blocking call, in ms (settimeout). */
  timeoutMs?: number;
  /** Encoding of read()/lines() results. Default 'utf8'. */
  encoding?: BufferEncoding;
  /** Input and output modes (setmode), e.g. ['b', 'bn'] for a raw binary socket. */
  modes?: [input?: string, output?: string];
}

/** Options of connect(): where to, plus `bind` (a local address first) and `nodelay` (TCP_NODELAY). */
export interface ConnectOptions extends SocketOptions, Endpoint, DialOptions {
  /** TLS after the connect (a client; true: default options), in the background as DNS and connect. */
  tls?: boolean | TlsOptions;
}

/**
 * Options of listen(): where, plus for unix paths `unlink` (remove a stale socket file), `mode` (its
 * permissions, 0o660 or '0660') or `mask` (permissions cleared, as a umask), and `reuseaddr` (default
 * true), `reuseport` (default false), `backlog` (511).
 */
export interface ListenOptions extends SocketOptions, Endpoint, BindOptions {}

/** Per-call read options. */
export interface ReadOptions {
  timeoutMs?: number;
  /** Input mode for this call only, on top of the socket's (e.g. 'b'). */
  mode?: string;
}
