// File watcher, after cqueues' notify module: one line per change in a directory.
//
// Usage: node examples/file-watcher.mjs DIR [--glob PATTERN]... [--add NAME]...
//
// Prints `watching /absolute/DIR` on stdout once the watch is in place, then one line per change:
// the flag names joined by '|' and the entry's name, e.g. `CREATE|MODIFY notes.txt`, or `ATTRIB .` for the
// directory itself. Changes to one name that come together are one line (the notifier coalesces them).
// --glob (repeatable) reports only names matching one of the patterns; --add (repeatable) watches a file
// more closely, whatever the globs; if one is replaced by a file that cannot be watched, its line
// has REVOKE and the error, e.g. `CREATE|REVOKE NAME (EACCES)`. A name that is not UTF-8 shows as a rescan of `.`
// (`CREATE|ATTRIB|MODIFY|DELETE .`). Exits 0 once the directory is deleted or moved away (`DELETE|REVOKE .`
// is the last line), or on SIGINT/SIGTERM; 1 when DIR cannot be watched; 2 on bad usage.
import { parseArgs } from 'node:util';
import { notify } from 'troupe';

const USAGE = 'usage: node examples/file-watcher.mjs DIR [--glob PATTERN]... [--add NAME]...';

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { glob: { type: 'string', multiple: true }, add: { type: 'string', multiple: true } },
  });
} catch (err) {
  console.error(`file-watcher: ${err.message}\n${USAGE}`);
  process.exit(2);
}
const { values: args, positionals } = parsed;
if (positionals.length !== 1) {
  console.error(`file-watcher: give exactly one directory\n${USAGE}`);
  process.exit(2);
}

let watcher;
try {
  watcher = notify.watch(positionals[0], args.glob === undefined ? {} : { glob: args.glob });
  for (const name of args.add ?? []) watcher.add(name);
} catch (err) {
  watcher?.close();
  console.error(`file-watcher: ${err.code ?? 'ERROR'}: ${err.message}`);
  process.exit(err.code?.startsWith('ERR_INVALID_ARG') ? 2 : 1);
}

// NB: close() ends the changes() loop below; the process then exits by itself.
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => watcher.close());

console.log(`watching ${watcher.path}`);
for await (const { flags, name, error } of watcher.changes()) {
  console.log(`${notify.strflag(flags).join('|')} ${name}${error ? ` (${error.code})` : ''}`);
}
watcher.close();
