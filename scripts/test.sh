#!/usr/bin/env bash
# The whole test suite, set-up included: formatting, lints (server and WASM builds), every Rust
# test — the API suite once per backend (SQLite; PostgreSQL; PostgreSQL with Redis sessions),
# against real servers that scripts/services.sh starts where they are missing — then the
# Playwright suite in Debian's Chromium against a freshly built server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
eval "$(scripts/services.sh)"

step() {
    local started=$SECONDS
    printf '\n\033[1m==> %s\033[0m\n' "$*"
    "$@"
    printf '\033[2m    (%ss)\033[0m\n' $((SECONDS - started))
}

step cargo fmt --all --check
step bash -c 'cd end2end && npx tsc -p tsconfig.json'
step cargo clippy -p server --all-targets --locked -- -D warnings
step cargo clippy -p app --features ssr --all-targets --locked -- -D warnings
step cargo clippy -p frontend --target wasm32-unknown-unknown --locked -- -D warnings
step cargo test -p app --features ssr --locked
step cargo test -p server --locked
step cargo leptos build
step scripts/contract.sh
step bash -c 'cd end2end && npx playwright test'
printf '\n\033[1mAll tests passed in %ss.\033[0m\n' "$SECONDS"
