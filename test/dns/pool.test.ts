// dns.ResolverPool and dns.query: the pool's limits, waiting with a deadline, reuse, close; the default pool.
import { afterEach, describe, expect, it } from 'vitest';
import { dns, monotime } from 'troupe';
import { countWaits as countConditionWaits } from '../lib/count-waits.js';
import { aAnswer, udpServer, type Decoded } from '../lib/fake-dns.js';

const cleanups: (() => unknown)[] = [];

/** Counts Condition waits (every wait of the pool's callers is one) while the test runs. */
function countWaits(): { readonly n: number } {
  const { counter, restore } = countConditionWaits();
  cleanups.push(restore);
  return counter;
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function pool(opts: dns.ResolverPoolOptions): dns.ResolverPool {
  const p = new dns.ResolverPool({ resolvConf: false, hosts: false, ...opts });
  cleanups.push(() => p.close());
  return p;
}

/** A server that holds the queries for names starting with "hold" until release(). */
async function holdingServer() {
  const held: (() => void)[] = [];
  const s = await udpServer((q: Decoded) => {
    const answer = aAnswer(q, '192.0.2.1');
    if (!q.questions![0]!.name.startsWith('hold')) return answer;
    return new Promise((resolve) => held.push(() => resolve(answer)));
  });
  cleanups.push(() => s.close());
  return { s, release: () => held.splice(0).forEach((f) => f()) };
}

describe('ResolverPool', () => {
  it('runs up to max queries side by side; the next waits for a resolver within its deadline', async () => {
    const { s, release } = await holdingServer();
    const p = pool({ servers: [`127.0.0.1:${s.port}`], max: 2 });
    const a = p.query('hold-a.test', 'A', 'IN', 10_000);
    const b = p.query('hold-b.test', 'A', 'IN', 10_000);
    await s.received(2); // both out at once: two resolvers
    expect(p.stats()).toMatchObject({ out: 2 });
    const t0 = monotime();
    await expect(p.query('c.test', 'A', 'IN', 150)).rejects.toMatchObject({ name: 'SystemError', code: 'ETIMEDOUT' });
    expect(monotime() - t0).toBeGreaterThanOrEqual(140);
    expect(s.queries).toHaveLength(2); // the third never got a resolver
    const c = p.query('c.test', 'A', 'IN', 10_000);
    expect(p.stats().waiting).toBe(1);
    release();
    for (const q of await Promise.all([a, b, c])) expect(q.answer.map((x) => x.data)).toEqual(['192.0.2.1']);
    expect(p.stats()).toEqual({ out: 0, idle: 1, waiting: 0 });
  });

  it('get() hands out up to max, then waits; put() wakes a waiter; maxIdle resolvers are kept, others closed', async () => {
    const p = pool({ servers: ['127.0.0.1'], max: 3, maxIdle: 2 });
    const rs = [await p.get(), await p.get(), await p.get()];
    expect(new Set(rs).size).toBe(3);
    await expect(p.get(50)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const waiting = p.get(10_000);
    p.put(rs[0]!);
    expect(await waiting).toBe(rs[0]); // the one put back
    p.put(rs[0]!);
    p.put(rs[1]!);
    p.put(rs[2]!);
    expect(p.stats()).toEqual({ out: 0, idle: 2, waiting: 0 });
    expect(rs.filter((r) => r.closed)).toHaveLength(1);
    const again = await p.get();
    expect(rs).toContain(again);
    expect(again.closed).toBe(false);
    p.put(again);
  });

  it('put() refuses a resolver that is not out of this pool', async () => {
    const p = pool({ servers: ['127.0.0.1'] });
    const other = new dns.Resolver({ resolvConf: false, hosts: false, servers: ['127.0.0.1'] });
    cleanups.push(() => other.close());
    expect(() => p.put(other)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => p.put({} as dns.Resolver)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const r = await p.get();
    p.put(r);
    expect(() => p.put(r)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('close() rejects queries in flight and callers waiting; later use rejects; close twice is fine', async () => {
    const { s } = await holdingServer();
    const p = pool({ servers: [`127.0.0.1:${s.port}`], max: 1 });
    const inflight = p.query('hold.test').catch((e: unknown) => e);
    await s.received(1);
    const waiting = p.get().catch((e: unknown) => e);
    p.close();
    p.close();
    expect(await inflight).toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    expect(await waiting).toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    await expect(p.get()).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    await expect(p.query('x.test')).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
  });

  it('an abort signal ends a wait for a resolver', async () => {
    const { s } = await holdingServer();
    const p = pool({ servers: [`127.0.0.1:${s.port}`], max: 1 });
    const inflight = p.query('hold.test').catch((e: unknown) => e);
    await s.received(1);
    const ac = new AbortController();
    const waiting = p.query('x.test', 'A', 'IN', { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(await waiting).toMatchObject({ code: 'ABORT_ERR' });
    expect(p.stats().waiting).toBe(0);
    p.close();
    await inflight;
  });

  it('serves waiting callers first come, first served: a newcomer does not take the resolver put back', async () => {
    const p = pool({ servers: ['127.0.0.1'], max: 1 });
    const r = await p.get();
    const order: string[] = [];
    const take = (who: string) => p.get(10_000).then((x) => (order.push(who), x));
    const a = take('a');
    const b = take('b');
    const c = take('c');
    expect(p.stats().waiting).toBe(3);
    p.put(r);
    const d = take('d'); // comes after the put, but after a, b and c too
    expect(await a).toBe(r);
    expect(p.stats()).toMatchObject({ out: 1, waiting: 3 });
    p.put(r);
    expect(await b).toBe(r);
    p.put(r);
    expect(await c).toBe(r);
    p.put(r);
    expect(await d).toBe(r);
    p.put(r);
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(p.stats()).toEqual({ out: 0, idle: 1, waiting: 0 });
  });

  it('a waiter that times out or is aborted leaves the queue without waking the others', async () => {
    const { s } = await holdingServer();
    const p = pool({ servers: [`127.0.0.1:${s.port}`], max: 1 });
    const r = await p.get();
    const waits = countWaits();
    const ac = new AbortController();
    const aborted = p.query('x.test', 'A', 'IN', { signal: ac.signal, timeoutMs: 10_000 }).catch((e: unknown) => e);
    const timed = p.get(50).catch((e: unknown) => e);
    const patient = p.get(10_000);
    expect(p.stats().waiting).toBe(3);
    expect(waits.n).toBe(3);
    ac.abort();
    expect(await aborted).toMatchObject({ code: 'ABORT_ERR' });
    expect(await timed).toMatchObject({ code: 'ETIMEDOUT' });
    expect(p.stats().waiting).toBe(1);
    expect(waits.n).toBe(3); // the patient one was never woken: it did not wait again
    p.put(r);
    expect(await patient).toBe(r);
    expect(waits.n).toBe(3);
    p.put(r);
  });

  it('many queries queued on a small pool: each waiting caller is woken once (work linear in their number)', async () => {
    const s = await udpServer((q) => aAnswer(q, '192.0.2.1'));
    cleanups.push(() => s.close());
    const p = pool({ servers: [`127.0.0.1:${s.port}`], max: 2, timeoutMs: 5000 });
    const n = 300;
    const waits = countWaits();
    const all = Array.from({ length: n }, (_, i) => p.query(`q${i}.test`, 'A', 'IN', 60_000));
    expect(p.stats()).toMatchObject({ out: 2, waiting: n - 2 });
    const answers = await Promise.all(all);
    expect(answers.every((a) => a.answer.length === 1)).toBe(true);
    // Each of the n - 2 callers that queued waited once (waking all on each put() made this ~n²/2).
    expect(waits.n).toBe(n - 2);
    expect(p.stats()).toEqual({ out: 0, idle: 1, waiting: 0 });
  });

  it('rotate takes turns across the resolvers of a pool, fresh ones included', async () => {
    const a = await udpServer((q) => aAnswer(q, '192.0.2.10'));
    const b = await udpServer((q) => aAnswer(q, '192.0.2.11'));
    cleanups.push(() => a.close(), () => b.close());
    // maxIdle 0: every query gets a resolver of its own, made for it.
    const p = pool({ servers: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], rotate: true, maxIdle: 0, timeoutMs: 5000 });
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await p.query('x.test', 'A', 'IN', 20_000)).answer[0]!.data);
    expect(got).toEqual(['192.0.2.10', '192.0.2.11', '192.0.2.10', '192.0.2.11']);
    // Side by side too: four resolvers at once start at a, b, a, b.
    const together = await Promise.all(Array.from({ length: 4 }, () => p.query('y.test', 'A', 'IN', 20_000)));
    expect(together.map((x) => x.answer[0]!.data).sort()).toEqual(['192.0.2.10', '192.0.2.10', '192.0.2.11', '192.0.2.11']);
  });

  it('checks its arguments', () => {
    expect(() => new dns.ResolverPool({ resolvConf: false, hosts: false, max: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new dns.ResolverPool({ resolvConf: false, hosts: false, maxIdle: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    const p = pool({ servers: ['127.0.0.1'] });
    expect(() => p.get(Number.NaN)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => p.query('a..b')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => p.query('a.test', 'NOPE')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe('dns.query', () => {
  it('uses the default pool, which setPool replaces', async () => {
    const s = await udpServer((q) => aAnswer(q, '192.0.2.77'));
    cleanups.push(() => s.close());
    const mine = pool({ servers: [`127.0.0.1:${s.port}`] });
    const prev = dns.setPool(mine);
    cleanups.push(() => (prev === undefined ? undefined : dns.setPool(prev)));
    expect(dns.getPool()).toBe(mine);
    const p = await dns.query('default.test', 'A', 'IN', 2000);
    expect(p.answer.map((x) => x.data)).toEqual(['192.0.2.77']);
    expect(s.queries).toHaveLength(1);
    expect(() => dns.setPool({} as dns.ResolverPool)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('the default pool reads the system files: "localhost" comes from /etc/hosts', async () => {
    const p = dns.getPool();
    expect(p).toBeInstanceOf(dns.ResolverPool);
    expect(dns.getPool()).toBe(p);
    const a = await dns.query('localhost.', 'A', 'IN', 2000);
    expect(a.answer.map((x) => x.data)).toContain('127.0.0.1');
    expect(a.server).toBeUndefined();
  });
});
