// dns.Resolver against fake name servers: answers, stray datagrams, TCP fallback, failures, timeouts, cancellation.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dns, monotime } from 'troupe';
import { countWaits } from '../lib/count-waits.js';
import { aAnswer, closedPort, dualServer, reply, tcpServer, udpServer, type Decoded } from '../lib/fake-dns.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A resolver that reads no system files, closed after the test. */
function resolver(opts: dns.ResolverOptions): dns.Resolver {
  const r = new dns.Resolver({ resolvConf: false, hosts: false, ...opts });
  cleanups.push(() => r.close());
  return r;
}

async function server(handler: Parameters<typeof udpServer>[0], port = 0, host = '127.0.0.1') {
  const s = await udpServer(handler, port, host);
  cleanups.push(() => s.close());
  return s;
}

const TRUNCATED = 1 << 9;

describe('answers over UDP', () => {
  it('returns the decoded answer with typed records, and where it came from', async () => {
    const s = await server((q) => {
      const name = q.questions![0]!.name;
      return reply(q, {
        answers: [
          { name, type: 'MX', ttl: 300, data: { preference: 10, exchange: 'mail.example.com' } },
          { name, type: 'TXT', ttl: 300, data: ['v=spf1 -all'] },
        ],
        authorities: [{ name: 'example.com', type: 'NS', ttl: 600, data: 'ns1.example.com' }],
        additionals: [{ name: 'ns1.example.com', type: 'A', ttl: 600, data: '192.0.2.53' }],
      });
    });
    const r = resolver({ servers: [`127.0.0.1:${s.port}`] });
    const p = await r.query('Example.COM', 'mx', 'in', 2000);
    expect(s.queries).toHaveLength(1);
    expect(s.queries[0]!.questions).toEqual([{ name: 'Example.COM', type: 'MX', class: 'IN' }]);
    expect(s.queries[0]!.flag_rd).toBe(true);
    expect(p.id).toBe(s.queries[0]!.id);
    expect(p.flags).toMatchObject({ qr: true, rd: true, ra: true, tc: false, rcode: 'NOERROR', opcode: 'QUERY' });
    expect(p.question).toEqual([{ name: 'Example.COM', type: 'MX', class: 'IN' }]);
    const [mx, txt] = p.answer;
    expect(mx).toEqual({ name: 'Example.COM', type: 'MX', class: 'IN', ttl: 300, data: { preference: 10, exchange: 'mail.example.com' } });
    expect(txt!.type === 'TXT' && txt!.data.map(String)).toEqual(['v=spf1 -all']);
    expect(p.authority).toEqual([{ name: 'example.com', type: 'NS', class: 'IN', ttl: 600, data: 'ns1.example.com' }]);
    expect(p.additional).toEqual([{ name: 'ns1.example.com', type: 'A', class: 'IN', ttl: 600, data: '192.0.2.53' }]);
    expect(p.server).toEqual({ address: '127.0.0.1', port: s.port, transport: 'udp' });
  });

  it('defaults to A IN; a missing name is an NXDOMAIN packet, not an error', async () => {
    const s = await server((q) => (q.questions![0]!.name === 'here.test' ? aAnswer(q, '192.0.2.1') : reply(q, { rcode: 'NXDOMAIN' })));
    const r = resolver({ servers: [`127.0.0.1:${s.port}`] });
    const p = await r.query('here.test');
    expect(p.answer.map((a) => a.data)).toEqual(['192.0.2.1']);
    expect(s.queries[0]!.questions![0]).toMatchObject({ type: 'A', class: 'IN' });
    const nx = await r.query('gone.test', 'AAAA', 'IN', 2000);
    expect(nx.flags.rcode).toBe('NXDOMAIN');
    expect(nx.answer).toEqual([]);
  });

  it('takes numeric types and classes; unknown types come back as UNKNOWN_<n> with raw data', async () => {
    const s = await server((q) => reply(q, { answers: [{ name: q.questions![0]!.name, type: 'UNKNOWN_65280' as 'A', ttl: 1, data: Buffer.from([1, 2, 3]) as unknown as string }] }));
    const r = resolver({ servers: [`127.0.0.1:${s.port}`] });
    const p = await r.query('x.test', 65280, 1, 2000);
    expect(s.queries[0]!.questions![0]).toMatchObject({ type: 'UNKNOWN_65280', class: 'IN' });
    expect(p.answer[0]).toMatchObject({ type: 'UNKNOWN_65280' });
    expect(Buffer.from(p.answer[0]!.data as Buffer)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('ignores answers that do not match the query: wrong id, wrong question, not a response, garbage', async () => {
    const s = await server((q) => {
      const wrongName = { ...q, questions: [{ ...q.questions![0]!, name: 'other.test' }] } as Decoded;
      const wrongType = { ...q, questions: [{ ...q.questions![0]!, type: 'AAAA' as const }] } as Decoded;
      const notResponse = Buffer.from(aAnswer(q, '192.0.2.66'));
      notResponse[2]! &= 0x7f;
      return [
        aAnswer({ ...q, id: (q.id! + 1) & 0xffff }, '192.0.2.66'),
        reply(wrongName, { answers: [{ name: 'other.test', type: 'A', ttl: 1, data: '192.0.2.66' }] }),
        reply(wrongType),
        notResponse,
        Buffer.from('garbage'),
        aAnswer(q, '192.0.2.7'),
      ];
    });
    const r = resolver({ servers: [`127.0.0.1:${s.port}`] });
    const p = await r.query('right.test', 'A', 'IN', 2000);
    expect(p.answer.map((a) => a.data)).toEqual(['192.0.2.7']);
    expect(s.queries).toHaveLength(1);
  });

  it('uses a fresh random id per query', async () => {
    const s = await server((q) => aAnswer(q, '192.0.2.1'));
    const r = resolver({ servers: [`127.0.0.1:${s.port}`] });
    for (let i = 0; i < 8; i++) await r.query('a.test', 'A', 'IN', 2000);
    expect(new Set(s.queries.map((q) => q.id)).size).toBeGreaterThan(1);
  });

  it('offers EDNS(0) when asked and reports the answer\'s OPT record apart from the additional section', async () => {
    const s = await server((q) => reply(q, { additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 4096, flags: 0, options: [] } as never] }));
    const r = resolver({ servers: [`127.0.0.1:${s.port}`], edns: true });
    const p = await r.query('e.test', 'A', 'IN', 2000);
    expect(s.queries[0]!.additionals).toEqual([expect.objectContaining({ type: 'OPT', udpPayloadSize: 1232 })]);
    expect(p.edns).toMatchObject({ udpPayloadSize: 4096, version: 0, do: false });
    expect(p.additional).toEqual([]);
  });

  it('with EDNS, a FORMERR answer makes the server asked again at once without EDNS (as the C library)', async () => {
    const hasOpt = (q: Decoded) => (q.additionals ?? []).some((r) => r.type === 'OPT');
    const s = await server((q) => (hasOpt(q) ? reply(q, { rcode: 'FORMERR' }) : aAnswer(q, '192.0.2.8')));
    const r = resolver({ servers: [`127.0.0.1:${s.port}`], edns: true, timeoutMs: 5000 });
    const p = await r.query('old.test', 'A', 'IN', 20_000);
    expect(p.answer.map((a) => a.data)).toEqual(['192.0.2.8']);
    expect(s.queries.map(hasOpt)).toEqual([true, false]);
    expect(s.queries[1]!.id).not.toBe(s.queries[0]!.id);
    expect(s.queries[1]!.questions).toEqual(s.queries[0]!.questions);
  });

  it('FORMERR without EDNS, or again without it, is the answer: asked once more at most', async () => {
    const s = await server((q) => reply(q, { rcode: 'FORMERR' }));
    const plain = resolver({ servers: [`127.0.0.1:${s.port}`], timeoutMs: 5000 });
    expect((await plain.query('bad.test', 'A', 'IN', 20_000)).flags.rcode).toBe('FORMERR');
    expect(s.queries).toHaveLength(1);
    const edns = resolver({ servers: [`127.0.0.1:${s.port}`], edns: true, timeoutMs: 5000 });
    expect((await edns.query('bad.test', 'A', 'IN', 20_000)).flags.rcode).toBe('FORMERR');
    expect(s.queries).toHaveLength(3);
  });
});

describe('TCP', () => {
  it('retries a truncated UDP answer over TCP', async () => {
    const big = Array.from({ length: 40 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const d = await dualServer(
      (q) => reply(q, { flags: TRUNCATED | 0x0180 }),
      (q) => aAnswer(q, ...big),
    );
    cleanups.push(() => d.close());
    const r = resolver({ servers: [`127.0.0.1:${d.port}`] });
    const p = await r.query('big.test', 'A', 'IN', 3000);
    expect(d.udp.queries).toHaveLength(1);
    expect(d.tcp.queries).toHaveLength(1);
    expect(d.tcp.queries[0]!.questions![0]!.name).toBe('big.test');
    expect(p.flags.tc).toBe(false);
    expect(p.answer.map((a) => a.data)).toEqual(big);
    expect(p.server).toEqual({ address: '127.0.0.1', port: d.port, transport: 'tcp' });
  });

  it('a truncated UDP answer cut in the middle of a record is still retried over TCP', async () => {
    const big = Array.from({ length: 40 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const cut = (q: Decoded) => {
      const name = q.questions![0]!.name;
      const full = reply(q, { flags: TRUNCATED | 0x0180, answers: big.map((data) => ({ name, type: 'A' as const, ttl: 60, data })) });
      return full.subarray(0, full.length - 7); // mid-record: dns-packet cannot decode it
    };
    const d = await dualServer(cut, (q) => aAnswer(q, ...big));
    cleanups.push(() => d.close());
    const r = resolver({ servers: [`127.0.0.1:${d.port}`], timeoutMs: 5000, attempts: 1 });
    const p = await r.query('big.test', 'A', 'IN', 20_000);
    expect(d.tcp.queries).toHaveLength(1);
    expect(p.answer.map((a) => a.data)).toEqual(big);
    expect(p.server?.transport).toBe('tcp');
    // With tcp 'never' the cut answer is returned: its header and question, TC set, no records.
    const never = resolver({ servers: [`127.0.0.1:${d.port}`], tcp: 'never', timeoutMs: 5000, attempts: 1 });
    const t = await never.query('big.test', 'A', 'IN', 20_000);
    expect(t.flags).toMatchObject({ tc: true, qr: true, rcode: 'NOERROR' });
    expect(t.question).toEqual([{ name: 'big.test', type: 'A', class: 'IN' }]);
    expect(t.answer).toEqual([]);
    expect(d.tcp.queries).toHaveLength(1);
  });

  it("with tcp 'never' returns the truncated answer as it is", async () => {
    const d = await dualServer((q) => reply(q, { flags: TRUNCATED | 0x0180 }), (q) => aAnswer(q, '192.0.2.1'));
    cleanups.push(() => d.close());
    const r = resolver({ servers: [`127.0.0.1:${d.port}`], tcp: 'never' });
    const p = await r.query('big.test', 'A', 'IN', 3000);
    expect(p.flags.tc).toBe(true);
    expect(d.tcp.queries).toHaveLength(0);
  });

  it("with tcp 'only' never sends a datagram; a mismatched TCP answer is skipped", async () => {
    const d = await dualServer(
      (q) => aAnswer(q, '192.0.2.99'),
      (q) => [aAnswer({ ...q, id: (q.id! + 7) & 0xffff }, '192.0.2.66'), aAnswer(q, '192.0.2.2')],
    );
    cleanups.push(() => d.close());
    const r = resolver({ servers: [`127.0.0.1:${d.port}`], tcp: 'only' });
    const p = await r.query('t.test', 'A', 'IN', 3000);
    expect(p.answer.map((a) => a.data)).toEqual(['192.0.2.2']);
    expect(p.server?.transport).toBe('tcp');
    expect(d.udp.queries).toHaveLength(0);
  });

  it('a TCP server that hangs up without answering is a failed try at once: the next server is asked', async () => {
    const hangup = net.createServer((c) => c.on('data', () => c.end()).on('error', () => {}));
    await new Promise<void>((resolve) => hangup.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => hangup.close(resolve)));
    const good = await tcpServer((q) => aAnswer(q, '192.0.2.3'));
    cleanups.push(() => good.close());
    const port = (hangup.address() as net.AddressInfo).port;
    const r = resolver({ servers: [`127.0.0.1:${port}`, `127.0.0.1:${good.port}`], tcp: 'only', timeoutMs: 10_000, attempts: 1 });
    const t0 = monotime();
    const p = await r.query('t.test', 'A', 'IN', 8000);
    expect(p.answer.map((a) => a.data)).toEqual(['192.0.2.3']);
    expect(monotime() - t0).toBeLessThan(5000);
  });
});

describe('failures', () => {
  it('a refused server (ICMP on the connected socket) gives ECONNREFUSED once every server was tried', async () => {
    const port = await closedPort();
    const r = resolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 5000, attempts: 3 });
    const t0 = monotime();
    const err = await r.query('x.test', 'A', 'IN', 4000).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SystemError', code: 'ECONNREFUSED', syscall: 'query', address: '127.0.0.1', port });
    // Refusal is immediate: no try waited out its 5 s.
    expect(monotime() - t0).toBeLessThan(3000);
  });

  it('a refused server is skipped for the next one, and not asked again in later rounds', async () => {
    const port = await closedPort();
    // Once the first server has refused, a server appears on its port: it must not be asked in round 2.
    let late: Awaited<ReturnType<typeof server>> | undefined;
    const s = await server(async (q, n) => {
      if (n > 1) return aAnswer(q, '192.0.2.4');
      late = await server((lq) => aAnswer(lq, '192.0.2.66'), port);
      return reply(q, { rcode: 'SERVFAIL' }); // round 1 fails here too: round 2 follows
    });
    const r = resolver({ servers: [`127.0.0.1:${port}`, `127.0.0.1:${s.port}`], timeoutMs: 5000, attempts: 3 });
    const p = await r.query('x.test', 'A', 'IN', 20_000);
    expect(p.answer.map((a) => a.data)).toEqual(['192.0.2.4']);
    expect(p.server?.port).toBe(s.port);
    expect(s.queries).toHaveLength(2);
    expect(late!.queries).toHaveLength(0);
  });

  it('a silent server: each try waits timeoutMs, attempts rounds over the servers, then ETIMEDOUT', async () => {
    const a = await server(() => null);
    const b = await server(() => null);
    const r = resolver({ servers: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], timeoutMs: 100, attempts: 3 });
    const t0 = monotime();
    const err = await r.query('slow.test').catch((e: unknown) => e);
    const took = monotime() - t0;
    expect(err).toMatchObject({ name: 'SystemError', code: 'ETIMEDOUT' });
    await Promise.all([a.received(3), b.received(3)]); // the fake servers run on this event loop: they may lag
    expect(a.queries).toHaveLength(3);
    expect(b.queries).toHaveLength(3);
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(5000);
    // Each try is a new query message to the server, with the same question.
    expect(new Set([...a.queries, ...b.queries].map((q) => q.questions![0]!.name))).toEqual(new Set(['slow.test']));
  });

  it('one deadline for the whole call: ETIMEDOUT when it passes, however long a try may last', async () => {
    const s = await server(() => null);
    const r = resolver({ servers: [`127.0.0.1:${s.port}`], timeoutMs: 10_000, attempts: 5 });
    const t0 = monotime();
    await expect(r.query('slow.test', 'A', 'IN', 150)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const took = monotime() - t0;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(3000);
    await s.received(1);
    expect(s.queries).toHaveLength(1);
  });

  it('a silent first server: the second answers', async () => {
    const a = await server(() => null);
    const b = await server((q) => aAnswer(q, '192.0.2.5'));
    // Tries of 2 s: the answering one must not lose a race with a loaded machine.
    const r = resolver({ servers: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], timeoutMs: 2000, attempts: 1 });
    const t0 = monotime();
    const p = await r.query('x.test', 'A', 'IN', 15_000);
    expect(monotime() - t0).toBeGreaterThanOrEqual(1990); // the first try waited out its timeout
    expect(p.answer.map((x) => x.data)).toEqual(['192.0.2.5']);
    expect(p.server?.port).toBe(b.port);
    expect(a.queries).toHaveLength(1);
  });

  it('SERVFAIL from one server makes the next one asked; if none does better, that answer is returned', async () => {
    const bad = await server((q) => reply(q, { rcode: 'SERVFAIL' }));
    const good = await server((q) => aAnswer(q, '192.0.2.6'));
    const r = resolver({ servers: [`127.0.0.1:${bad.port}`, `127.0.0.1:${good.port}`] });
    expect((await r.query('x.test', 'A', 'IN', 3000)).answer.map((x) => x.data)).toEqual(['192.0.2.6']);
    const alone = resolver({ servers: [`127.0.0.1:${bad.port}`], attempts: 2 });
    expect((await alone.query('x.test', 'A', 'IN', 3000)).flags.rcode).toBe('SERVFAIL');
    expect(bad.queries).toHaveLength(3);
  });

  it('rotate starts each query at the next server', async () => {
    const a = await server((q) => aAnswer(q, '192.0.2.10'));
    const b = await server((q) => aAnswer(q, '192.0.2.11'));
    const r = resolver({ servers: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], rotate: true });
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await r.query('x.test', 'A', 'IN', 2000)).answer[0]!.data);
    expect(got).toEqual(['192.0.2.10', '192.0.2.11', '192.0.2.10', '192.0.2.11']);
  });
});

