// The DNS stub resolver (`dns` in troupe's entry point): re-exports only.
export { Resolver } from './resolver.js';
export type { QueryOptions, ResolverOptions } from './resolver.js';
export { ResolverPool, getPool, query, setPool } from './pool.js';
export type { ResolverPoolOptions } from './pool.js';
export type { HostsEntry } from './hosts.js';
export type { DnsEdns, DnsFlags, DnsKnownRecord, DnsKnownType, DnsOtherRecord, DnsPacket, DnsQuestion, DnsRecord, DnsRecordData, DnsTypeName } from './packet.js';
