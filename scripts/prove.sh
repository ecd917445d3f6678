#!/usr/bin/env bash
# Every measured claim of the project in one run (issue 7): the load benchmark on SQLite and
# PostgreSQL (BENCHMARKS.md, load-bench section), fault injection (RELIABILITY.md, faults
# section) and the fuzzers (RELIABILITY.md, fuzz section). Not part of scripts/test.sh: it
# takes about 25 minutes with the defaults and wants a quiet machine.
# Usage: scripts/prove.sh [fuzz-seconds-per-target]      (default 120)
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh" test
export PATH="$HOME/.cache/ccp/venv/bin:$PATH"
cd "$ROOT"
status=0
log "load (scripts/bench-load.sh)"
scripts/bench-load.sh || status=1
log "faults (scripts/faults.sh)"
scripts/faults.sh || status=1
log "fuzzing (scripts/fuzz.sh ${1:-120})"
scripts/fuzz.sh "${1:-120}" || status=1
[ "$status" = 0 ] && log "all proofs ran clean" || log "some proof failed: see above"
exit "$status"