describe('an IPv6 name server', () => {
  it('[::1]:port answers over UDP, and over TCP when the UDP answer is truncated', async () => {
    const d = await dualServer(
      (q) => (q.questions![0]!.name === 'big.test' ? reply(q, { flags: TRUNCATED | 0x0180 }) : aAnswer(q, '192.0.2.60')),
      (q) => aAnswer(q, '192.0.2.61', '192.0.2.62'),
      '::1',
    );
    cleanups.push(() => d.close());
    const r = resolver({ servers: [`[::1]:${d.port}`], timeoutMs: 5000 });
    const u = await r.query('small.test', 'A', 'IN', 20_000);
    expect(u.answer.map((a) => a.data)).toEqual(['192.0.2.60']);
    expect(u.server).toEqual({ address: '::1', port: d.port, transport: 'udp' });
    const t = await r.query('big.test', 'A', 'IN', 20_000);
    expect(t.answer.map((a) => a.data)).toEqual(['192.0.2.61', '192.0.2.62']);
    expect(t.server).toEqual({ address: '::1', port: d.port, transport: 'tcp' });
    expect(d.udp.queries.map((q) => q.questions![0]!.name)).toEqual(['small.test', 'big.test']);
    expect(d.tcp.queries.map((q) => q.questions![0]!.name)).toEqual(['big.test']);
    const only = resolver({ servers: [`[::1]:${d.port}`], tcp: 'only', timeoutMs: 5000 });
    expect((await only.query('small.test', 'A', 'IN', 20_000)).server).toEqual({ address: '::1', port: d.port, transport: 'tcp' });
  });
});

