// DNS messages: the DnsPacket shape, checked names/types/classes, query encoding and answer decoding (dns-packet).
import dnsPacket from 'dns-packet';
import { invalidArgType, outOfRange } from '../errors.js';

/** Header flags of a message; `opcode` and `rcode` by name ('QUERY', 'NXDOMAIN'). */
export interface DnsFlags {
  /** A response (always true for what query() returns). */
  qr: boolean;
  opcode: string;
  /** Authoritative answer. */
  aa: boolean;
  /** Truncated: with `tcp: 'never'` a truncated UDP answer is returned as it is. */
  tc: boolean;
  rd: boolean;
  ra: boolean;
  z: boolean;
  ad: boolean;
  cd: boolean;
  /** 'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', … */
  rcode: string;
}

/** A question: names are written without the trailing dot ('example.com'); the root is '.'. */
export interface DnsQuestion {
  name: string;
  /** 'A', 'MX', … or 'UNKNOWN_<n>' for a type without a name. */
  type: string;
  /** 'IN', 'CH', 'HS', 'CS', 'ANY', or 'UNKNOWN_<n>'. */
  class: string;
}

/** The decoded data of the record types most programs look at; other types are as dns-packet decodes them. */
export interface DnsRecordData {
  A: string;
  AAAA: string;
  NS: string;
  CNAME: string;
  PTR: string;
  DNAME: string;
  MX: { preference: number; exchange: string };
  SOA: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
  SRV: { priority: number; weight: number; port: number; target: string };
  /** The character-strings of the record, as bytes. */
  TXT: Buffer[];
  SPF: Buffer[];
  CAA: { flags: number; tag: string; value: string; issuerCritical: boolean };
  HINFO: { cpu: string; os: string };
}

/** Record types whose data has a declared shape in {@link DnsRecordData}. */
export type DnsKnownType = keyof DnsRecordData;

/** A resource record of a type listed in {@link DnsRecordData}: `data` is typed by `type`. */
export type DnsKnownRecord = { [T in DnsKnownType]: { name: string; type: T; class: string; ttl: number; data: DnsRecordData[T] } }[DnsKnownType];

/**
 * A resource record of any other type: `data` is dns-packet's decoding (an object for DNSSEC types, NAPTR,
 * SSHFP, TLSA, …) or the raw rdata as a Buffer ('UNKNOWN_<n>' types).
 */
export interface DnsOtherRecord {
  name: string;
  type: Exclude<DnsTypeName, DnsKnownType> | `UNKNOWN_${number}`;
  class: string;
  ttl: number;
  data: unknown;
}

/** A resource record; narrow on `type` to get typed `data` (`if (r.type === 'MX') r.data.exchange`). */
export type DnsRecord = DnsKnownRecord | DnsOtherRecord;

/** EDNS(0) of a message (its OPT pseudo-record, which is not listed among the additional records). */
export interface DnsEdns {
  udpPayloadSize: number;
  extendedRcode: number;
  version: number;
  /** The DNSSEC OK bit. */
  do: boolean;
  options: { code: number; data?: Buffer }[];
}

/**
 * An answer, as query() returns it. A name that does not exist is an answer too (flags.rcode 'NXDOMAIN'),
 * not an error. `server` says where it came from: undefined for an answer from the hosts file.
 */
export interface DnsPacket {
  id: number;
  flags: DnsFlags;
  question: DnsQuestion[];
  answer: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
  edns?: DnsEdns;
  server?: { address: string; port: number; transport: 'udp' | 'tcp' };
}

// IANA's numbers of the record types dns-packet knows by name (plus ANY).
const TYPES = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, NULL: 10, PTR: 12, HINFO: 13, MX: 15, TXT: 16, RP: 17, AFSDB: 18, SIG: 24, KEY: 25,
  AAAA: 28, LOC: 29, SRV: 33, NAPTR: 35, KX: 36, CERT: 37, DNAME: 39, OPT: 41, APL: 42, DS: 43, SSHFP: 44,
  IPSECKEY: 45, RRSIG: 46, NSEC: 47, DNSKEY: 48, DHCID: 49, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, HIP: 55, CDS: 59,
  CDNSKEY: 60, SPF: 99, TKEY: 249, TSIG: 250, IXFR: 251, AXFR: 252, ANY: 255, CAA: 257, TA: 32768, DLV: 32769,
} as const;
/** A record type name known here. */
export type DnsTypeName = keyof typeof TYPES;
const TYPE_NAMES = new Map<number, string>(Object.entries(TYPES).map(([k, v]) => [v, k]));
const CLASSES: Record<string, number> = { IN: 1, CS: 2, CH: 3, HS: 4, ANY: 255 };
const CLASS_NAMES = new Map<number, string>(Object.entries(CLASSES).map(([k, v]) => [v, k]));

