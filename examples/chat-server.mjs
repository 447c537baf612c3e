// Chat server, after cqueues' examples/chat.srv: every line a client sends goes to every connected client.
//
// Usage: node examples/chat-server.mjs --port P [--host H]
//
// Prints `listening P` (the bound port, so `--port 0` works) on stdout once it accepts. The protocol, one
// line per message, '\n'-terminated (a '\r' before it is dropped):
//   - a line `text` from the client at ip:port reaches every connected client, the sender included, as
//     `[ip]:port text\n` (IPv4 clients are shown as plain dotted quads);
//   - `/who` answers the sender alone with one `# [ip]:port` line per connected client, then `# end`;
//   - `/quit` answers `# goodbye` and ends the connection.
// Unlike the original there is no nickname prompt: the address is the name. A client whose unsent replies
// pile up past 1,000 lines (it does not read) is disconnected, so one stalled client cannot grow the
// server's memory without bound. SIGINT/SIGTERM close the listener and exit 0.
//
// Each connection is two root-controller tasks, as the original's flow control: a reader that parses lines
// and queues them on every client, and a writer that drains its own client's queue into the socket and
// flushes, then waits on a Condition for more.
import { parseArgs } from 'node:util';
import { Condition, Controller, Socket, sleep } from 'troupe';

const MAX_QUEUED = 1000;
const PEER_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'ERR_HANDLE_CLOSED']);
const ACCEPT_BACKOFF = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

const { values: args } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } });
const port = Number(args.port);
if (args.port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`chat-server: --port must be 0..65535, got ${args.port}\nusage: node examples/chat-server.mjs --port P [--host H]`);
  process.exit(2);
}

/** One connected client: its socket, its name and its queue of lines still to send. */
class Client {
  queue = [];
  ready = new Condition();
  leaving = false;

  constructor(sock) {
    this.sock = sock;
    const a = sock.peername();
    this.from = a === undefined ? '[?]' : `[${a.address.replace(/^::ffff:(?=\d+\.)/, '')}]:${a.port}`;
  }

  /** Queues a line for this client; a client too far behind is dropped. */
  put(line) {
    if (this.leaving) return;
    if (this.queue.length >= MAX_QUEUED) {
      console.error(`chat-server: ${this.from}: not reading, disconnected`);
      this.sock.destroy(); // NB: wakes both of its tasks with ERR_HANDLE_CLOSED; they clean up.
      return;
    }
    this.queue.push(line);
    this.ready.signal();
  }

  /** Lets the writer send what is queued, then close. */
  leave() {
    this.leaving = true;
    clients.delete(this);
    this.ready.signal();
  }
}

const clients = new Set();
const root = Controller.root();
const listener = listen(args.host, port);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    listener.close();
    process.exit(0);
  });
}

root.wrap(async () => {
  for (;;) {
    let sock;
    try {
      sock = await listener.accept();
    } catch (err) {
      if (err.code === 'ERR_HANDLE_CLOSED') return;
      if (!ACCEPT_BACKOFF.has(err.code)) throw err;
      console.error(`chat-server: accept: ${err.code}; retrying in 100 ms`);
      await sleep(100);
      continue;
    }
    // Text input (CRLF -> LF, for telnet), binary output flushed explicitly by the writer.
    sock.setmode('t', 'bfA');
    const c = new Client(sock);
    clients.add(c);
    root.wrap(reader, c);
    root.wrap(writer, c);
  }
});
console.log(`listening ${listener.localname().port}`);

/** Reads the client's lines and hands each to everyone, until EOF, /quit or an error. */
async function reader(c) {
  try {
    for await (const line of c.sock.lines('*l')) {
      if (line === '/quit') {
        c.put('# goodbye\n');
        break;
      }
      if (line === '/who') {
        for (const other of clients) c.put(`# ${other.from}\n`);
        c.put('# end\n');
        continue;
      }
      const msg = `${c.from} ${line}\n`;
      for (const other of clients) other.put(msg);
    }
  } catch (err) {
    fail(c, err);
  }
  c.leave();
}

/** Sends the client's queue as it fills; once the client leaves, sends what is left and closes. */
async function writer(c) {
  try {
    for (;;) {
      if (c.queue.length > 0) {
        const batch = c.queue;
        c.queue = [];
        for (const line of batch) await c.sock.write(line);
        await c.sock.flush();
      } else if (c.leaving) {
        break;
      } else {
        await c.ready.wait();
      }
    }
    c.sock.close();
  } catch (err) {
    fail(c, err);
  }
  c.leave();
}

/** A client's error ends that client only. */
function fail(c, err) {
  if (!PEER_ERRORS.has(err.code)) console.error(`chat-server: ${c.from}: ${err.stack ?? err}`);
  c.sock.destroy();
}

/** Listens on host (default '::', dual stack; '0.0.0.0' when the machine has no IPv6). */
function listen(host, p) {
  if (host !== undefined) return Socket.listen(host, p);
  try {
    return Socket.listen('::', p);
  } catch (err) {
    if (err.code !== 'EAFNOSUPPORT' && err.code !== 'EADDRNOTAVAIL') throw err;
    return Socket.listen('0.0.0.0', p);
  }
}
