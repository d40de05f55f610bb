#!/usr/bin/env bash
# Builds authlab (release) and serves it at http://127.0.0.1:3000 on a SQLite file in data/.
# No other service is needed. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
source scripts/env.sh
exec cargo leptos serve --release
