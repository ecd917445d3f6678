#!/usr/bin/env bash
# OCSP benchmark: answers per second of the portal's responder (pre-produced answers, GET per
# RFC 5019) beside `openssl ocsp`'s own responder on the same certificates and responder key,
# alternating rounds in one run (loadgen/src/bin/ocsp_bench.rs). Runs in a network namespace
# of its own (root, `unshare`): `openssl ocsp -port` cannot be bound to loopback only.
# Usage: scripts/bench-ocsp.sh [--certs 20 --clients 32 --secs 10 --rounds 2]
# PROFILE=debug uses the debug build (dependencies optimised, workspace crates not).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
profile="${PROFILE:-release}"
if [ "$profile" = release ]; then
  cargo build --release --locked -p server -p loadgen
else
  cargo build --locked -p server -p loadgen
fi
bin="$CARGO_TARGET_DIR/$profile"
unshare --net sh -c "ip link set lo up && '$bin/ocsp-bench' --portal '$bin/portal' $*"
