// Signal listeners seen from outside: child processes that must exit (or stay) as the listeners say.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const CHILD = new URL('../fixtures/signal-child.mjs', import.meta.url).pathname;

interface Run {
  out: () => string;
  /** Resolves once stdout holds `text`. */
  saw: (text: string) => Promise<void>;
  kill: (sig: NodeJS.Signals) => void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How long a child may run before it is killed (SIGKILL): a hang fails its test instead of stalling it. */
const CHILD_DEADLINE = 15_000;

function run(mode: string): Run {
  const child = spawn(process.execPath, [CHILD, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  const deadline = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE);
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    out: () => out + err,
    async saw(text) {
      while (!out.includes(text)) {
        if (done) throw new Error(`child exited; output: ${out}${err}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    kill: (sig) => child.kill(sig),
    exited,
  };
}

describe('listeners and the process', () => {
  it('an idle listener does not keep the process alive; it exits 0', { timeout: 20_000 }, async () => {
    const r = run('idle');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.out()).toBe('listening\n');
  });

  it('a pending wait keeps it alive until the signal comes from outside', { timeout: 20_000 }, async () => {
    const r = run('wait');
    await r.saw('ready\n');
    r.kill('SIGUSR2');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.out()).toBe('ready\ngot SIGUSR2\n');
  });

  it("closing the last listener puts Node's dispositions back (SIGPIPE ignored, SIGTERM its handler)", { timeout: 20_000 }, async () => {
    const r = run('restore');
    expect(await r.exited).toEqual({ code: null, signal: 'SIGTERM' });
    const lines = r.out().split('\n');
    const state = (label: string) => lines.find((l) => l.startsWith(`${label}: `))?.slice(label.length + 2);
    // The kernel's view (SigCgt/SigIgn): Node ignores SIGPIPE; while listened to, both are caught (libuv).
    expect(state('before')).toMatch(/^SIGTERM \w+ SIGPIPE ignored$/);
    expect(state('listening')).toBe('SIGTERM caught SIGPIPE caught');
    // After close, exactly as before the first listen. (Node's process.off would leave both at the default
    // action: SIGPIPE no longer ignored, and SIGTERM no longer Node's handler, which Node 20 installs.)
    expect(state('closed')).toBe(state('before'));
    expect(lines.filter((l) => !/^(before|listening|closed): /.test(l)).join('\n')).toBe('got SIGPIPE\nsurvived SIGPIPE\n');
  });

  it('fault signals are refused, so a WebAssembly out-of-bounds access stays a catchable RuntimeError', { timeout: 20_000 }, async () => {
    const r = run('fault'); // with a SIGSEGV listener in place the trap would spin until CHILD_DEADLINE
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.out()).toBe(
      'SIGSEGV ERR_INVALID_ARG_VALUE\nSIGBUS ERR_INVALID_ARG_VALUE\nSIGFPE ERR_INVALID_ARG_VALUE\nSIGILL ERR_INVALID_ARG_VALUE\ntrap RuntimeError\n',
    );
  });

  it("a worker's listener left open is released when the worker exits", { timeout: 20_000 }, async () => {
    const r = run('thread');
    expect(await r.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(r.out()).toBe('ready\nleft\n');
  });

  it('process.on keeps firing after a listener of the same signal closes', { timeout: 20_000 }, async () => {
    const r = run('node');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.out()).toBe('got SIGUSR2\nprocess.on fired 2\n');
  });
});
