#!/usr/bin/env bash
# The native layer under sanitizers: poller_test.cc, socket_test.cc, signal_test.cc, inotify_test.cc, tls_test.cc and busy_wait_test.cc with
# ASan+UBSan, then the binding smoke test under valgrind.
#
# Usage: bash test/native/run-asan.sh   (npm run test:asan). Needs build/Release/troupe.node and dist/
# (npm run build) for the second half. Exits nonzero on any failure or sanitizer report.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/test/native/build-asan"
cd "$root"
mkdir -p "$out"

# ---- 1. native/sys without Node, under AddressSanitizer and UBSan: one test program per part ---------------
# NB: native/sys/tls.cc is among native/sys/*.cc, so every program links the system's OpenSSL (the addon
# uses the one Node exports).
sanitized() {
  local name=$1
  shift
  echo "== $name (ASan + UBSan)"
  "${CXX:-g++}" -std=c++17 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
    -o "$out/$name" "test/native/$name.cc" native/sys/*.cc "$@" -lssl -lcrypto
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$out/$name"
}

sanitized poller_test           # sys::Poller and sys::UniqueFd
sanitized socket_test           # sys/socket.h over loopback TCP, unix sockets and socketpairs
sanitized signal_test -lpthread # sys/signal.h: the latch, raise(3) and the disposition keeper
sanitized inotify_test          # sys/inotify.h: the record parser and a live inotify fd
sanitized tls_test              # sys/tls.h over socketpairs
sanitized busy_wait_test -lpthread # sys/busy_wait.h: the policy and the spin over an epoll set

# ---- 2. the binding, from Node, under valgrind memcheck ---------------------------------------------------
for f in build/Release/troupe.node dist/runtime/native.js; do
  if [[ ! -f "$f" ]]; then
    echo "run-asan.sh: $f is missing; build first (npm run build)" >&2
    exit 1
  fi
done

if ! command -v valgrind >/dev/null; then
  echo "== binding-smoke (valgrind not installed: plain node)"
  node test/native/binding-smoke.mjs
  exit 0
fi

# NB: V8's garbage collector scans thread stacks conservatively, and so reads stack words that were never
# written; memcheck reports each as "Conditional jump or move depends on uninitialised value(s)" inside
# heap::base::IteratePointersInStack. Those are V8's own and expected; everything else is reported.
cat >"$out/node.supp" <<'EOF'
{
   v8-conservative-stack-scan-cond
   Memcheck:Cond
   fun:*IteratePointersInStack*
}
{
   v8-conservative-stack-scan-value
   Memcheck:Value8
   fun:*IteratePointersInStack*
}
EOF

echo "== binding-smoke (valgrind memcheck)"
# Leaks: only definite ones fail the run (and only definite and indirect ones are shown); Node leaves
# reachable blocks, and one possibly-lost block of its inspector thread, at exit by design. The timeout
# stops a hang; the run itself takes about half a minute.
timeout --kill-after=10 600 \
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite,indirect \
  --suppressions="$out/node.supp" \
  node test/native/binding-smoke.mjs
