// Server processes for benches: start one on an ephemeral port, stop it, and account its CPU from /proc.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/**
 * Starts `node <argv> --port 0 --host 127.0.0.1` in `cwd`; resolves once it printed `listening P`.
 * @returns {{ child, port: string, stop(): Promise<void> }} stop() sends SIGTERM and fails unless it exits 0.
 */
export function startServer(argv, cwd) {
  const child = spawn(process.execPath, [...argv, '--port', '0', '--host', '127.0.0.1'], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  const closed = new Promise((resolve) => child.on('close', (code, sig) => resolve(code ?? sig)));
  const stop = async () => {
    child.kill('SIGTERM');
    const code = await closed;
    if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code} on SIGTERM`);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /^listening (\d+)$/m.exec(out);
      if (m) resolve({ child, port: m[1], stop });
    });
    closed.then((code) => reject(new Error(`${argv.join(' ')} exited (${code}) before listening`)));
  });
}

/** [pid, ppid, utime + stime] of a process (or `pid/task/tid`) from /proc, or undefined if it is gone. */
function stat(pid) {
  let s;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the name (which may hold spaces and parentheses): state is [0], ppid [1], utime [11], stime [12].
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return [Number(pid), Number(f[1]), Number(f[11]) + Number(f[12])];
}

/**
 * utime + stime, in clock ticks, of `pid` and all its descendants (a cluster's primary and workers; a
 * process's threads are already in its own figure). NB: this kernel has no /proc/<pid>/task/<tid>/children,
 * so the tree is found from every process's ppid.
 */
export function treeTicks(pid) {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(stat).filter((x) => x !== undefined);
  const kids = new Map();
  for (const [p, pp] of all) (kids.get(pp) ?? kids.set(pp, []).get(pp)).push(p);
  const ticks = new Map(all.map(([p, , t]) => [p, t]));
  let sum = 0;
  for (const todo = [pid]; todo.length > 0; ) {
    const p = todo.pop();
    sum += ticks.get(p) ?? 0;
    todo.push(...(kids.get(p) ?? []));
  }
  return sum;
}

/** utime + stime, in clock ticks, of every thread in `pid`'s tree: a Map from thread id. */
export function threadTicks(pid) {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(stat).filter((x) => x !== undefined);
  const out = new Map();
  for (const todo = [pid]; todo.length > 0; ) {
    const p = todo.pop();
    for (const [c, pp] of all) if (pp === p) todo.push(c);
    let tids = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tids) {
      const t = stat(`${p}/task/${tid}`);
      if (t !== undefined) out.set(tid, t[2]);
    }
  }
  return out;
}
