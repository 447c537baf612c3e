// troupe's runtime entry point: re-exports only.
export { Controller, Task, TaskError, cancelFd, monotime, poll, sleep } from './controller.js';
export type { ControllerOptions, ControllerStats } from './controller.js';
export { Condition } from './condition.js';
export type { ConditionOptions } from './condition.js';
export { Future } from './future.js';
export { AbortError, RuntimeError, SystemError } from './errors.js';
export type { RuntimeErrorCode, SystemErrorInfo } from './errors.js';
export type { Pollable } from './waiter.js';
export { Socket } from './socket/socket.js';
export type { ConnectOptions, Format, ListenOptions, ReadOptions, SockAddr, SocketOptions, SocketType } from './socket/socket.js';
export { Thread, thread } from './thread.js';
export type { ThreadEntry } from './thread.js';
export { serve } from './serve.js';
export type { HandlerModule, Placement, ServeOptions, Server } from './serve.js';
export { fromWire as errorFromWire, toWire as errorToWire } from './error-wire.js';
export type { WireError } from './error-wire.js';
