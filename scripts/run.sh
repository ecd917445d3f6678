#!/usr/bin/env bash
# Builds and runs the portal with no configuration: embedded SQLite and a local CA generated
# on first start in ./data, mail written to ./data/mail (a maildir), web app from ./dist.
# Any PORTAL_* variable or a portal.toml (PORTAL_CONFIG) overrides the defaults; see README.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh" run
cd "$ROOT"
log "building the browser bundles (cargo xtask web)"
cargo xtask web
log "building the server"
cargo build --release --locked -p server
if [[ "${PORTAL_AUTH__DEV_LOGIN:-false}" != "true" ]]; then
  log "applicants log in with an IC card; to try the portal without one, run with PORTAL_AUTH__DEV_LOGIN=true"
fi
log "operator accounts: echo 'a long passphrase' | $CARGO_TARGET_DIR/release/portal operator add --username NAME --role admin (roles: cashier, officer, auditor, admin)"
log "starting the portal on ${PORTAL_BIND:-127.0.0.1:8080}"
exec "$CARGO_TARGET_DIR/release/portal" serve "$@"
