#!/usr/bin/env bash
# Every test of the project: native crates (SQLite and PostgreSQL), interop with openssl,
# keytool, python cryptography, pk12util and pkilint, PC/SC card emulation, and real headless
# Chromium (keygen module, card bridge popup, the portal journey) and Firefox ESR (keygen
# module), the keygen npm package bundled by Vite, and a short fuzz run.
# Usage: scripts/test.sh            (installs what is missing first, via scripts/setup.sh)
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh" test
cd "$ROOT"

export PATH="$HOME/.cache/ccp/venv/bin:$PATH"
export PIV_PYTHON="${PIV_PYTHON:-$HOME/.cache/ccp/venv/bin/python}"
export PORTAL_TEST_PYTHON="${PORTAL_TEST_PYTHON:-$HOME/.cache/ccp/venv/bin/python}"
export PKILINT_BIN_DIR="${PKILINT_BIN_DIR:-$HOME/.cache/ccp/venv/bin}"

# PostgreSQL backs half of the database tests; start the machine's cluster if it is down.
if command -v pg_ctlcluster >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi

log "cargo test --workspace"
cargo test --workspace --locked

log "browser bundles (cargo xtask web)"
cargo xtask web

# card-bridge/tests/browser is driven by `cargo test -p card-bridge --test browser_popup`,
# which starts the card emulator and the bridge it needs. tests/browser runs the keygen suite
# in Chromium and in Firefox ESR (BROWSERS=chromium,firefox is its default) and the Vite
# example of the keygen npm package.
for dir in tests/browser app/tests/browser; do
  if [ -f "$dir/package.json" ] && grep -q '"test"' "$dir/package.json"; then
    log "browser tests: $dir"
    (cd "$dir" && npm test)
  fi
done
# Bad input: a short libFuzzer run of every fuzz target (the nightly-style run is
# `scripts/fuzz.sh` with its 300 s default). A crash fails the run and is saved under
# fuzz/regressions/, which the replay and property tests above then keep.
log "short fuzz run (${FUZZ_CI_SECONDS:-15} s per target)"
"$ROOT/scripts/fuzz.sh" "${FUZZ_CI_SECONDS:-15}"
log "all tests passed"