/** A checked query type: its number and its name. */
export interface Code {
  n: number;
  name: string;
}

/**
 * A type by name (case-insensitive, '*' for ANY) or number (1–65535).
 * @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE for anything else.
 */
export function parseType(v: unknown, what = 'type'): Code {
  const c = parseCode(v, what, TYPES as Record<string, number>, TYPE_NAMES, { '*': 255 });
  if (c.n === TYPES.OPT) throw invalidArgValue(what, v, 'a query type (OPT is not one)');
  return c;
}

/** A class by name (case-insensitive) or number (1–65535). @throws like {@link parseType} */
export function parseClass(v: unknown, what = 'cls'): Code {
  return parseCode(v, what, CLASSES, CLASS_NAMES, {});
}

function parseCode(v: unknown, what: string, byName: Record<string, number>, names: Map<number, string>, alias: Record<string, number>): Code {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 0xffff) throw outOfRange(what, 'an integer from 1 to 65535', v);
    return { n: v, name: names.get(v) ?? `UNKNOWN_${v}` };
  }
  if (typeof v !== 'string') throw invalidArgType(what, 'a string or a number', v);
  const up = v.toUpperCase();
  const n = byName[up] ?? alias[up] ?? (/^(?:UNKNOWN_|TYPE|CLASS)(\d+)$/.exec(up) ? Number(/\d+$/.exec(up)![0]) : undefined);
  if (n === undefined || n < 1 || n > 0xffff) throw invalidArgValue(what, v, 'a known name or a number');
  return { n, name: names.get(n) ?? `UNKNOWN_${n}` };
}

/**
 * A checked domain name, without its trailing dot (and whether it had one). Labels are 1–63 bytes, the
 * whole name at most 253; '.' is the root.
 * @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE
 */
export function parseName(v: unknown, what = 'name'): { name: string; absolute: boolean } {
  if (typeof v !== 'string') throw invalidArgType(what, 'of type string', v);
  if (v === '.') return { name: '.', absolute: true };
  const absolute = v.endsWith('.');
  const name = absolute ? v.slice(0, -1) : v;
  if (!validName(name)) throw invalidArgValue(what, v, 'a domain name (labels of 1 to 63 bytes, 253 in all)');
  return { name, absolute };
}

/** Whether a name (no trailing dot; '.' for the root) fits on the wire. */
export function validName(name: string): boolean {
  if (name === '.') return true;
  if (name.length === 0 || Buffer.byteLength(name) > 253) return false;
  return name.split('.').every((l) => l.length > 0 && Buffer.byteLength(l) <= 63);
}