describe('one query at a time, close and abort', () => {
  it('a second query waits for the first (as the original): with the first held, it times out unsent', async () => {
    const s = await server((q, n) => (n === 1 ? null : aAnswer(q, '192.0.2.1')));
    const r = resolver({ servers: [`127.0.0.1:${s.port}`], timeoutMs: 60_000, attempts: 1 });
    const first = r.query('first.test').catch((e: unknown) => e);
    await s.received(1);
    await expect(r.query('second.test', 'A', 'IN', 200)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(s.queries).toHaveLength(1);
    r.close();
    expect(await first).toMatchObject({ name: 'RuntimeError', code: 'ERR_HANDLE_CLOSED' });
  });

  it('queries queued on one resolver go one by one, each woken once (no wake-all)', async () => {
    const s = await server((q) => aAnswer(q, '192.0.2.7'));
    const r = resolver({ servers: [`127.0.0.1:${s.port}`], timeoutMs: 5000, attempts: 1 });
    const { counter, restore } = countWaits();
    cleanups.push(restore);
    const n = 60;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => r.query(`q${i}.test`)));
    expect(answers.map((p) => p.answer[0]?.data)).toEqual(Array(n).fill('192.0.2.7'));
    // Each queued query waits once for its turn (its exchange's own waits come on top); waking all at
    // each release would make it about n²/2 (1,770).
    expect(counter.n).toBeLessThan(4 * n);
  });

  it('close() rejects the query in progress and the ones waiting, releases the socket; close twice is fine', async () => {
    const s = await server(() => null);
    const r = resolver({ servers: [`127.0.0.1:${s.port}`] });
    const a = r.query('a.test').catch((e: unknown) => e);
    const b = r.query('b.test').catch((e: unknown) => e);
    await s.received(1);
    r.close();
    r.close();
    expect(r.closed).toBe(true);
    expect(await a).toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    expect(await b).toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    await expect(r.query('c.test')).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    expect(s.queries).toHaveLength(1);
  });

  it('an abort signal cancels the query (its socket closes); an aborted signal rejects at once', async () => {
    const s = await server(() => null);
    const r = resolver({ servers: [`127.0.0.1:${s.port}`] });
    const ac = new AbortController();
    const q = r.query('a.test', 'A', 'IN', { signal: ac.signal, timeoutMs: 30_000 }).catch((e: unknown) => e);
    await s.received(1);
    ac.abort();
    expect(await q).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(r.query('b.test', 'A', 'IN', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(r.closed).toBe(false);
  });

  it('works with await using', async () => {
    const s = await server((q) => aAnswer(q, '192.0.2.9'));
    let kept: dns.Resolver;
    {
      await using r = new dns.Resolver({ resolvConf: false, hosts: false, servers: [`127.0.0.1:${s.port}`] });
      kept = r;
      expect((await r.query('u.test', 'A', 'IN', 2000)).answer).toHaveLength(1);
    }
    expect(kept.closed).toBe(true);
  });
});

describe('bad arguments', () => {
  it('query() throws synchronously with Node codes', () => {
    const r = resolver({ servers: ['127.0.0.1'] });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as Error).constructor.name, (e as { code?: string }).code];
      }
      return 'no error';
    };
    expect(code(() => r.query(42 as unknown as string))).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(code(() => r.query(''))).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code(() => r.query('a..b'))).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code(() => r.query(`${'x'.repeat(64)}.test`))).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code(() => r.query(Array(64).fill('abcd').join('.')))).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code(() => r.query('a.test', 'BOGUS'))).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code(() => r.query('a.test', 70000))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(code(() => r.query('a.test', {} as unknown as string))).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(code(() => r.query('a.test', 'A', 'XX'))).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code(() => r.query('a.test', 'A', 'IN', Number.NaN))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(code(() => r.query('a.test', 'A', 'IN', '5' as unknown as number))).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(code(() => r.query('a.test', 'A', 'IN', { signal: {} as AbortSignal }))).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
  });

  it('the constructor checks its options', () => {
    const code = (opts: unknown) => {
      try {
        new dns.Resolver({ resolvConf: false, hosts: false, ...(opts as object) }).close();
      } catch (e) {
        return [(e as Error).constructor.name, (e as { code?: string }).code];
      }
      return 'no error';
    };
    expect(code({ servers: ['not an address'] })).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code({ servers: ['127.0.0.1:99999'] })).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code({ servers: '127.0.0.1' })).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(code({ search: ['a..b'] })).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code({ tcp: 'sometimes' })).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code({ attempts: 0 })).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(code({ timeoutMs: 1.5 })).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(code({ ndots: '1' })).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(code({ hosts: [{ address: 'nope', names: ['x'] }] })).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(code({ controller: {} })).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(code({ servers: ['[::1]:53', '192.0.2.1:5353', '::1'] })).toBe('no error');
    expect(() => new dns.Resolver({ resolvConf: '/nonexistent/resolv.conf' })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
