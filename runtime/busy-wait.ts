// Busy waiting: a thread's event loop polls briefly before it sleeps (native/sys/busy_wait.h).
import { addon } from './native.js';
import { check } from './errors.js';

/**
 * Busy waiting for the calling thread's event loop: when it is about to sleep, it first polls its
 * descriptors for up to limitUs microseconds, if its last wait was no longer than that. 0 turns it off.
 * Returns the limit it replaces (0 if it was off), to put back later.
 *
 * Waking a sleeping thread costs both sides a trip through the kernel's scheduler, and on a VM waking an
 * idle vCPU costs tens of microseconds; two threads trading requests and replies pay it on every
 * exchange. Spinning instead trades CPU for latency, as Erlang's schedulers do by default; it stops as
 * soon as a spin finds nothing, so a thread that is idle or sees events farther apart than limitUs sleeps
 * at once. Only worth it with a CPU per busy thread: on one CPU the spin holds up the very thread it waits
 * for.
 * @throws RangeError ERR_OUT_OF_RANGE unless 0 <= limitUs <= 10000
 */
export function busyWait(limitUs: number): number {
  return check(addon.busyWait(limitUs), 'uv_prepare_init');
}
