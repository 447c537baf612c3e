// Counts Condition waits while a test runs: a wake-everyone pattern shows as waits growing with the square of
// the waiters, a hand-over as one wait each.
import { Condition } from 'troupe';

/** Starts counting; call the returned restore() when done (an afterEach cleanup). */
export function countWaits(): { readonly counter: { n: number }; restore: () => void } {
  const proto = Condition.prototype;
  const orig = proto.wait;
  const counter = { n: 0 };
  proto.wait = function (this: Condition, ...args: Parameters<Condition['wait']>) {
    counter.n++;
    return orig.apply(this, args);
  };
  return { counter, restore: () => void (proto.wait = orig) };
}
