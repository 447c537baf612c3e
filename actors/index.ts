// troupe/actors: actors with mailboxes over a pool of threads, supervised OTP-style.
export { defineActor } from './define.js';
export type { ActorDefinition, ActorSpec } from './define.js';
export { ActorContext } from './cell.js';
export { ActorRef, Down } from './ref.js';
export { ActorSystem } from './system.js';
export type { SystemOptions, SystemStats, ThreadStats } from './system.js';
export type { SpawnOptions } from './node.js';
export type { ChildSpec, SupervisorRef, SupervisorSpec } from './supervisor.js';
export type { ServeOptions, Server } from './serve.js';
export type { Overflow } from './mailbox.js';
