#!/usr/bin/env bash
# Installs everything the portal and its tests need on Debian 12. Idempotent and quick when
# everything is present. Usage: scripts/setup.sh [run|test]   (default: test)
source "$(dirname "$0")/lib.sh"
mode="${1:-test}"

# fonts-noto-cjk: the browser tests' screenshots and the printed slip must show Chinese, not boxes.
APT_RUN=(ca-certificates curl pkg-config gcc libc6-dev)
APT_TEST=(chromium chromium-driver firefox-esr libnss3-tools openssl openjdk-17-jre-headless
          pcscd libpcsclite-dev vsmartcard-vpcd opensc util-linux python3 python3-pip python3-venv
          softhsm2 postgresql-client fonts-noto-cjk)

missing=()
want=("${APT_RUN[@]}"); [ "$mode" = test ] && want+=("${APT_TEST[@]}")
# card-bridge links libpcsclite, and it is a workspace member: `cargo build` needs it even to run.
want+=(libpcsclite-dev)
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# Node may come from NodeSource (npm bundled) rather than Debian; only install Debian's if absent.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  log "installing Rust (rustup)"
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  source "$HOME/.cargo/env"
fi
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# Python tools for tests: pkilint (certificate/CRL lint), cryptography (PFX interop, PIV
# emulator), aiosmtpd (a real SMTP server). A venv under the cache keeps them off the system.
if [ "$mode" = test ]; then
  VENV="$HOME/.cache/ccp/venv"
  if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
  "$VENV/bin/python" -c "import pkilint, cryptography, aiosmtpd" 2>/dev/null \
    || "$VENV/bin/pip" install -q pkilint cryptography aiosmtpd
fi

# npm packages: binaryen (wasm-opt; Debian's corrupts reference-types output), playwright-core
# (drives Debian's Chromium), puppeteer-core (drives Debian's Firefox ESR over WebDriver BiDi),
# node-forge (benchmark baseline); vite for the keygen package's bundler example (its test
# copies the example and installs from the npm cache this fills).
for dir in tests/browser tests/browser/vite-example card-bridge/tests/browser app/tests/browser; do
  if [ -f "$ROOT/$dir/package.json" ]; then
    (cd "$ROOT/$dir" && { [ -d node_modules ] && npm ls >/dev/null 2>&1 || npm ci --no-audit --no-fund --loglevel=error; })
  fi
done
