// An actor system's worker thread: a node on the thread's root controller, linked to every other thread,
// beating a heartbeat into shared memory for the main thread's watchdog.
import { Controller, busyWait, type Socket } from 'troupe';
import { countProgressIn } from './cell.js';
import { ActorNode } from './node.js';
import { installExposer } from './proxy.js';

/** @internal What a worker is started with. */
export interface WorkerBoot {
  thread: number;
  gen: number;
  /** Float64 slots, see STAT. */
  stats: SharedArrayBuffer;
  beatMs: number;
  /** This thread's busy wait (SystemOptions.busyWaitUs). */
  busyWaitUs: number;
  /** [thread, gen] of each peer socket that follows. */
  peers: [number, number][];
}

/** @internal Slots of a worker's shared stats. */
export const STAT = { BEAT: 0, ACTORS: 1, DEPTH: 2, IN_RATE: 3, OUT_RATE: 4, UTIL: 5, CTLFD: 6, REFRESH: 7, SIZE: 8 } as const;

/** Fills a thread's figures: actors, mailbox depth, messages per second, event-loop utilisation. */
export class Meter {
  #t = performance.now();
  #in = 0;
  #out = 0;
  #elu = performance.eventLoopUtilization();

  sample(node: ActorNode, into: Float64Array): void {
    const now = performance.now();
    const dt = Math.max(1, now - this.#t) / 1000;
    let depth = 0;
    for (const cell of node.cells.values()) depth += cell.mailbox.size;
    const elu = performance.eventLoopUtilization();
    into[STAT.ACTORS] = node.cells.size;
    into[STAT.DEPTH] = depth;
    into[STAT.IN_RATE] = (node.msgsIn - this.#in) / dt;
    into[STAT.OUT_RATE] = (node.msgsOut - this.#out) / dt;
    into[STAT.UTIL] = performance.eventLoopUtilization(elu, this.#elu).utilization;
    into[STAT.REFRESH]!++;
    this.#t = now;
    this.#in = node.msgsIn;
    this.#out = node.msgsOut;
    this.#elu = elu;
  }
}

export default async function actorWorker(chan: Socket, boot: WorkerBoot, ...peers: Socket[]): Promise<void> {
  const node = new ActorNode(boot.thread, boot.gen);
  installExposer(node);
  const stats = new Float64Array(boot.stats);
  // Messages taken count as beats too: a thread working through a long run of them is not hung.
  countProgressIn(stats, STAT.BEAT);
  const root = Controller.root();
  stats[STAT.CTLFD] = root.pollfd();
  busyWait(boot.busyWaitUs);
  let running = true;
  const ended = new Promise<void>((res) => {
    node.onLinkClosed = (link) => {
      if (link.peer === 0) res(); // the main thread is gone or shut the system down
    };
  });
  node.addLink(chan, 0, 0);
  for (const [k, sock] of peers.entries()) node.addLink(sock, boot.peers[k]![0], boot.peers[k]![1]);

  // NB: the heartbeat runs on the root controller's own timers: while the thread is stuck, its timer
  // expires unserved, so the controller fd stays readable and the beat stands still: that is "hung".
  const meter = new Meter();
  root.wrap(async () => {
    let last = 0;
    while (running) {
      stats[STAT.BEAT]!++;
      const now = performance.now();
      if (now - last >= 500) {
        meter.sample(node, stats);
        last = now;
      }
      await root.sleep(boot.beatMs);
    }
  });
  await ended;
  running = false;
  for (const cell of [...node.cells.values()]) node.retire(cell, 'shutdown');
  for (const link of node.links.values()) link.close();
  node.detach();
}
