#!/usr/bin/env bash
# The soak: ten minutes of mixed traffic against the release server (scripts/soak.py says
# what it sends and what it asserts: no 5xx, no 401 for live credentials, flat memory).
#
#   scripts/soak.sh                      the full run (10 minutes after the build)
#   SOAK_SECS=30 scripts/soak.sh         a short run
#   SOAK_SERVER=target/debug/server SOAK_SECS=20 scripts/soak.sh
#                                        the smoke run the test suite does (no release build)
#
# Writes target/soak/report.json; exits 1 if a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${SOAK_SERVER:-target/release/server}
if [ "$server" = target/release/server ]; then
    scripts/setup.sh build
    source scripts/env.sh
    echo "==> building the release server"
    cargo build --release -p server --locked --quiet
fi
[ -x "$server" ] || { echo "no server binary at $server" >&2; exit 1; }
exec python3 scripts/soak.py
