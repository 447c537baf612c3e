// A dig-like lookup tool on troupe's stub resolver (dns.Resolver, over troupe's own UDP and TCP sockets).
//
// Usage: node examples/dig.mjs [@server[:port]] name [type [class]] [+tcp] [+notcp] [+edns] [+time=MS] [+tries=N]
//
//   @server   a numeric address: 192.0.2.53, 192.0.2.53:5353, ::1, [::1]:5353 (default: resolv.conf's)
//   type      A (default), AAAA, MX, TXT, SOA, NS, PTR, SRV, ANY, … or a number
//   class     IN (default), CH, HS, or a number
//   +tcp      ask over TCP only; +notcp: never retry a truncated answer over TCP
//   +edns     offer EDNS(0); +time=MS: wait per try (default 5000); +tries=N: rounds over the servers (default 2)
//
// Prints the answer as dig does: header, flags, and the QUESTION / ANSWER / AUTHORITY / ADDITIONAL sections.
// As dig, it asks the server directly: no hosts file, no search list. Exit status as dig's: 0 on an answer
// (NXDOMAIN included), 1 for a usage error, 9 when no server answered, 10 for anything else.
import { dns, monotime } from 'troupe';

const USAGE = 'usage: node examples/dig.mjs [@server[:port]] name [type [class]] [+tcp] [+notcp] [+edns] [+time=MS] [+tries=N]';

function usage(msg) {
  console.error(`dig: ${msg}\n${USAGE}`);
  process.exit(1);
}

/** The command line: the server, the question, and resolver options. */
function parse(argv) {
  const opts = { hosts: false, search: [] };
  const words = [];
  let server;
  for (const a of argv) {
    if (a.startsWith('@')) server = a.slice(1);
    else if (a === '+tcp') opts.tcp = 'only';
    else if (a === '+notcp') opts.tcp = 'never';
    else if (a === '+edns') opts.edns = true;
    else if (a.startsWith('+time=')) opts.timeoutMs = Number(a.slice(6));
    else if (a.startsWith('+tries=')) opts.attempts = Number(a.slice(7));
    else if (a.startsWith('+')) usage(`unknown option ${a}`);
    else words.push(a);
  }
  if (words.length < 1 || words.length > 3) usage('expected a name, then optionally a type and a class');
  if (server !== undefined) opts.servers = [server];
  const [name, type = 'A', cls = 'IN'] = words.map((w) => (/^\d+$/.test(w) ? Number(w) : w));
  return { opts, name: String(name), type, cls, server };
}

const fqdn = (n) => (n === '.' || n.endsWith('.') ? n : `${n}.`);
const quoted = (b) => JSON.stringify(Buffer.from(b).toString('latin1'));

/** The record data as dig prints it. */
function rdata(r) {
  const d = r.data;
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return d;
    case 'NS':
    case 'CNAME':
    case 'PTR':
    case 'DNAME':
      return fqdn(d);
    case 'MX':
      return `${d.preference} ${fqdn(d.exchange)}`;
    case 'SOA':
      return `${fqdn(d.mname)} ${fqdn(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${fqdn(d.target)}`;
    case 'TXT':
    case 'SPF':
      return d.map(quoted).join(' ');
    case 'CAA':
      return `${d.flags} ${d.tag} ${JSON.stringify(d.value)}`;
    case 'HINFO':
      return `${JSON.stringify(d.cpu)} ${JSON.stringify(d.os)}`;
    default:
      // RFC 3597's generic form for raw data; whatever else as JSON.
      return Buffer.isBuffer(d) ? `\\# ${d.length} ${d.toString('hex')}` : JSON.stringify(d);
  }
}

function section(title, records, line) {
  if (records.length === 0) return '';
  return `\n;; ${title} SECTION:\n${records.map(line).join('\n')}\n`;
}

/** The packet as dig prints it. */
function format(p, ms) {
  const f = p.flags;
  const flags = ['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'].filter((k) => f[k]).join(' ');
  let out = ';; Got answer:\n';
  out += `;; ->>HEADER<<- opcode: ${f.opcode}, status: ${f.rcode}, id: ${p.id}\n`;
  out += `;; flags: ${flags}; QUERY: ${p.question.length}, ANSWER: ${p.answer.length}, AUTHORITY: ${p.authority.length}, ADDITIONAL: ${p.additional.length + (p.edns ? 1 : 0)}\n`;
  if (p.edns) out += `\n;; OPT PSEUDOSECTION:\n; EDNS: version: ${p.edns.version}, flags:${p.edns.do ? ' do' : ''}; udp: ${p.edns.udpPayloadSize}\n`;
  out += section('QUESTION', p.question, (q) => `;${fqdn(q.name)}\t\t${q.class}\t${q.type}`);
  const rr = (r) => `${fqdn(r.name)}\t${r.ttl}\t${r.class}\t${r.type}\t${rdata(r)}`;
  out += section('ANSWER', p.answer, rr);
  out += section('AUTHORITY', p.authority, rr);
  out += section('ADDITIONAL', p.additional, rr);
  out += `\n;; Query time: ${Math.round(ms)} msec\n`;
  if (p.server) out += `;; SERVER: ${p.server.address}#${p.server.port}(${p.server.address}) (${p.server.transport.toUpperCase()})\n`;
  out += `;; WHEN: ${new Date().toUTCString()}\n`;
  return out;
}

const { opts, name, type, cls, server } = parse(process.argv.slice(2));
let resolver;
try {
  resolver = new dns.Resolver(opts);
} catch (err) {
  usage(`${err.code}: ${err.message}`);
}
let query;
const t0 = monotime();
try {
  query = resolver.query(name, type, cls);
} catch (err) {
  usage(`${err.code}: ${err.message}`);
}
console.log(`\n; <<>> troupe dig <<>>${server === undefined ? '' : ` @${server}`} ${name} ${type}${cls === 'IN' ? '' : ` ${cls}`}`);
try {
  const p = await query;
  process.stdout.write(format(p, monotime() - t0));
  process.exitCode = 0;
} catch (err) {
  if (err.code === 'ETIMEDOUT') console.log(';; connection timed out; no servers could be reached');
  else if (err.code === 'ECONNREFUSED') console.log(`;; communications error to ${err.address}#${err.port}: connection refused\n;; no servers could be reached`);
  else console.log(`;; error: ${err.code ?? err.name}: ${err.message}`);
  process.exitCode = err.code === 'ETIMEDOUT' || err.code === 'ECONNREFUSED' ? 9 : 10;
} finally {
  resolver.close();
}
