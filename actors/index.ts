// troupe/actors: the actor system. Empty until the actors issue lands; the entry point resolves already.
export {};
