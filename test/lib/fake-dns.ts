// Fake name servers for the DNS tests: UDP (node:dgram) and TCP (node:net, 2-byte framing), scripted per query.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

export type Decoded = ReturnType<typeof dnsPacket.decode>;
/** What a server does with one query: reply with these messages (none: stay silent). */
export type Handler = (q: Decoded, n: number) => Buffer[] | Buffer | null | Promise<Buffer[] | Buffer | null>;

/** An answer to q: the same id and question, the given flags (default RD+RA) and sections. */
export function reply(q: Decoded, opts: Partial<Pick<Decoded, 'answers' | 'authorities' | 'additionals'>> & { rcode?: string; flags?: number; id?: number } = {}): Buffer {
  const rcode = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'].indexOf(opts.rcode ?? 'NOERROR');
  return dnsPacket.encode({
    id: opts.id ?? q.id,
    type: 'response',
    flags: (opts.flags ?? dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE) | rcode,
    questions: q.questions,
    answers: opts.answers ?? [],
    authorities: opts.authorities ?? [],
    additionals: opts.additionals ?? [],
  });
}

/** A records for the question's name. */
export function aAnswer(q: Decoded, ...addrs: string[]): Buffer {
  const name = q.questions![0]!.name;
  return reply(q, { answers: addrs.map((data) => ({ name, type: 'A' as const, ttl: 60, data })) });
}

interface Base {
  port: number;
  /** Every query received, in order. */
  queries: Decoded[];
  /** Resolves once n queries arrived. */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

class Arrivals {
  queries: Decoded[] = [];
  #waits: { n: number; resolve: () => void }[] = [];

  add(q: Decoded): number {
    this.queries.push(q);
    for (const w of this.#waits.filter((x) => this.queries.length >= x.n)) w.resolve();
    this.#waits = this.#waits.filter((x) => this.queries.length < x.n);
    return this.queries.length;
  }

  received(n: number): Promise<void> {
    if (this.queries.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waits.push({ n, resolve }));
  }
}

function list(r: Buffer[] | Buffer | null): Buffer[] {
  return r === null ? [] : Array.isArray(r) ? r : [r];
}

export type UdpServer = Base;

/** A UDP name server on 127.0.0.1 (or `host`, e.g. '::1'; the port may be given). */
export async function udpServer(handler: Handler, port = 0, host = '127.0.0.1'): Promise<UdpServer> {
  const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  const a = new Arrivals();
  sock.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const n = a.add(q);
    void Promise.resolve(handler(q, n)).then((out) => {
      for (const m of list(out)) sock.send(m, rinfo.port, rinfo.address);
    });
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return {
    port: sock.address().port,
    queries: a.queries,
    received: (n) => a.received(n),
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

export type TcpServer = Base;

/** A TCP name server on 127.0.0.1 or `host` (the port may be given, e.g. the UDP server's). */
export async function tcpServer(handler: Handler, port = 0, host = '127.0.0.1'): Promise<TcpServer> {
  const a = new Arrivals();
  const conns = new Set<net.Socket>();
  const srv = net.createServer((c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
    c.on('error', () => {});
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const q = dnsPacket.decode(msg);
        const n = a.add(q);
        void Promise.resolve(handler(q, n)).then((out) => {
          for (const m of list(out)) {
            const len = Buffer.alloc(2);
            len.writeUInt16BE(m.length);
            c.write(Buffer.concat([len, m]));
          }
        });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => {
      srv.off('error', reject);
      resolve();
    });
  });
  return {
    port: (srv.address() as net.AddressInfo).port,
    queries: a.queries,
    received: (n) => a.received(n),
    close: () => {
      for (const c of conns) c.destroy();
      return new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

/** A UDP port with nobody listening (the kernel answers with ICMP port unreachable). */
export async function closedPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A UDP and a TCP server on the same port, as a real name server (on 127.0.0.1 or `host`). */
export async function dualServer(udp: Handler, tcp: Handler, host = '127.0.0.1'): Promise<{ udp: UdpServer; tcp: TcpServer; port: number; close(): Promise<void> }> {
  for (;;) {
    const u = await udpServer(udp, 0, host);
    try {
      const t = await tcpServer(tcp, u.port, host);
      return { udp: u, tcp: t, port: u.port, close: async () => void (await Promise.all([u.close(), t.close()])) };
    } catch (err) {
      await u.close();
      if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
    }
  }
}
