// Actors for bench/actors.mjs, exported so that worker threads can load them by module URL + export name.
import { defineActor } from 'troupe/actors';

/** Replies to every ask with the message itself. */
export const echo = defineActor(async (ctx) => {
  for await (const m of ctx) ctx.reply(m);
});

/** Counts messages; the message 'count' is answered (as an ask) with the count so far and not counted. */
export const counter = defineActor(async (ctx) => {
  let n = 0;
  for await (const m of ctx) {
    if (m === 'count') ctx.reply(n);
    else n++;
  }
});

/** Waits on its mailbox and does nothing: the unit of the bytes-per-idle-actor figure. */
export const idle = defineActor(async (ctx) => {
  // eslint-disable-next-line no-unused-vars
  for await (const _ of ctx);
});
