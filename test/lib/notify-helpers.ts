// What the notify tests share: draining a notifier, and counting the watches its descriptor holds.
import { readFileSync } from 'node:fs';
import type { FileChange, Notifier } from 'troupe';

/** Every change until one get() waits `quietMs` in vain (the first may take up to 5 s). */
export async function all<N extends string | Buffer>(n: Notifier<N>, quietMs = 100): Promise<FileChange<N>[]> {
  const out: FileChange<N>[] = [];
  for (let c = await n.get(5000); c !== null; c = await n.get(quietMs)) out.push(c);
  return out;
}

/** The inotify watches the notifier's descriptor holds, as the kernel lists them. */
export function watches(n: Notifier<string | Buffer>): number {
  const info = readFileSync(`/proc/self/fdinfo/${n.pollfd()}`, 'utf8');
  return info.split('\n').filter((l) => l.startsWith('inotify wd:')).length;
}
