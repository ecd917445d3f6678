#!/usr/bin/env bash
# Restore a PostgreSQL backup of the portal into a new, empty database and prove that a
# portal serves from it (docs/OPERATIONS.md, "Backups and restore"):
#   1. pg_restore the dump (custom format, `pg_dump -Fc`) into the database,
#   2. `portal migrate` (a dump from an older release gets the newer migrations),
#   3. `portal check-config` with the restored CA material,
#   4. `portal serve` on a free loopback port until /readyz answers 200 and the CRL is served,
#      then stop it and print how many applications and certificates the database holds.
# Usage: scripts/restore.sh DUMP DATABASE_URL CONFIG_TOML
#   DATABASE_URL: the new, empty database (create it first: createdb -O portal portal_restored)
#   CONFIG_TOML:  the configuration to serve with (its CA files from the backup); its
#                 database_url is overridden by DATABASE_URL.
# PORTAL_BIN names the portal binary (default: $CARGO_TARGET_DIR/release/portal, else debug).
set -euo pipefail
if [ $# -ne 3 ]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
dump="$1" url="$2" config="$3"
log() { printf '==> %s\n' "$*" >&2; }
bin="${PORTAL_BIN:-}"
if [ -z "$bin" ]; then
  for b in "${CARGO_TARGET_DIR:-target}/release/portal" "${CARGO_TARGET_DIR:-target}/debug/portal"; do
    if [ -x "$b" ]; then bin="$b"; break; fi
  done
fi
[ -x "$bin" ] || { echo "restore.sh: no portal binary (set PORTAL_BIN)" >&2; exit 1; }
work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

log "restoring $dump"
pg_restore --no-owner --no-privileges --exit-on-error --dbname "$url" "$dump"

export PORTAL_CONFIG="$config" PORTAL_DATABASE_URL="$url"
log "migrating"
"$bin" migrate
log "checking the configuration"
"$bin" check-config

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log "serving from the restored database on 127.0.0.1:$port"
PORTAL_BIND="127.0.0.1:$port" PORTAL_PUBLIC_URL="http://127.0.0.1:$port" \
  PORTAL_EXPIRY_INTERVAL_SECS=0 PORTAL_MAIL_WORKER=false \
  "$bin" serve >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/serve.log" >&2; exit 1; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }
curl -fsS -o "$work/ca.crl" "http://127.0.0.1:$port/crl/ca.crl"
[ -s "$work/ca.crl" ] || { echo "restore.sh: empty CRL" >&2; exit 1; }
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
apps="$(psql "$url" -Atc 'SELECT COUNT(*) FROM applications')"
certs="$(psql "$url" -Atc 'SELECT COUNT(*) FROM certificates WHERE cert_der IS NOT NULL')"
echo "restored: $apps applications, $certs certificates; served /readyz and the CRL"
