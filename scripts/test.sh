#!/usr/bin/env bash
# The whole test suite, set-up included: formatting, lints (server and WASM builds), every Rust
# test — the API suite once per backend (SQLite; PostgreSQL; PostgreSQL with Redis sessions),
# against real servers that scripts/services.sh starts where they are missing — then the
# Playwright suite in Debian's Chromium against a freshly built (debug) server and the release
# WASM (split and precompressed, as it ships), and its login, profile and devices specs again
# against the cluster (nginx, three servers); then the first-visit size check (home and login
# within the budget, brotli) and short smoke runs of the long scripts (the soak, the cluster
# benchmark; the fuzz corpus and the multi-process cluster tests run inside `cargo test`).
# Every step has a time limit, so a hang fails the run instead of stalling it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
eval "$(scripts/services.sh)"

# step <minutes> <command...>: runs the command, failing it after that many minutes.
step() {
    local limit=$1 started=$SECONDS
    shift
    printf '\n\033[1m==> %s\033[0m\n' "$*"
    timeout --kill-after=30 "${limit}m" "$@"
    printf '\033[2m    (%ss)\033[0m\n' $((SECONDS - started))
}

step 5 cargo fmt --all --check
step 5 bash -c 'cd end2end && npx tsc -p tsconfig.json'
step 10 cargo deny --offline --locked check licenses bans sources
step 25 cargo clippy -p server --all-targets --locked -- -D warnings
step 15 cargo clippy -p app --features ssr --all-targets --locked -- -D warnings
step 15 cargo clippy -p frontend --target wasm32-unknown-unknown --locked -- -D warnings
step 15 cargo test -p app --features ssr --locked
step 30 cargo test -p server --locked
step 30 cargo leptos build --server-only
step 30 cargo leptos build --release --precompress --split --frontend-only
step 10 scripts/contract.sh
step 20 bash -c 'cd end2end && npx playwright test'
step 10 bash -c 'cd end2end && npx playwright test -c playwright.cluster.config.ts'
step 10 env FIRST_VISIT_SERVER=debug FIRST_VISIT_SITE=target/site FIRST_VISIT_BUILD=no FIRST_VISIT_RUNS=1 \
    scripts/first-visit.sh
step 5 env SOAK_SERVER=target/debug/server SOAK_SECS=20 SOAK_USERS=12 scripts/soak.sh
step 15 env BENCH_ONLY=cluster CLUSTER_PROFILE=debug BENCH_SECS=1 BENCH_ROUNDS=1 BENCH_COUNTED=200 \
    scripts/bench.sh
printf '\n\033[1mAll tests passed in %ss.\033[0m\n' "$SECONDS"
