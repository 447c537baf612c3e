// Which incarnation of each thread a node has been linked to, and messages waiting for a newer one's link:
// a ref to a restarted thread can reach this node (relayed by a third thread) before the main thread's
// PEER message that brings the channel to it.

/** How long a message to a not-yet-linked incarnation waits for its channel before it counts as exited. */
export const PEER_WAIT_MS = 5000;

interface Waiter {
  gen: number;
  resolve: (linked: boolean) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class PeerGens {
  readonly #known = new Map<number, number>();
  readonly #waiting = new Map<number, Waiter[]>();

  /** A channel to (thread, gen) is up: what waited for it (or for an older incarnation) goes on. */
  linked(thread: number, gen: number): void {
    if (gen > (this.#known.get(thread) ?? -1)) this.#known.set(thread, gen);
    const ws = this.#waiting.get(thread);
    if (ws === undefined) return;
    const keep = ws.filter((w) => w.gen > gen);
    for (const w of ws) if (w.gen <= gen) this.#end(w, true);
    if (keep.length > 0) this.#waiting.set(thread, keep);
    else this.#waiting.delete(thread);
  }

  /**
   * Whether (thread, gen) is a later incarnation of a thread this node has been linked to: its channel may
   * yet come. (A thread never linked here is not waited for.)
   */
  ahead(thread: number, gen: number): boolean {
    const known = this.#known.get(thread);
    return known !== undefined && gen > known;
  }

  /** Resolves true once (thread, gen) or a newer incarnation is linked, false after ms. */
  wait(thread: number, gen: number, ms = PEER_WAIT_MS): Promise<boolean> {
    return new Promise((resolve) => {
      const w: Waiter = { gen, resolve, timer: undefined as unknown as ReturnType<typeof setTimeout> };
      w.timer = setTimeout(() => {
        const ws = this.#waiting.get(thread);
        const i = ws?.indexOf(w) ?? -1;
        if (i >= 0) ws!.splice(i, 1);
        if (ws?.length === 0) this.#waiting.delete(thread);
        resolve(false);
      }, ms);
      const ws = this.#waiting.get(thread);
      if (ws === undefined) this.#waiting.set(thread, [w]);
      else ws.push(w);
    });
  }

  /** Ends every wait (the node is going away): false. */
  clear(): void {
    for (const ws of this.#waiting.values()) for (const w of ws) this.#end(w, false);
    this.#waiting.clear();
  }

  #end(w: Waiter, linked: boolean): void {
    clearTimeout(w.timer);
    w.resolve(linked);
  }
}
