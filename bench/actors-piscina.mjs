// Piscina task for bench/actors.mjs: returns its input (the round trip is all that is measured).
export default (x) => x;
