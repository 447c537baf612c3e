// The hosts file: addresses by name (A, AAAA) and names by address (PTR), answered without the network.
import { isIP } from 'node:net';
import { invalidArgType } from '../errors.js';
import { cachedParse, isAbsent } from './files.js';
import { invalidArgValue, type DnsPacket, type DnsRecord } from './packet.js';

/** One line of a hosts file: an address and its names, the first being the canonical one. */
export interface HostsEntry {
  address: string;
  names: string[];
}

export const HOSTS = '/etc/hosts';

/** Parses hosts-file text; malformed lines are skipped, as the C library does. */
export function parseHosts(text: string): HostsEntry[] {
  const out: HostsEntry[] = [];
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*$/, '').trim().split(/\s+/);
    if (address === undefined || names.length === 0 || isIP(address.replace(/%.*$/, '')) === 0) continue;
    out.push({ address, names });
  }
  return out;
}

/**
 * The hosts file at `path`, indexed; parsed once per path and thread and again only when the file changes
 * (see files.ts). When not `required`, a file that is missing or cannot be read is empty (the C library
 * then goes on to DNS); other errors, and any error when `required`, are thrown.
 */
export function loadHosts(path: string, required: boolean): Hosts {
  try {
    return cachedParse('hosts', path, (text) => new Hosts(parseHosts(text)));
  } catch (err) {
    if (required || !isAbsent(err)) throw err;
    return new Hosts([]);
  }
}

/** Checks the `hosts` option when given as entries. */
export function checkEntries(v: unknown[]): HostsEntry[] {
  return v.map((e, i) => {
    const what = `opts.hosts[${i}]`;
    if (e === null || typeof e !== 'object') throw invalidArgType(what, 'an object { address, names }', e);
    const { address, names } = e as Partial<HostsEntry>;
    if (typeof address !== 'string' || isIP(address.replace(/%.*$/, '')) === 0) throw invalidArgValue(`${what}.address`, address, 'a numeric address');
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n.length > 0)) {
      throw invalidArgType(`${what}.names`, 'a non-empty array of strings', names);
    }
    return { address, names: [...names] };
  });
}

/**
 * Entries indexed for lookups. As the original: A/AAAA match any name of a line (aliases too), PTR matches
 * the reverse name of a line's address and answers its first name; records have TTL 0.
 */
export class Hosts {
  readonly #byName = new Map<string, { family: 4 | 6; address: string }[]>();
  readonly #byArpa = new Map<string, string[]>();

  constructor(entries: readonly HostsEntry[]) {
    for (const { address, names } of entries) {
      const family = isIP(address.replace(/%.*$/, '')) as 4 | 6;
      for (const n of names) {
        const key = n.replace(/\.$/, '').toLowerCase();
        const list = this.#byName.get(key) ?? [];
        if (!list.some((a) => a.address === address)) list.push({ family, address });
        this.#byName.set(key, list);
      }
      const arpa = reverseName(address);
      const list = this.#byArpa.get(arpa) ?? [];
      list.push(names[0]!.replace(/\.$/, ''));
      this.#byArpa.set(arpa, list);
    }
  }

  get empty(): boolean {
    return this.#byName.size === 0;
  }

  /** The local answer for a question, or undefined when the file has none (class IN; A, AAAA, PTR). */
  answer(name: string, type: string, cls: string): DnsPacket | undefined {
    if (cls !== 'IN') return undefined;
    const key = name.toLowerCase();
    let answer: DnsRecord[] = [];
    if (type === 'A' || type === 'AAAA') {
      const family = type === 'A' ? 4 : 6;
      answer = (this.#byName.get(key) ?? []).filter((a) => a.family === family).map((a) => ({ name, type, class: 'IN', ttl: 0, data: a.address }));
    } else if (type === 'PTR') {
      answer = (this.#byArpa.get(key) ?? []).map((host) => ({ name, type: 'PTR', class: 'IN', ttl: 0, data: host }));
    }
    if (answer.length === 0) return undefined;
    return {
      id: 0,
      flags: { qr: true, opcode: 'QUERY', aa: false, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 'NOERROR' },
      question: [{ name, type, class: 'IN' }],
      answer,
      authority: [],
      additional: [],
    };
  }
}

/** The in-addr.arpa / ip6.arpa name of an address (lower case). */
export function reverseName(address: string): string {
  const a = address.replace(/%.*$/, '');
  if (isIP(a) === 4) return `${a.split('.').reverse().join('.')}.in-addr.arpa`;
  return `${[...expand6(a)].reverse().join('.')}.ip6.arpa`;
}

/** The 32 hex digits of an IPv6 address. */
function expand6(a: string): string {
  let s = a.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('');
}
