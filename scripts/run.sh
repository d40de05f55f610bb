#!/usr/bin/env bash
# Builds authlab (release) and serves it at http://127.0.0.1:3000. Ctrl-C stops it.
#
#   scripts/run.sh            SQLite file in data/ — no other service (the default)
#   scripts/run.sh postgres   PostgreSQL (database `authlab`), sessions in it too
#   scripts/run.sh redis      PostgreSQL, with sessions in Redis
#
# For the last two, scripts/services.sh installs and starts PostgreSQL and Redis if they are
# not already answering on loopback.
#
# "Sign in with ..." talks to the local OpenID provider (tools/oidc, on 127.0.0.1:4400), which
# this script starts beside the app when Node is installed — unless OIDC_ISSUER names another
# provider. Without Node the app runs all the same and the button says no provider is set up.
# The provider's test users: alice / alice-password, bob / bob-password.
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

app_url=${PUBLIC_URL:-http://127.0.0.1:3000}
if [ -z "${OIDC_ISSUER:-}" ] && command -v node >/dev/null && [ -d tools/oidc/node_modules/oidc-provider ]; then
    OIDC_PORT=${OIDC_PORT:-4400}
    # A new client secret at every start: the provider and the app are told the same one.
    OIDC_CLIENT_SECRET=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    log=$(mktemp)
    OIDC_PORT=$OIDC_PORT OIDC_CLIENT_SECRET=$OIDC_CLIENT_SECRET \
        OIDC_REDIRECT_URIS="$app_url/auth/oidc/callback" \
        OIDC_POST_LOGOUT_URIS="$app_url/session/login,$app_url/token/login" \
        node tools/oidc/provider.mjs >"$log" 2>&1 &
    provider_pid=$!
    trap 'kill $provider_pid 2>/dev/null; rm -f "$log"' EXIT
    for _ in $(seq 1 100); do
        grep -q OIDC_PROVIDER_READY "$log" && break
        kill -0 $provider_pid 2>/dev/null || { cat "$log" >&2; echo "the OpenID provider did not start" >&2; exit 1; }
        sleep 0.1
    done
    export OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT" OIDC_CLIENT_SECRET
    export OIDC_PROVIDER_NAME=${OIDC_PROVIDER_NAME:-"the local OpenID provider"}
    echo "OpenID provider at $OIDC_ISSUER (users: alice / alice-password, bob / bob-password)"
fi
cargo leptos serve --release --precompress --split
