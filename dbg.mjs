import { Controller, monotime } from 'troupe';
const chain = [new Controller()];
for (let i = 1; i < 8; i++) chain.push(new Controller({ controller: chain[i - 1] }));
for (let i = 0; i < chain.length - 1; i++) chain[i].wrap(() => chain[i + 1].loop());
chain.at(-1).wrap(() => chain.at(-1).sleep(10));
const t0 = monotime();
const err = await chain[0].loop(10000).catch((e) => e);
console.log('took', monotime() - t0, err.message);
for (let i = 7; i >= 0; i--) { try { chain[i].close(); } catch (e) { console.log('close', i, e.code); } }
setTimeout(() => { for (let i = 7; i >= 0; i--) { try { chain[i].close(); } catch (e) { console.log('close2', i, e.code); } } }, 0);
