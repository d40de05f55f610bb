#!/usr/bin/env bash
# Builds authlab (release) and serves it at http://127.0.0.1:3000. Ctrl-C stops it.
#
#   scripts/run.sh            SQLite file in data/ — no other service (the default)
#   scripts/run.sh postgres   PostgreSQL (database `authlab`), sessions in it too
#   scripts/run.sh redis      PostgreSQL, with sessions in Redis
#
# For the last two, scripts/services.sh installs and starts PostgreSQL and Redis if they are
# not already answering on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
case "$backend" in
    sqlite) ;;
    postgres | redis)
        eval "$(scripts/services.sh)"
        export DATABASE_URL=${DATABASE_URL:-$AUTHLAB_POSTGRES_URL}
        if [ "$backend" = redis ]; then
            export SESSION_STORE_URL=${SESSION_STORE_URL:-$AUTHLAB_TEST_REDIS_URL}
        fi
        ;;
    *) echo "usage: scripts/run.sh [sqlite|postgres|redis]" >&2; exit 2 ;;
esac
scripts/setup.sh build
source scripts/env.sh
exec cargo leptos serve --release
