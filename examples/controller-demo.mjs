// A tour of the controller: tasks, sleeps, a condition-driven pipeline, a stacked controller and failures.
import { Condition, Controller, monotime, sleep } from 'troupe';

const t0 = monotime();
const log = (...args) => console.log(`[${(monotime() - t0).toFixed(1).padStart(7)} ms]`, ...args);

// 1. Tasks on a controller of our own, run to completion by loop().
const c = new Controller();
for (const ms of [30, 10, 20]) {
  c.wrap(async (name, delay) => {
    await c.sleep(delay);
    log(`${name} woke after ${delay} ms`);
  }, `sleeper-${ms}`, ms);
}
await c.loop();

// 2. A producer and a consumer handing items over through a Condition.
const ready = new Condition({ controller: c });
const queue = [];
c.wrap(async () => {
  for (let i = 1; i <= 3; i++) {
    await c.sleep(5);
    queue.push(`item ${i}`);
    ready.signal();
  }
  queue.push(null);
  ready.signal();
});
c.wrap(async () => {
  for (;;) {
    while (queue.length === 0) await ready.wait();
    const item = queue.shift();
    if (item === null) break;
    log('consumed', item);
  }
});
await c.loop();

// 3. A controller stacked on another: the inner loop never blocks the outer one.
const inner = new Controller({ controller: c });
inner.wrap(async () => {
  await inner.sleep(15);
  log('inner task done');
});
c.wrap(async () => {
  await inner.loop();
  log('inner loop returned');
});
c.wrap(async () => {
  for (let i = 0; i < 3; i++) {
    await c.sleep(4);
    log('outer still ticking', i);
  }
});
await c.loop();

// 4. A failing task does not take the controller down: errors() reports it and keeps going.
c.wrap(async () => {
  await c.sleep(1);
  throw Object.assign(new Error('disk on fire'), { code: 'E_FIRE' });
});
c.wrap(async () => {
  await c.sleep(5);
  log('sibling finished despite the failure');
});
for await (const err of c.errors()) log(`task ${err.task.id} failed:`, err.cause.code, err.cause.message);

// 5. The root controller lives in Node's event loop: module-level sleep() needs no loop call.
await sleep(10);
log('root sleep done; stats:', JSON.stringify(c.stats()));
inner.close();
c.close();
