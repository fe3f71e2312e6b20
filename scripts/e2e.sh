#!/usr/bin/env bash
# End-to-end test of the desktop app: the real binary under a private Xvfb display and a private
# D-Bus session (both started by the test itself), driven by tauri-driver + WebKitWebDriver,
# against the real sandbox and bridge started in the test process.
#
# Needs: Xvfb (apt: xvfb), dbus-daemon (apt: dbus), WebKitWebDriver (apt: webkit2gtk-driver),
# xwininfo (apt: x11-utils), tauri-driver (cargo install tauri-driver --locked). The test fails, naming what is missing.
# Screenshot of the main screen: target/e2e/inbox.png
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v Xvfb >/dev/null || missing+=("Xvfb (apt-get install xvfb)")
command -v dbus-daemon >/dev/null || missing+=("dbus-daemon (apt-get install dbus)")
command -v WebKitWebDriver >/dev/null || missing+=("WebKitWebDriver (apt-get install webkit2gtk-driver)")
command -v xwininfo >/dev/null || missing+=("xwininfo (apt-get install x11-utils)")
command -v tauri-driver >/dev/null || [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ] \
  || missing+=("tauri-driver (cargo install tauri-driver --locked)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'e2e: missing %s\n' "${missing[@]}" >&2
  exit 1
fi

# `cargo test` builds target/debug/coexist-inbox first (the test uses CARGO_BIN_EXE_coexist-inbox).
cargo test -p coexist-inbox --test e2e -- --nocapture "$@"
echo "screenshot: target/e2e/inbox.png"
