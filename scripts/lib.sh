# Shared by run.sh, test.sh and setup.sh: where build output goes and how to become root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ccp/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
log() { printf '\n==> %s\n' "$*" >&2; }
