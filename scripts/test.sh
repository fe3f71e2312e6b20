#!/usr/bin/env bash
# Sets up what is missing and runs every test: unit, integration, fault and hostile-input suites, and the
# end-to-end suite (the real app under Xvfb, driven by tauri-driver, on a private D-Bus session bus).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
export RUST_BACKTRACE=1
# A clean clone builds once: the incremental cache would only take disk (4 GB).
export CARGO_INCREMENTAL=0
cargo build --workspace --all-targets
# The bridge's Postgres backend runs the same tests as its SQLite one, against a real server.
COEXIST_TEST_POSTGRES="$(./scripts/test-postgres.sh)"
export COEXIST_TEST_POSTGRES COEXIST_REQUIRE_POSTGRES=1
exec xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- cargo test --workspace --no-fail-fast "$@"
