// Runs one bench variant in a fresh Node process and collects the JSON line it prints.
import { spawnSync } from 'node:child_process';

/** The flag that tells a bench script it is a child running one variant. */
export const CHILD_FLAG = '--child';

/**
 * Runs `node --expose-gc <script> --child <variant>` and returns the object the child printed as the last
 * JSON line of its stdout. The child's stderr passes through.
 * @throws Error when the child fails or prints no JSON.
 */
export function runChild(script, variant, { nodeArgs = [], timeoutMs = 120_000 } = {}) {
  const args = ['--expose-gc', ...nodeArgs, script, CHILD_FLAG, variant];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  if (r.error) throw new Error(`${variant}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${variant}: child exited with ${r.status ?? r.signal}`);
  const line = r.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`${variant}: no JSON line in child output`);
  return JSON.parse(line);
}

/**
 * In a child: runs `fn` (async, returns a plain object), prints it as one JSON line and exits, so that
 * pending tasks (idle benches) cannot keep the process alive or trip the unsettled top-level-await check.
 */
export async function reportFromChild(fn) {
  const result = await fn();
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}
