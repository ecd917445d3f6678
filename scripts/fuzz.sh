#!/usr/bin/env bash
# Nightly-style fuzzing (issue 7, bad input): every cargo-fuzz target of fuzz/ for a bounded
# time, then the stable replay of seeds and regressions.
# Usage: scripts/fuzz.sh [seconds-per-target] [target...]     (default 300 s, all targets)
#   FUZZ_SANITIZER=address  build with ASan (default none: the code under test is safe Rust,
#                           and without ASan libFuzzer tries several times more inputs)
#   FUZZ_JOBS=N             libFuzzer workers per target (default: one process; shared machine)
# Prints, per target, the inputs tried (libFuzzer's executed units) and the crashes; every
# crash, timeout or OOM input is copied to fuzz/regressions/<target>/, which the replay test
# (fuzz/tests/replay.rs) and the crates' tests/prop_*.rs run on stable in CI.
source "$(dirname "$0")/lib.sh"
SECS="${1:-300}"
shift || true
FUZZ="$ROOT/fuzz"
# Own target dir: the sanitizer flags of cargo-fuzz would otherwise rebuild the main one.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/ccp/target-fuzz}"
export PATH="$HOME/.cargo/bin:$PATH"

if ! command -v cargo-fuzz >/dev/null; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  log "installing the nightly toolchain (libFuzzer needs -Z sanitizer/coverage flags)"
  rustup toolchain install nightly --profile minimal || {
    log "no nightly toolchain: running only the stable replay and property tests"
    cargo test --manifest-path "$FUZZ/Cargo.toml"
    exit 0
  }
fi

# Seeds: the binary ones are regenerated only when missing (regenerating replaces the test
# CA, and the committed certificate seeds and regression inputs depend on it).
if [ ! -f "$FUZZ/fixtures/ca.crt.pem" ]; then
  log "generating seeds (fuzz/examples/make_seeds.rs)"
  cargo run --manifest-path "$FUZZ/Cargo.toml" --example make_seeds
fi

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  mapfile -t TARGETS < <(cd "$FUZZ/fuzz_targets" && ls ./*.rs | sed 's|^\./||; s|\.rs$||')
fi
SAN="${FUZZ_SANITIZER:-none}"
log "building ${#TARGETS[@]} targets (nightly, sanitizer $SAN, debug assertions on)"
(cd "$ROOT" && cargo +nightly fuzz build --fuzz-dir "$FUZZ" -s "$SAN" -a --features libfuzzer)

WORK="$FUZZ/.work"   # corpus grown by libFuzzer; the committed corpus/ stays the seeds only
SUMMARY=()
FOUND=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/corpus/$t" "$WORK/artifacts/$t" "$FUZZ/regressions/$t"
  execs=0
  crashes=0
  start=$(date +%s)
  # libFuzzer stops at the first crash: save it and go on until the time is used.
  while :; do
    left=$((SECS - ($(date +%s) - start)))
    [ "$left" -ge 2 ] || break
    logf="$WORK/$t.log"
    set +e
    (cd "$ROOT" && cargo +nightly fuzz run --fuzz-dir "$FUZZ" -s "$SAN" -a --features libfuzzer \
      "$t" "$WORK/corpus/$t" "$FUZZ/corpus/$t" -- \
      -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} \
      -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$t/") >"$logf" 2>&1
    rc=$?
    set -e
    # With FUZZ_JOBS the workers log to fuzz-N.log in the working directory.
    n=$(cat "$logf" "$ROOT"/fuzz-*.log 2>/dev/null \
      | grep -o 'stat::number_of_executed_units: *[0-9]*' | awk '{s+=$2} END {print s+0}' || true)
    rm -f "$ROOT"/fuzz-*.log
    execs=$((execs + n))
    new=0
    for a in "$WORK/artifacts/$t"/*; do
      [ -f "$a" ] || continue
      cp "$a" "$FUZZ/regressions/$t/$(basename "$a")"
      rm "$a"
      new=$((new + 1))
    done
    crashes=$((crashes + new))
    if [ "$rc" -ne 0 ] && [ "$new" -eq 0 ]; then
      tail -30 "$logf" >&2
      log "$t: libFuzzer failed without an artifact (exit $rc)"
      crashes=$((crashes + 1))
      break
    fi
    [ "$rc" -ne 0 ] || break
    grep -m1 -E '^(==[0-9]+== ERROR|thread .* panicked)' "$logf" >&2 || true
    [ "$crashes" -lt 5 ] || break
  done
  FOUND=$((FOUND + crashes))
  SUMMARY+=("$(printf '%-14s %4ss  %12s inputs tried  %d crashes' "$t" "$SECS" "$execs" "$crashes")")
  log "$t: $execs inputs, $crashes crashes"
done

log "stable replay of seeds and regressions"
cargo test --manifest-path "$FUZZ/Cargo.toml" --quiet

log "fuzz summary"
printf '%s\n' "${SUMMARY[@]}"
if [ "$FOUND" -gt 0 ]; then
  log "$FOUND crash(es) saved under fuzz/regressions/: fix them, keep the inputs as regression tests"
  exit 1
fi
