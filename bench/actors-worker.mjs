// Worker for bench/actors.mjs's worker_threads competitors: postMessage echo, a one-way counter, comlink echo.
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

const { mode, port } = workerData;
if (mode === 'echo') {
  parentPort.on('message', (m) => parentPort.postMessage(m));
} else if (mode === 'count') {
  // Every message is counted except 'count', which is answered with the count so far.
  let n = 0;
  parentPort.on('message', (m) => {
    if (m === 'count') parentPort.postMessage(n);
    else n++;
  });
} else if (mode === 'comlink') {
  // NB: served on the MessagePort the main thread transferred in workerData, not on parentPort.
  Comlink.expose({ echo: (x) => x }, nodeEndpoint(port));
} else {
  throw new Error(`actors-worker: unknown mode ${mode}`);
}