/** The query message: header (RD set), one question, and an OPT record when `edns` gives a payload size. */
export function encodeQuery(id: number, name: string, type: number, cls: number, edns?: number): Buffer {
  const labels = name === '.' ? [] : name.split('.').map((l) => Buffer.from(l));
  const qname = Buffer.concat([...labels.flatMap((l) => [Buffer.of(l.length), l]), Buffer.of(0)]);
  const opt = edns === undefined ? Buffer.alloc(0) : Buffer.from([0, 0, 41, edns >> 8, edns & 0xff, 0, 0, 0, 0, 0, 0]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2); // RD
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(opt.length > 0 ? 1 : 0, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(cls, 2);
  return Buffer.concat([head, qname, tail, opt]);
}

/**
 * Decodes `msg` if it is the answer to `query`: a response with the query's id and the same single question
 * (the name compared case-insensitively). Anything else — a stray or spoofed datagram, garbage — is undefined.
 * A matching answer with TC set whose records do not decode (cut mid-record) is returned without its records.
 */
export function decodeAnswer(msg: Buffer, query: Buffer): DnsPacket | undefined {
  if (msg.length < 12 || msg.readUInt16BE(0) !== query.readUInt16BE(0) || (msg[2]! & 0x80) === 0) return undefined;
  if (msg.readUInt16BE(4) !== 1) return undefined;
  // The question ends where the query's does (its type and class included): compare those bytes.
  const qend = questionEnd(query);
  if (msg.length < qend || !sameQuestion(msg.subarray(12, qend), query.subarray(12, qend))) return undefined;
  let d: ReturnType<typeof dnsPacket.decode>;
  try {
    d = dnsPacket.decode(Buffer.from(msg)); // a copy: decoded Buffers must not alias a reused buffer
  } catch {
    // A truncated answer may be cut in the middle of a record. Its header and question are the answer's:
    // keep those (TC set, no records), so that the caller retries over TCP rather than drop it as garbage.
    if ((msg[2]! & TC) === 0) return undefined;
    const head = Buffer.from(msg.subarray(0, qend));
    head.fill(0, 6, 12); // no answer, authority or additional records
    try {
      d = dnsPacket.decode(head);
    } catch {
      return undefined;
    }
  }
  return fromDecoded(d);
}

const TC = 0x02; // in the third byte of the header

/** The end of the single question of a query this module encoded. */
function questionEnd(query: Buffer): number {
  let off = 12;
  while (query[off]! !== 0) off += query[off]! + 1;
  return off + 1 + 4;
}

function sameQuestion(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  const name = a.length - 4;
  for (let i = 0; i < name; i++) if (fold(a[i]!) !== fold(b[i]!)) return false; // length octets are < 64: unchanged
  return a.compare(b, name, b.length, name, a.length) === 0; // type and class exactly
}

/** ASCII lower case of one byte. */
function fold(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

type Decoded = ReturnType<typeof dnsPacket.decode>;
type DecodedRecord = NonNullable<Decoded['answers']>[number];

function fromDecoded(d: Decoded): DnsPacket {
  const raw = d as Decoded & Record<string, unknown>;
  const p: DnsPacket = {
    id: d.id ?? 0,
    flags: {
      qr: raw.flag_qr === true,
      opcode: String(raw.opcode),
      aa: raw.flag_aa === true,
      tc: raw.flag_tc === true,
      rd: raw.flag_rd === true,
      ra: raw.flag_ra === true,
      z: raw.flag_z === true,
      ad: raw.flag_ad === true,
      cd: raw.flag_cd === true,
      rcode: String(raw.rcode),
    },
    question: (d.questions ?? []).map((q) => ({ name: q.name, type: q.type, class: q.class ?? 'IN' })),
    answer: records(d.answers),
    authority: records(d.authorities),
    additional: [],
  };
  for (const r of d.additionals ?? []) {
    if (r.type === 'OPT') p.edns = edns(r as unknown as Record<string, unknown>);
    else p.additional.push(record(r));
  }
  return p;
}

function records(list: DecodedRecord[] | undefined): DnsRecord[] {
  return (list ?? []).map(record);
}

function record(r: DecodedRecord): DnsRecord {
  const x = r as unknown as { name: string; type: string; class?: string; ttl?: number; data: unknown };
  return { name: x.name, type: x.type, class: x.class ?? 'IN', ttl: x.ttl ?? 0, data: x.data } as DnsRecord;
}

function edns(r: Record<string, unknown>): DnsEdns {
  return {
    udpPayloadSize: r.udpPayloadSize as number,
    extendedRcode: r.extendedRcode as number,
    version: r.ednsVersion as number,
    do: r.flag_do === true,
    options: ((r.options as { code: number; data?: Buffer }[] | undefined) ?? []).map((o) => ({ code: o.code, ...(o.data ? { data: o.data } : {}) })),
  };
}

/** A TypeError with Node's code for a value of the right type that is not acceptable. */
export function invalidArgValue(name: string, value: unknown, must: string): TypeError {
  const err = new TypeError(`The argument '${name}' must be ${must}. Received ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  (err as TypeError & { code: string }).code = 'ERR_INVALID_ARG_VALUE';
  return err;
}
