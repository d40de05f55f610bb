#!/usr/bin/env bash
# The first-visit report: for home, login, lab and profile in both modes, the WASM and JS a
# first visit downloads (raw, as sent, gzip, brotli) and the times to first contentful paint
# and to hydrated, measured in headless Chromium on loopback (end2end/perf/first-visit.spec.ts).
#
#   scripts/first-visit.sh                          release build (cargo leptos build --release --precompress --split)
#   FIRST_VISIT_PROFILE=debug FIRST_VISIT_RUNS=1 scripts/first-visit.sh   the test suite's smoke
#
# Writes bench/results/first-visit-<time>.md. It reports; it does not judge timings.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
profile=${FIRST_VISIT_PROFILE:-release}
if [ "$profile" = release ] && [ "${FIRST_VISIT_BUILD:-yes}" != no ]; then
    cargo leptos build --release --precompress --split
fi
[ -x "target/$profile/server" ] || { echo "target/$profile/server is missing: build it first" >&2; exit 1; }
cd end2end
FIRST_VISIT_PROFILE=$profile exec npx playwright test -c playwright.first-visit.config.ts
