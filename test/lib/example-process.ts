// Example programs as child processes: start one, wait for "listening P", drive it over Node `net`.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Server {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `node <script> --port 0 ...args` and resolves once it printed `listening P`. */
export function start(script: string, ...args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [script, '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  // 'close' comes after the exit and after both pipes are closed: nothing of the child is left open here.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^listening (\d+)$/m.exec(out);
      if (m) resolve({ child, port: Number(m[1]), stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`${script} exited (${code}) before listening: ${err}`)));
  });
}

/** Sends sig and waits for the child to be gone; returns its exit code. */
export async function stop(s: Server, sig: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  s.child.kill(sig);
  return s.exited;
}

/** A Node `net` client that collects what arrives and lets a test wait for it. */
export class Client {
  readonly sock: net.Socket;
  data = '';
  #waiters: (() => void)[] = [];
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => {
      this.data += d;
      for (const w of this.#waiters.splice(0)) w();
    });
    this.sock.on('error', () => {});
    this.closed = new Promise((resolve) => this.sock.on('close', () => {
      for (const w of this.#waiters.splice(0)) w();
      resolve();
    }));
  }

  connected(): Promise<void> {
    return new Promise((resolve) => (this.sock.connecting ? this.sock.once('connect', () => resolve()) : resolve()));
  }

  /** Waits until what arrived satisfies pred (or the connection closed: pred is then checked once more). */
  async until(pred: (data: string) => boolean): Promise<string> {
    while (!pred(this.data)) {
      if (this.sock.destroyed) throw new Error(`connection closed; got ${JSON.stringify(this.data)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.data;
  }

  /** Waits until at least n lines arrived; returns all of them. */
  async lines(n: number): Promise<string[]> {
    await this.until((d) => d.split('\n').length > n);
    return this.data.split('\n').slice(0, -1);
  }

  write(s: string): void {
    this.sock.write(s);
  }

  async close(): Promise<void> {
    this.sock.destroy();
    await this.closed;
  }
}

/**
 * The echo servers' shared scenario: one client resets mid-line while another is being served; the other,
 * and a client that connects afterwards, are still echoed. Leaves the server running.
 */
export async function resetEndsOnlyItsConnection(s: Server): Promise<void> {
  const a = new Client(s.port);
  const b = new Client(s.port);
  a.write('a1\n');
  b.write('b1\n');
  await a.until((d) => d === 'a1\n');
  await b.until((d) => d === 'b1\n');
  a.write('half a line');
  a.sock.resetAndDestroy();
  await a.closed;
  b.write('b2\n');
  await b.until((d) => d === 'b1\nb2\n');
  const late = new Client(s.port);
  late.write('still here\n');
  await late.until((d) => d === 'still here\n');
  await b.close();
  await late.close();
}
