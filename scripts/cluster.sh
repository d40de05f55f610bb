#!/usr/bin/env bash
# Runs authlab as a cluster on this machine, until Ctrl-C:
#
#   browser ──> nginx 127.0.0.1:8080 ──round robin──> app servers 127.0.0.1:3001…300N
#                  │                                       │  PostgreSQL (users, tokens)
#                  └── /resource/ ──> API server :3030     │  Redis (sessions, throttle, events)
#                                     (JWKS only)  <───────┘  /.well-known/jwks.json
#
#   scripts/cluster.sh            3 app servers, release build
#   CLUSTER_SERVERS=2 scripts/cluster.sh
#   CLUSTER_PROFILE=debug scripts/cluster.sh   uses target/debug/server (the test suite does)
#   CLUSTER_BUILD=no                           uses the binary as it is (no cargo leptos build)
#
# Installs what is missing (Rust tools, nginx, PostgreSQL, Redis), builds, starts everything,
# prints the URLs and stops everything it started on Ctrl-C (or when killed). Logs and the
# generated nginx.conf go to $CLUSTER_DIR (default data/cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

servers=${CLUSTER_SERVERS:-3}
profile=${CLUSTER_PROFILE:-release}
listen=${CLUSTER_LISTEN:-127.0.0.1:8080}
first_port=${CLUSTER_FIRST_PORT:-3001}
api_addr=${CLUSTER_API_ADDR:-127.0.0.1:3030}
dir=$(mkdir -p "${CLUSTER_DIR:-data/cluster}" && cd "${CLUSTER_DIR:-data/cluster}" && pwd)
public_url=http://$listen

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root for: $*" >&2; exit 1
    fi
}

# --- What the cluster needs -----------------------------------------------------------------
scripts/setup.sh build
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    say "apt: installing nginx"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
    # Debian starts a system nginx on port 80; the cluster runs its own.
    as_root service nginx stop >/dev/null 2>&1 || true
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
# (A failing command substitution inside `eval "$(…)"` would not stop the script.)
services=$(scripts/services.sh)
eval "$services"

if [ "$profile" = release ] && [ "${CLUSTER_BUILD:-yes}" != no ]; then
    source scripts/env.sh
    say "building (release)"
    cargo leptos build --release --precompress --split
fi
bin=target/$profile/server
[ -x "$bin" ] || { echo "$bin is missing: build it first (cargo leptos build)" >&2; exit 1; }

# --- Shared secrets: every app server must derive the same keys ------------------------------
secrets=$dir/secrets.env
if [ ! -s "$secrets" ]; then
    umask 077
    python3 - >"$secrets" <<'EOF'
import secrets
print(f"JWT_SECRET={secrets.token_urlsafe(32)}")
print(f"REFRESH_TOKEN_SECRET={secrets.token_urlsafe(32)}")
EOF
fi
set -a
# shellcheck disable=SC1090
source "$secrets"
set +a

# --- Start, and stop everything on the way out -------------------------------------------------
pids=()
stop() {
    trap - INT TERM EXIT
    [ ${#pids[@]} -gt 0 ] || return 0
    say "stopping the cluster"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    # Ten seconds to finish in-flight requests, then no more waiting.
    for _ in $(seq 1 100); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && return 0
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

wait_for() { # url what pid: the process must stay alive (a port already taken makes it exit)
    for _ in $(seq 1 600); do
        kill -0 "$3" 2>/dev/null || {
            echo "$2 exited at start (is its port taken?); see $dir/*.log" >&2
            exit 1
        }
        curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$2 did not come up ($1); see $dir/*.log" >&2
    exit 1
}

export DATABASE_URL=${CLUSTER_DATABASE_URL:-$AUTHLAB_POSTGRES_URL}
export SESSION_STORE_URL=$AUTHLAB_TEST_REDIS_URL
export REDIS_URL=$AUTHLAB_TEST_REDIS_URL
export REDIS_KEY_PREFIX=${CLUSTER_REDIS_PREFIX:-authlab-cluster:}
export TRUSTED_PROXIES=127.0.0.1
export PUBLIC_URL=$public_url
export LEPTOS_SITE_ROOT=target/site
export SECRETS_FILE=$secrets
export RUST_LOG=${RUST_LOG:-warn}
# The lab's attacker origin on any free port: port + 10 would meet another server's port.
export LAB_ATTACKER_ADDR=127.0.0.1:0

upstreams=""
for i in $(seq 1 "$servers"); do
    port=$((first_port + i - 1))
    LEPTOS_SITE_ADDR=127.0.0.1:$port "$bin" >"$dir/app-$i.log" 2>&1 &
    pids+=($!)
    upstreams+="        server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
    # One at a time: the first one runs the migrations and adds the first signing key.
    wait_for "http://127.0.0.1:$port/api/health" "app server $i" $!
done

mkdir -p "$dir/nginx/tmp"
awk -v ups="$upstreams" -v dir="$dir/nginx" -v listen="$listen" -v api="$api_addr" '
    /@UPSTREAMS@/ { printf "%s", ups; next }
    { gsub(/@DIR@/, dir); gsub(/@LISTEN@/, listen); gsub(/@API@/, api); print }
' tools/cluster/nginx.conf.in >"$dir/nginx/nginx.conf"
"$nginx_bin" -t -q -p "$dir/nginx" -c "$dir/nginx/nginx.conf" 2>"$dir/nginx.log" || {
    cat "$dir/nginx.log" >&2; exit 1; }
"$nginx_bin" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" >>"$dir/nginx.log" 2>&1 &
nginx_pid=$!
pids+=($nginx_pid)
wait_for "$public_url/api/health" nginx $nginx_pid

# The API server gets nothing but where the public keys are: no secret, no database.
env -i PATH="$PATH" RUST_LOG="$RUST_LOG" API_ADDR="$api_addr" \
    JWKS_URL="$public_url/.well-known/jwks.json" "$bin" --role api >"$dir/api.log" 2>&1 &
pids+=($!)
wait_for "$public_url/resource/api/health" "the API server" $!

cat >&2 <<EOF

authlab cluster is up ($servers app servers, $profile build):
  the app, through nginx     $public_url
  app servers directly       $(for i in $(seq 1 "$servers"); do printf 'http://127.0.0.1:%s ' $((first_port + i - 1)); done)
  the API server             $public_url/resource/api/me   (directly: http://$api_addr/api/me)
  public keys (JWKS)         $public_url/.well-known/jwks.json
  database / sessions        ${DATABASE_URL//\/\/*@/\/\/…@} / $SESSION_STORE_URL (prefix $REDIS_KEY_PREFIX)
  logs                       $dir
Ctrl-C stops everything.
EOF
# Until Ctrl-C. An app server may be killed (nginx routes around it: that is a demo worth
# running); if nginx itself dies, everything stops.
wait "$nginx_pid" || true
say "nginx exited; see $dir/nginx.log"
exit 1
