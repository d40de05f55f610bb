#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on loopback, for the backend tests, `run.sh postgres`,
# `run.sh redis` and the cluster. Where they already answer, nothing is touched. Where they do
# not (a fresh machine), they are installed from Debian's packages and started, and PostgreSQL
# gets a role and a database for authlab.
#
# Prints the connection URLs as shell assignments, for `eval "$(scripts/services.sh)"`:
#   AUTHLAB_TEST_POSTGRES_URL   the database the tests create their schemas in
#   AUTHLAB_POSTGRES_URL        the database `run.sh postgres` and the cluster use
#   AUTHLAB_TEST_REDIS_URL      Redis
# Everything else goes to stderr. Fails loudly if a service cannot be brought up.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root for: $*" >&2; exit 1
    fi
}
as_postgres() { as_root runuser -u postgres -- "$@"; }
apt_install() {
    say "apt: installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
answers() { psql "$1" -qtAc 'select 1' >/dev/null 2>&1; }

# --- PostgreSQL ---------------------------------------------------------------------------
# The machine's own set-up (trust auth for `postgres` on loopback, database `test`) is used as
# it is; otherwise authlab gets its own password role.
pg_default=${AUTHLAB_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_own=postgres://authlab:authlab@127.0.0.1:5432
if answers "$pg_default"; then
    pg_test=$pg_default
    pg_server=${pg_default%/*}
elif answers "$pg_own/authlab_test"; then
    pg_test=$pg_own/authlab_test
    pg_server=$pg_own
else
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    version=$(ls /etc/postgresql | sort -V | tail -1)
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        say "starting PostgreSQL $version"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
        for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
    pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
    say "PostgreSQL: creating role authlab and database authlab_test"
    as_postgres psql -qtAc "do \$\$ begin
        if not exists (select from pg_roles where rolname = 'authlab') then
          create role authlab login password 'authlab';
        end if; end \$\$;" >&2
    as_postgres psql -qtAc "select 1 from pg_database where datname = 'authlab_test'" | grep -q 1 ||
        as_postgres createdb -O authlab authlab_test >&2
    pg_test=$pg_own/authlab_test
    pg_server=$pg_own
    answers "$pg_test" || { echo "cannot log in to PostgreSQL as authlab" >&2; exit 1; }
fi
# The app's own database, beside the tests' one.
pg_app=$pg_server/authlab
if ! answers "$pg_app"; then
    say "PostgreSQL: creating database authlab"
    psql "$pg_test" -qtAc "create database authlab" >&2
fi

# --- Redis --------------------------------------------------------------------------------
redis_url=${AUTHLAB_TEST_REDIS_URL:-redis://127.0.0.1:6379}
if ! redis-cli -u "$redis_url" ping 2>/dev/null | grep -q PONG; then
    command -v redis-server >/dev/null || apt_install redis-server
    say "starting Redis on 127.0.0.1:6379 (no persistence)"
    as_root mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/authlab.log >&2
    for _ in $(seq 1 20); do redis-cli -u "$redis_url" ping 2>/dev/null | grep -q PONG && break; sleep 0.5; done
    redis-cli -u "$redis_url" ping 2>/dev/null | grep -q PONG || { echo "Redis does not answer at $redis_url" >&2; exit 1; }
fi

printf 'export AUTHLAB_TEST_POSTGRES_URL=%q\n' "$pg_test"
printf 'export AUTHLAB_POSTGRES_URL=%q\n' "$pg_app"
printf 'export AUTHLAB_TEST_REDIS_URL=%q\n' "$redis_url"
