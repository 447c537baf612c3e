// signal.listen / signal.raise: deliveries reach listeners on the main thread and in workers, coalesce,
// time out, poll, close; Node's own handlers keep working alongside.
import { describe, expect, it } from 'vitest';
import { Controller, SignalListener, Socket, monotime, poll, signal, thread } from 'troupe';

const WORKER = new URL('../fixtures/signal-worker.mjs', import.meta.url);

/** Starts the fixture worker listening to sigs; resolves once its listener exists. */
async function worker(...sigs: NodeJS.Signals[]): Promise<{ t: Awaited<ReturnType<typeof thread.start>>[0]; chan: Socket }> {
  const [t, chan] = await thread.start(WORKER, sigs);
  expect(await chan.read('*l', { timeoutMs: 10_000 })).toMatch(/^ready \d+$/);
  return { t, chan };
}

async function ask(chan: Socket, cmd: string): Promise<string | null> {
  await chan.write(`${cmd}\n`);
  return chan.read('*l', { timeoutMs: 10_000 });
}

describe('signal.listen on the main thread', () => {
  it('a raised signal reaches the listener', async () => {
    const sl = signal.listen('SIGUSR2');
    expect(sl).toBeInstanceOf(SignalListener);
    expect(sl.signals).toEqual(['SIGUSR2']);
    signal.raise('SIGUSR2');
    expect(await sl.wait(5000)).toBe('SIGUSR2');
    sl.close();
  });

  it('a signal sent to the process (kill) reaches it too', async () => {
    const sl = signal.listen('SIGUSR2');
    process.kill(process.pid, 'SIGUSR2');
    expect(await sl.wait(5000)).toBe('SIGUSR2');
    sl.close();
  });

  it('repeats of a signal before a wait coalesce into one', async () => {
    const sl = signal.listen('SIGUSR2');
    for (let i = 0; i < 5; i++) signal.raise('SIGUSR2');
    expect(await sl.wait(5000)).toBe('SIGUSR2');
    expect(await sl.wait(100)).toBeNull();
    sl.close();
  });

  it('different signals are each reported, one per wait, lowest-numbered first', async () => {
    const sl = signal.listen('SIGWINCH', 'SIGUSR2', 'SIGHUP');
    signal.raise('SIGWINCH');
    signal.raise('SIGUSR2');
    signal.raise('SIGHUP');
    // NB: raise() runs the handler before it returns, so the loop reads all three deliveries at once.
    expect([await sl.wait(5000), await sl.wait(5000), await sl.wait(5000)]).toEqual(['SIGHUP', 'SIGUSR2', 'SIGWINCH']);
    expect(await sl.wait(0)).toBeNull();
    sl.close();
  });

  it('reports each signal under the name it was listened to by', async () => {
    const sl = signal.listen('SIGIOT', 'SIGIOT');
    expect(sl.signals).toEqual(['SIGIOT']);
    signal.raise('SIGABRT');
    expect(await sl.wait(5000)).toBe('SIGIOT');
    sl.close();
  });

  it('wait resolves null at its timeout, and 0 only looks', async () => {
    const sl = signal.listen('SIGUSR2');
    const t0 = monotime();
    expect(await sl.wait(60)).toBeNull();
    const took = monotime() - t0;
    expect(took).toBeGreaterThanOrEqual(55);
    expect(took).toBeLessThan(5000);
    expect(await sl.wait(0)).toBeNull();
    expect(await sl.wait(-5)).toBeNull();
    sl.close();
  });

  it('a wait without a timeout waits until the signal comes', async () => {
    const sl = signal.listen('SIGUSR2');
    let got: string | null | undefined;
    const waiting = sl.wait().then((s) => (got = s));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(got).toBeUndefined();
    process.kill(process.pid, 'SIGUSR2');
    await waiting;
    expect(got).toBe('SIGUSR2');
    sl.close();
  });

  it('every listener sees every delivery', async () => {
    const a = signal.listen('SIGUSR2');
    const b = signal.listen('SIGUSR2', 'SIGHUP');
    signal.raise('SIGUSR2');
    expect(await a.wait(5000)).toBe('SIGUSR2');
    expect(await b.wait(5000)).toBe('SIGUSR2');
    a.close();
    b.close();
  });

  it("Node's process.on handler still fires alongside, and after the listener closes", async () => {
    let fired = 0;
    const onSig = (): void => void fired++;
    process.on('SIGUSR2', onSig);
    try {
      const sl = signal.listen('SIGUSR2');
      signal.raise('SIGUSR2');
      expect(await sl.wait(5000)).toBe('SIGUSR2');
      for (let i = 0; i < 250 && fired < 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(fired).toBe(1);
      sl.close();
      signal.raise('SIGUSR2');
      for (let i = 0; i < 250 && fired < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(fired).toBe(2);
    } finally {
      process.off('SIGUSR2', onSig);
    }
  });
});

describe('SignalListener is a Pollable', () => {
  it('poll() returns it once a signal is pending, and times out otherwise', async () => {
    const sl = signal.listen('SIGUSR2');
    expect(await poll(sl, 50)).toEqual([50]);
    signal.raise('SIGUSR2');
    expect(await poll(sl, 5000)).toEqual([sl]);
    expect(sl.events()).toBe('r');
    expect(typeof sl.pollfd()).toBe('number');
    expect(await sl.wait(0)).toBe('SIGUSR2');
    sl.close();
  });

  it('a stacked controller polls it through its own poller', async () => {
    const sl = signal.listen('SIGUSR2');
    const c = new Controller();
    const task = c.wrap(async () => {
      const ready = await c.poll(sl, 5000);
      return ready[0] === sl ? await sl.wait(0) : 'timeout';
    });
    setTimeout(() => signal.raise('SIGUSR2'), 20);
    await c.loop(10_000);
    expect(await task.done).toBe('SIGUSR2');
    c.close();
    sl.close();
  });
});

describe('signals and threads', () => {
  it('a signal sent to the process reaches a listener in a worker thread', async () => {
    const { t, chan } = await worker('SIGUSR2');
    // NB: the main thread listens too, so the signal is caught whatever happens in the worker.
    const mine = signal.listen('SIGUSR2');
    const answer = ask(chan, 'wait 10000');
    process.kill(process.pid, 'SIGUSR2');
    expect(await answer).toBe('SIGUSR2');
    expect(await mine.wait(5000)).toBe('SIGUSR2');
    expect(await ask(chan, 'wait 0')).toBe('null');
    chan.close();
    expect(await t.join(10_000)).toBe('eof');
    mine.close();
  });

  it('reaches listeners on the main thread and in two workers at once', async () => {
    const a = await worker('SIGHUP', 'SIGUSR2');
    const b = await worker('SIGUSR2');
    const mine = signal.listen('SIGUSR2');
    const answers = [ask(a.chan, 'wait 10000'), ask(b.chan, 'wait 10000')];
    signal.raise('SIGUSR2');
    expect(await Promise.all(answers)).toEqual(['SIGUSR2', 'SIGUSR2']);
    expect(await mine.wait(5000)).toBe('SIGUSR2');
    for (const w of [a, b]) {
      w.chan.close();
      await w.t.join(10_000);
    }
    mine.close();
  });

  it("a worker's listener closed there or left open at thread exit is released", async () => {
    const a = await worker('SIGUSR2');
    expect(await ask(a.chan, 'close')).toBe('closed');
    const b = await worker('SIGUSR2');
    await b.chan.write('leave\n');
    expect(await b.t.join(10_000)).toBe('left');
    a.chan.close();
    b.chan.close();
    await a.t.join(10_000);
    // The leak gate checks that both eventfds are gone; signal-child.mjs 'thread' that the watch is too.
  });

  it('a terminated worker releases its listener', async () => {
    const { t, chan } = await worker('SIGUSR2');
    await t.terminate();
    chan.close();
  });
});

describe('closing', () => {
  it('close is idempotent; wait after close rejects ERR_HANDLE_CLOSED; pollfd is undefined', async () => {
    const sl = signal.listen('SIGUSR2');
    sl.close();
    sl.close();
    expect(sl.closed).toBe(true);
    await expect(sl.wait(10)).rejects.toMatchObject({ name: 'RuntimeError', code: 'ERR_HANDLE_CLOSED' });
    expect(sl.pollfd()).toBeUndefined();
    expect(sl.timeout()).toBe(0);
    // A closed listener is returned by poll at once, so the poller's next wait() reports the close.
    expect(await poll(sl, 5000)).toEqual([sl]);
  });

  it('close while a wait is pending rejects that wait', async () => {
    const sl = signal.listen('SIGUSR2');
    const pending = sl.wait();
    await new Promise((resolve) => setTimeout(resolve, 10));
    sl.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
  });

  it('await using closes it', async () => {
    let kept: SignalListener;
    {
      await using sl = signal.listen('SIGUSR2');
      kept = sl;
      signal.raise('SIGUSR2');
      expect(await sl.wait(5000)).toBe('SIGUSR2');
    }
    expect(kept.closed).toBe(true);
  });

  it('many listeners opened and closed leave nothing behind', async () => {
    for (let i = 0; i < 200; i++) signal.listen('SIGUSR2', 'SIGHUP', 'SIGWINCH').close();
    const sl = signal.listen('SIGUSR2');
    signal.raise('SIGUSR2');
    expect(await sl.wait(5000)).toBe('SIGUSR2');
    sl.close();
  });
});

describe('bad arguments', () => {
  const code = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (err) {
      return { name: (err as Error).name, code: (err as { code?: string }).code, message: (err as Error).message };
    }
    return 'no error';
  };

  it('unknown names, non-strings, no signal at all', () => {
    expect(code(() => signal.listen('SIGFOO' as NodeJS.Signals))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('SIGFOO') });
    expect(code(() => signal.listen('sigterm' as NodeJS.Signals))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(code(() => signal.listen('toString' as NodeJS.Signals))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(code(() => signal.listen('SIGUSR2', 15 as unknown as NodeJS.Signals))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('sigs[1]') });
    expect(code(() => signal.listen())).toMatchObject({ name: 'TypeError', code: 'ERR_MISSING_ARGS' });
  });

  it('SIGKILL and SIGSTOP cannot be listened to', () => {
    for (const sig of ['SIGKILL', 'SIGSTOP'] as const) {
      expect(code(() => signal.listen('SIGUSR2', sig))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('cannot be caught') });
    }
  });

  it('SIGSEGV, SIGBUS, SIGFPE and SIGILL cannot be listened to (they would hang a WebAssembly trap)', () => {
    for (const sig of ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL'] as const) {
      let got: unknown = 'no error';
      try {
        // NB: closed at once should the listen succeed, so a fault listener never outlives this line.
        signal.listen('SIGUSR2', sig).close();
      } catch (err) {
        got = { name: (err as Error).name, code: (err as { code?: string }).code, message: (err as Error).message };
      }
      expect(got).toMatchObject({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(new RegExp(`sigs\\[1\\].*report faults.*WebAssembly.*Received .*'${sig}'`)),
      });
    }
  });

  it('raise checks its name; wait its timeout, synchronously', () => {
    expect(code(() => signal.raise('SIGNOPE' as NodeJS.Signals))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(code(() => signal.raise(undefined as unknown as NodeJS.Signals))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    const sl = signal.listen('SIGUSR2');
    expect(code(() => sl.wait('10' as unknown as number))).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(code(() => sl.wait(Number.NaN))).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    sl.close();
  });
});
