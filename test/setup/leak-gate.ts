// After every test the process holds the same descriptors as before it: no fd leaks across the suite.
import { readdirSync, readlinkSync } from 'node:fs';
import { afterEach, beforeEach, expect } from 'vitest';
import { Controller } from 'troupe';

function fds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.set(name, readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the fd of the directory listing itself is gone already
    }
  }
  return out;
}

let before: Map<string, string>;

beforeEach(() => {
  // The root controller lives as long as the thread: create it before the baseline.
  Controller.root();
  before = fds();
});

afterEach(async () => {
  // Closes are synchronous, but Node may release its own handles (e.g. a finished worker) a turn later.
  let leaked: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    const now = fds();
    leaked = [...now].filter(([fd, target]) => before.get(fd) !== target).map(([fd, target]) => `${fd} -> ${target}`);
    if (leaked.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(leaked, 'descriptors opened by the test and not closed').toEqual([]);
});
