// Reporting helpers for benches: medians, number formatting, aligned tables, machine info.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Median of a non-empty list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Formats a number with at most `digits` decimals and thousands separators. */
export function fmt(x, digits = 0) {
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * Renders rows (arrays of strings) under `header` as a Markdown table with padded columns, readable
 * both in a terminal and in a .md file. Columns listed in `right` are right-aligned.
 */
export function table(header, rows, right = new Set()) {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const pad = (s, c) => (right.has(c) ? s.padStart(widths[c]) : s.padEnd(widths[c]));
  const line = (cells) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (right.has(c) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Node version, CPU model, core count, memory, kernel and 1-minute load (others' work skews timings). */
export function machineInfo() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpu;
  } catch {
    // Not Linux: os.cpus() is good enough.
  }
  return {
    node: process.version,
    cpu,
    nproc: os.availableParallelism(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    load1: os.loadavg()[0],
  };
}

/**
 * The commit being measured, flagged when `paths` (e.g. runtime/, native/) have uncommitted changes, so a
 * result can be tied to the code it measured. Returns 'unknown' outside a git checkout.
 */
export function sourceState(cwd, paths = []) {
  try {
    const git = (...args) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = paths.length > 0 && git('status', '--porcelain', '--', ...paths) !== '';
    return dirty ? `${commit} + uncommitted changes in ${paths.join(' ')}` : commit;
  } catch {
    return 'unknown';
  }
}
