#!/usr/bin/env bash
# The first-visit report: for home, login, lab and profile in both modes, the WASM and JS a
# first visit downloads (raw, as sent, gzip, brotli) and the times to first contentful paint
# and to hydrated, measured in headless Chromium on loopback (end2end/perf/first-visit.spec.ts).
#
#   scripts/first-visit.sh                 release site and server (cargo leptos build --release)
#   FIRST_VISIT_SERVER=debug FIRST_VISIT_RUNS=1 scripts/first-visit.sh
#                                          the release site (WASM, JS, CSS; --frontend-only)
#                                          served by the debug server: the bytes are the release
#                                          bytes, the times are not
#   FIRST_VISIT_SITE=target/site FIRST_VISIT_BUILD=no ...
#                                          a release site already built (the test command's run)
#
# A release site is built into FIRST_VISIT_SITE (default target/site-release, beside the debug
# site in target/site). Writes bench/results/first-visit-<time>.md. It fails when home or login
# is over the size budget (FIRST_VISIT_BUDGET_KIB, brotli, default 310) and reports how far they
# are from the 200 KiB target; it reports times, it does not judge them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
profile=${FIRST_VISIT_PROFILE:-release}
server=${FIRST_VISIT_SERVER:-$profile}
site=${FIRST_VISIT_SITE:-target/site-release}
[ "$profile" = release ] || site=${FIRST_VISIT_SITE:-target/site}
if [ "$profile" = release ] && [ "${FIRST_VISIT_BUILD:-yes}" != no ]; then
    only=()
    [ "$server" = release ] || only=(--frontend-only)
    LEPTOS_SITE_ROOT=$site LEPTOS_HASH_FILE_NAME="$PWD/$site/hash.txt" cargo leptos build --release --precompress --split "${only[@]}"
fi
[ -x "target/$server/server" ] || { echo "target/$server/server is missing: build it first" >&2; exit 1; }
cd end2end
FIRST_VISIT_PROFILE=$profile FIRST_VISIT_SERVER=$server FIRST_VISIT_SITE=$site exec npx playwright test -c playwright.first-visit.config.ts
