// Controller: wrap, step, loop, errors, sleep, poll, cancel, close, stacking — through the public API.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Condition, Controller, Task, TaskError, monotime, poll, sleep } from 'troupe';

/** A pollable on an idle controller's fd: readable exactly when that controller gets work. */
function fdPollable(c: Controller) {
  return { pollfd: () => c.pollfd(), events: () => 'r' as const };
}

describe('wrap', () => {
  it('never runs the function synchronously and passes its arguments', async () => {
    const c = new Controller();
    const seen: unknown[] = [];
    const task = c.wrap((...args: unknown[]) => {
      seen.push(args);
    }, 1, undefined, 'three');
    expect(seen).toEqual([]);
    expect(task).toBeInstanceOf(Task);
    expect(task.controller).toBe(c);
    expect(c.count).toBe(1);
    await c.loop();
    expect(seen).toEqual([[1, undefined, 'three']]);
    expect(c.count).toBe(0);
    c.close();
  });

  it('gives each task a distinct id and a done promise with its return value', async () => {
    const c = new Controller();
    const a = c.wrap(async () => 'a');
    const b = c.wrap(() => 42);
    expect(a.id).not.toBe(b.id);
    await c.loop();
    await expect(a.done).resolves.toBe('a');
    await expect(b.done).resolves.toBe(42);
    c.close();
  });

  it('runs root tasks from Node\'s own loop, with no explicit loop call', async () => {
    const root = Controller.root();
    const task = root.wrap(async (x: number) => {
      await root.sleep(5);
      return x * 2;
    }, 21);
    await expect(task.done).resolves.toBe(42);
  });

  it('rejects bad arguments with Node codes, synchronously', () => {
    const c = new Controller();
    expect(() => c.loop(NaN)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => c.step('1' as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => c.errors(NaN)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => c.sleep(NaN)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => c.wrap(123 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new Controller(5 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new Controller({ controller: {} as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    c.close();
  });
});

describe('task failures', () => {
  it('loop rejects with a TaskError carrying the task and the thrown value; siblings keep running', async () => {
    const c = new Controller();
    const boom = new Error('boom');
    let sibling = 0;
    c.wrap(async () => {
      for (let i = 0; i < 5; i++) {
        await c.sleep(2);
        sibling++;
      }
    });
    const bad = c.wrap(async () => {
      await c.sleep(1);
      throw boom;
    });
    const err = await c.loop().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect(err).toMatchObject({ code: 'ERR_TASK_FAILED', task: bad, cause: boom });
    await expect(bad.done).rejects.toBe(boom);
    // The controller is still usable and the sibling finishes.
    await c.loop();
    expect(sibling).toBe(5);
    c.wrap(() => {
      sibling = -1;
    });
    await c.loop();
    expect(sibling).toBe(-1);
    c.close();
  });

  it('step rejects with the TaskError of a synchronous throw, then works again', async () => {
    const c = new Controller();
    const thrown = { not: 'an Error' };
    const t = c.wrap(() => {
      throw thrown;
    });
    await expect(c.step()).rejects.toMatchObject({ code: 'ERR_TASK_FAILED', task: t, cause: thrown });
    let ran = false;
    c.wrap(() => {
      ran = true;
    });
    await c.step();
    expect(ran).toBe(true);
    c.close();
  });

  it('errors() yields every failure in order and ends when no task is left', async () => {
    const c = new Controller();
    const order: number[] = [];
    for (const [i, ms] of [[1, 5], [2, 15], [3, 25]] as const) {
      c.wrap(async () => {
        await c.sleep(ms);
        throw new Error(`e${i}`);
      });
    }
    c.wrap(async () => {
      await c.sleep(40);
    });
    for await (const err of c.errors()) order.push(Number((err.cause as Error).message.slice(1)));
    expect(order).toEqual([1, 2, 3]);
    expect(c.count).toBe(0);
    c.close();
  });

  it('errors(timeout) ends at its timeout with tasks still pending', async () => {
    const c = new Controller();
    c.wrap(async () => {
      throw new Error('first');
    });
    c.wrap(() => c.sleep(60_000));
    const t0 = monotime();
    const seen: string[] = [];
    for await (const err of c.errors(50)) seen.push((err.cause as Error).message);
    expect(seen).toEqual(['first']);
    expect(monotime() - t0).toBeGreaterThanOrEqual(49);
    expect(c.count).toBe(1);
    c.close();
  });
});

describe('sleep', () => {
  for (const ms of [1, 50, 1000]) {
    it(`never returns early (${ms} ms), on the root and on a controller`, async () => {
      const t0 = monotime();
      await sleep(ms);
      expect(monotime() - t0).toBeGreaterThanOrEqual(ms);
      const c = new Controller();
      let elapsed = -1;
      c.wrap(async () => {
        const t1 = monotime();
        await c.sleep(ms);
        elapsed = monotime() - t1;
      });
      await c.loop();
      expect(elapsed).toBeGreaterThanOrEqual(ms);
      expect(elapsed).toBeLessThan(ms + 1000);
      c.close();
    });
  }

  it('many sleeps with scattered deadlines wake in deadline order, to the millisecond', async () => {
    const c = new Controller();
    const woke: number[] = [];
    const ms = Array.from({ length: 200 }, (_, i) => (i * 37) % 120);
    for (const m of ms) {
      c.wrap(async () => {
        const deadline = monotime() + m;
        await c.sleep(m);
        expect(monotime()).toBeGreaterThanOrEqual(deadline);
        woke.push(deadline);
      });
    }
    await c.loop();
    expect(woke).toHaveLength(ms.length);
    // Timers are kept to whole milliseconds: within one, insertion order decides.
    for (let i = 1; i < woke.length; i++) expect(woke[i]!).toBeGreaterThanOrEqual(woke[i - 1]! - 1);
    c.close();
  });
});

describe('loop and step', () => {
  it('loop(timeout) returns at the timeout with tasks still pending', async () => {
    const c = new Controller();
    c.wrap(() => c.sleep(10_000));
    const t0 = monotime();
    await c.loop(50);
    const took = monotime() - t0;
    expect(took).toBeGreaterThanOrEqual(49);
    expect(took).toBeLessThan(5000);
    expect(c.count).toBe(1);
    expect(c.empty()).toBe(false);
    c.close();
  });

  it('loop on an empty controller returns at once', async () => {
    const c = new Controller();
    const t0 = monotime();
    await c.loop();
    expect(monotime() - t0).toBeLessThan(1000);
    expect(c.empty()).toBe(true);
    c.close();
  });

  it('step(timeout) waits for work but returns at its timeout', async () => {
    const c = new Controller();
    c.wrap(() => c.sleep(10_000));
    await c.step(); // starts the task
    const t0 = monotime();
    await c.step(30);
    expect(monotime() - t0).toBeGreaterThanOrEqual(29);
    expect(c.count).toBe(1);
    c.close();
  });

  it('reports stats and a timeout() that reflects runnable work and timers', async () => {
    const c = new Controller();
    expect(c.timeout()).toBeUndefined();
    c.wrap(() => c.sleep(500));
    expect(c.timeout()).toBe(0);
    await c.step();
    const t = c.timeout()!;
    expect(t).toBeGreaterThan(400);
    expect(t).toBeLessThanOrEqual(501);
    const s = c.stats();
    expect(s).toMatchObject({ tasks: 1, timers: 1, failures: 0 });
    expect(s.steps).toBeGreaterThanOrEqual(1);
    c.close();
  });
});

describe('poll', () => {
  it('returns the ready subset in argument order', async () => {
    const a = new Condition();
    const b = new Condition();
    const idle = new Condition();
    const p = poll(b, idle, a, 5000);
    a.signal();
    b.signal();
    expect(await p).toEqual([b, a]);
  });

  it('handles many arguments: readiness past the 28th is reported in order too', async () => {
    const cvs = Array.from({ length: 40 }, () => new Condition());
    const p = poll(...cvs, 5000);
    cvs[35]!.signal();
    cvs[2]!.signal();
    cvs[30]!.signal();
    expect(await p).toEqual([cvs[2], cvs[30], cvs[35]]);
  });

  it('returns a number when it fires as a timeout, and the earliest one', async () => {
    const cv = new Condition();
    const t0 = monotime();
    expect(await poll(cv, 200, 20)).toEqual([20]);
    expect(monotime() - t0).toBeGreaterThanOrEqual(20);
    expect(await poll(0)).toEqual([0]);
  });

  it("returns an object whose own timeout() fired, as if ready", async () => {
    const timed = { pollfd: () => undefined, timeout: () => 15 };
    expect(await poll(timed, 1000)).toEqual([timed]);
  });

  it('wakes for a ready descriptor and keeps fd registrations balanced', async () => {
    const inner = new Controller();
    const obj = fdPollable(inner);
    const p = poll(obj, 5000);
    await sleep(10);
    inner.wrap(() => {}); // raises inner's alert: its fd becomes readable
    expect(await p).toEqual([obj]);
    await inner.loop();
    // The fd is idle again: a later poll times out instead of waking.
    expect(await poll(obj, 20)).toEqual([20]);
    inner.close();
  });

  it('rejects an fd the kernel refuses, with a code', async () => {
    await expect(poll({ pollfd: () => 99_999 })).rejects.toMatchObject({ code: 'EBADF', syscall: 'epoll_ctl' });
    await expect(poll({ pollfd: () => 'x' } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('cancel', () => {
  it('wakes pollers of a descriptor as if it were ready and forgets it', async () => {
    const idle = new Controller();
    const c = new Controller();
    const obj = fdPollable(idle);
    let got: unknown[] | undefined;
    c.wrap(async () => {
      got = await c.poll(obj, 5000);
    });
    await c.step();
    expect(c.stats().fds).toBe(1);
    c.cancel(obj);
    await c.loop();
    expect(got).toEqual([obj]);
    expect(c.stats().fds).toBe(0);
    c.close();
    idle.close();
  });
});

describe('close', () => {
  it('from its own task rejects with ERR_CONTROLLER_RUNNING, at the start and after an await', async () => {
    const c = new Controller();
    c.wrap(() => c.close());
    await expect(c.loop()).rejects.toMatchObject({ code: 'ERR_TASK_FAILED', cause: { code: 'ERR_CONTROLLER_RUNNING' } });
    c.wrap(async () => {
      await c.sleep(1);
      c.close();
    });
    await expect(c.loop()).rejects.toMatchObject({ cause: { code: 'ERR_CONTROLLER_RUNNING' } });
    expect(c.closed).toBe(false);
    c.close();
    expect(c.closed).toBe(true);
  });

  it('is idempotent, and any use afterwards throws ERR_CONTROLLER_CLOSED', async () => {
    const c = new Controller();
    c.close();
    c.close();
    const closed = { code: 'ERR_CONTROLLER_CLOSED' };
    expect(() => c.wrap(() => {})).toThrow(expect.objectContaining(closed));
    expect(() => c.pollfd()).toThrow(expect.objectContaining(closed));
    await expect(c.sleep(1)).rejects.toMatchObject(closed);
    await expect(c.poll(1)).rejects.toMatchObject(closed);
    await expect(c.loop()).rejects.toMatchObject(closed);
    await expect(c.step()).rejects.toMatchObject(closed);
  });

  it('wakes a task of another controller that polls it, and settles pending tasks', async () => {
    const c = new Controller();
    const pending = c.wrap(() => c.sleep(10_000));
    await c.step();
    const p = poll(c, 5000);
    await sleep(5);
    c.close();
    expect(await p).toEqual([c]);
    await expect(pending.done).rejects.toMatchObject({ code: 'ERR_CONTROLLER_CLOSED' });
  });

  it('with await using, closes at the end of the scope', async () => {
    let fd = -1;
    {
      await using c = new Controller();
      fd = c.pollfd();
      c.wrap(() => {});
      await c.loop();
    }
    expect(() => readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')).toThrow();
  });
});

describe('the poller fd', () => {
  it('is CLOEXEC and non-blocking, as its eventfd and timerfd', () => {
    const c = new Controller();
    const flags = parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${c.pollfd()}`, 'utf8'))![1]!, 8);
    expect(flags & 0o2000000).toBe(0o2000000); // O_CLOEXEC
    // The epoll set holds the alert and the timer: both are listed, with their own fds.
    const info = readFileSync(`/proc/self/fdinfo/${c.pollfd()}`, 'utf8');
    const tfds = [...info.matchAll(/tfd:\s+(\d+)/g)].map((m) => Number(m[1]));
    expect(tfds).toHaveLength(2);
    for (const fd of tfds) {
      const f = parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
      expect(f & 0o2004000).toBe(0o2004000); // O_CLOEXEC | O_NONBLOCK
    }
    c.close();
  });
});
