#!/usr/bin/env bash
# Fault injection (issue 7, proof under faults): the release `portal` is SIGKILLed during
# concurrent CSR submits and during bank reconciliation imports and restarted, the SMTP server
# goes down and comes back, and (PostgreSQL) the server's database connections are
# terminated; clients retry. After every round the database and the SMTP sink are checked:
# one certificate per application, unique serials, complete audit log, each mail event
# delivered with one Message-ID (redelivered copies counted), each bank file all-or-nothing.
# See RELIABILITY.md.
# Usage: scripts/faults.sh [--rounds N] [--backend sqlite|postgres|both] [--apps N]
#                          [--seconds S] [--seed N] [--keep] [-v]
# Default: both backends, as many rounds as fit in 140 s each (about 5 minutes in all).
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres; PORTAL_TEST_PG_URL overrides) and a
# python with aiosmtpd ($HOME/.cache/ccp/venv, from scripts/setup.sh test).
# Exit status: 0 no violations, 1 violations (listed), 2 the harness itself failed.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
log "building the release portal and the fault harness"
cargo build --release --locked -p server --bin portal -p faults --bin faults
exec "$CARGO_TARGET_DIR/release/faults" --portal "$CARGO_TARGET_DIR/release/portal" "$@"
