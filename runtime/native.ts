// The sole loader of the addon: each thread (main or worker) gets its own instance of it.
import { createRequire } from 'node:module';

/** The native poller: epoll + eventfd alert + timerfd. Methods return -errno on failure. */
export interface NativePoller {
  open(): number;
  fd(): number;
  set(fd: number, events: number, token: number): number;
  mask(fd: number): number;
  size(): number;
  alert(): number;
  arm(delayMs: number): number;
  disarm(): number;
  wait(timeoutMs: number, out: Int32Array): number;
  embed(onReadable: () => void): number;
  ref(on: boolean): void;
  close(): void;
}

interface Addon {
  Poller: new () => NativePoller;
  fdFlags(fd: number): number;
}

const require = createRequire(import.meta.url);
// NB: dist/runtime/native.js and runtime/native.ts both sit two levels below the package root.
export const addon: Addon = require('../../build/Release/troupe.node');

export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const FLAG_CLOEXEC = 1;
export const FLAG_NONBLOCK = 2;
