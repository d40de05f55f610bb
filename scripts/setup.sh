#!/usr/bin/env bash
# Installs what building, running and testing authlab needs — and only what is missing.
# Safe to run again and again. Everything comes from the package registries (rustup,
# crates.io, npm, Debian apt); nothing downloads a binary from anywhere else.
#
#   scripts/setup.sh          everything (build + browser tests)
#   scripts/setup.sh build    only what building and running the app needs
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo-leptos 0.3.11 needs rustc 1.96; 0.3.10 is the newest that installs with --locked here.
CARGO_LEPTOS_VERSION=0.3.10
what=${1:-all}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root for: $*" >&2; exit 1
    fi
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "apt: installing ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
}

# --- Rust: the WebAssembly target --------------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "rustup: adding wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

# --- cargo-leptos (pinned) ---------------------------------------------------------------
if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    say "cargo: installing cargo-leptos $CARGO_LEPTOS_VERSION (takes ~20 minutes on 2 cores)"
    # Its release profile uses fat LTO; turning that off makes the install twice as fast.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        cargo install --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION"
fi

# --- wasm-bindgen-cli: exactly the version in Cargo.lock ----------------------------------
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WBG_VERSION" ]; then
    say "cargo: installing wasm-bindgen-cli $WBG_VERSION"
    # Without --locked: its own lockfile pins a crate version the registry no longer has.
    cargo install wasm-bindgen-cli --version "$WBG_VERSION" --force
fi

# --- wasm-opt for release builds: binaryen from npm (Debian's 108 breaks hydration) -------
if [ ! -x tools/node_modules/.bin/wasm-opt ]; then
    say "npm: installing wasm-opt (binaryen) into tools/"
    (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- The local OpenID provider (oidc-provider from npm) that "Sign in with ..." talks to -----
# run.sh starts it beside the app when Node is here; without Node the app runs without it.
if command -v node >/dev/null; then
    if [ ! -d tools/oidc/node_modules/oidc-provider ] || [ tools/oidc/package-lock.json -nt tools/oidc/node_modules/.package-lock.json ]; then
        say "npm: installing the local OpenID provider into tools/oidc"
        (cd tools/oidc && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi

[ "$what" = build ] && exit 0

# --- cargo-deny (licences, bans, sources), pinned ------------------------------------------
CARGO_DENY_VERSION=0.20.2
if [ "$(cargo deny --version 2>/dev/null || true)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
    say "cargo: installing cargo-deny $CARGO_DENY_VERSION"
    # Its release profile is fat LTO with one codegen unit; without them it builds in a
    # fraction of the time and checks this workspace in seconds all the same.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION"
fi

# --- Contract tests: schemathesis from PyPI into tools/venv -------------------------------
if [ ! -x tools/venv/bin/schemathesis ] || [ tools/requirements.txt -nt tools/venv/bin/schemathesis ]; then
    say "pip: installing schemathesis into tools/venv"
    python3 -m venv tools/venv
    tools/venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
    touch tools/venv/bin/schemathesis
fi

# --- The cluster tests: nginx in front of several servers -----------------------------------
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    apt_install nginx
    # Debian's package starts a system nginx on port 80; the tests run their own.
    as_root service nginx stop >/dev/null 2>&1 || true
fi

# --- Browser tests: Debian's Chromium and Playwright from npm ----------------------------
# With a CJK font, the seed notes (Korean) render as text in screenshots, not as boxes.
apt_install chromium fonts-noto-cjk
if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "npm: installing end2end packages"
    # Playwright must never download its own browsers: Debian's chromium is used.
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
say "set-up complete"
