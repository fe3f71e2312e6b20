#!/usr/bin/env bash
# Installs what Coexist Inbox needs to build, run and test on Debian 12, skipping what is already there.
# Safe to run again. Needs root or sudo for the Debian packages.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config libssl-dev file
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev librsvg2-dev
  libdbus-1-dev dbus dbus-x11
  webkit2gtk-driver xvfb xauth
  # xwininfo: the end-to-end test reads the window's title (the unread count) from the X server.
  x11-utils
  # A real Secret Service for the sign-in end-to-end test (the token lives in the OS keyring).
  gnome-keyring libsecret-tools
  # The UI marks media and attachments with emoji (📷 📎); a minimal system has no font for them.
  fonts-noto-color-emoji
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: installing the Rust toolchain with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi

if [ "${COEXIST_SKIP_TAURI_DRIVER:-0}" != 1 ] && ! command -v tauri-driver >/dev/null; then
  echo "setup: installing tauri-driver (WebDriver for the end-to-end tests)"
  cargo install tauri-driver --locked --quiet
fi
