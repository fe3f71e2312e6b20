#!/usr/bin/env bash
# Sets up what is missing and runs Coexist Inbox. With no COEXIST_BRIDGE_URL it runs in sandbox mode:
# a simulated WhatsApp Cloud API and an embedded bridge, no Meta account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
COEXIST_SKIP_TAURI_DRIVER=1 ./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build -p coexist-inbox
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display found; running under a virtual X server (xvfb-run)."
  exec xvfb-run -a dbus-run-session -- target/debug/coexist-inbox "$@"
fi
exec target/debug/coexist-inbox "$@"
