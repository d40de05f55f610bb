#!/usr/bin/env bash
# Benchmarks authlab's auth paths on every backend: the release server on SQLite, on
# PostgreSQL, and on PostgreSQL with sessions in Redis, measured with oha (crates.io) and wrk
# (Debian). The measuring and the report are scripts/bench.py.
#
#   scripts/bench.sh                       full run (~8 minutes after the build)
#   BENCH_SECS=2 BENCH_ROUNDS=1 scripts/bench.sh   a quick smoke run
#   BENCH_ONLY=storm scripts/bench.sh      the login storm and its hashing target alone
#   BENCH_ONLY=cluster scripts/bench.sh    nginx + 3 servers + the API server (bench_cluster.py)
#
# Results go to bench/results/<date>.md and .json; the exit status is 1 if a target is missed.
# Targets:
#   session /api/me: SQLite >= 0.85 x health; PostgreSQL and Redis >= 0.5 x health with every
#   request going to the store; bearer /api/me >= 0.9 x health on every backend; a 32-client
#   login storm reaches 0.85 x (cores / one hash's time) logins/s while GET /api/me keeps its
#   p99 at or under 5 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
source scripts/env.sh
eval "$(scripts/services.sh)"

OHA_VERSION=1.16.0
if [ "$(oha --version 2>/dev/null || true)" != "oha $OHA_VERSION" ]; then
    echo "==> cargo: installing oha $OHA_VERSION"
    cargo install oha --locked --version "$OHA_VERSION"
fi
command -v wrk >/dev/null || {
    echo "==> apt: installing wrk"
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk; else sudo apt-get install -y -qq wrk; fi
}

if [ "${BENCH_ONLY:-}" = cluster ]; then
    # nginx, three app servers and the API server (scripts/cluster.sh), measured together.
    if [ "${CLUSTER_PROFILE:-release}" = release ]; then
        echo "==> building the release server"
        cargo build --release -p server --locked --quiet
    fi
    exec python3 scripts/bench_cluster.py
fi

echo "==> building the release server"
cargo build --release -p server --locked --quiet
cargo build --release -p server --example refresh_load --example hash_time --locked --quiet

exec python3 scripts/bench.py
