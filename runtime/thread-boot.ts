// A troupe thread's first code: adopts its sockets, runs the entry as a root task, reports the outcome.
import { parentPort, workerData } from 'node:worker_threads';
import { Controller } from './controller.js';
import { toWire } from './error-wire.js';
import { Socket } from './socket/socket.js';
import { SOCKET_ARG, type BootData } from './thread.js';

const boot = workerData as BootData;
// NB: first of all, before anything can fail: from here this thread owns the descriptors (thread.ts).
const channel = Socket.attach(boot.channel);
const sockets = boot.sockets.map((d) => Socket.attach(d));
parentPort!.postMessage({ started: true });

const args = boot.args.map((a) => (a !== null && typeof a === 'object' && SOCKET_ARG in a ? sockets[(a as Record<string, number>)[SOCKET_ARG]!] : a));

try {
  const fn =
    'source' in boot.entry
      ? (new Function(`return (${boot.entry.source});`)() as (...a: unknown[]) => unknown)
      : ((await import(boot.entry.module)) as { default: (...a: unknown[]) => unknown }).default;
  if (typeof fn !== 'function') throw new TypeError(`the thread entry's default export is not a function`);
  const value = await Controller.root().wrap(fn, channel, ...args).done;
  try {
    parentPort!.postMessage({ ok: true, value });
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: toWire(err) });
  }
} catch (err) {
  parentPort!.postMessage({ ok: false, error: toWire(err) });
}
// As the original: the thread ends when its entry returns. Sockets left open are closed at exit.
process.exit(0);
