#!/usr/bin/env bash
# Fuzzes what an attacker sends — the Authorization header and JWTs, the Cookie header, the
# CSRF origin check, login/refresh bodies, the post-login `next` — with cargo-fuzz (libFuzzer).
# Each target runs for FUZZ_SECS seconds (default 300) from the committed seeds in
# fuzz/corpus/<target>; what it learns goes to target/fuzz-corpus/<target> (not committed),
# a crash to fuzz/artifacts/<target>/. Prints executions and crashes per target; exits 1 on
# any crash.
#
#   scripts/fuzz.sh                      every target, 5 minutes each
#   FUZZ_SECS=20 scripts/fuzz.sh jwt     one target, briefly
#
# On the stable toolchain: cargo-fuzz's `-s none` (no sanitizer) needs no nightly flag, so it
# runs as is. AddressSanitizer (`-s address`) would need nightly's -Zsanitizer; the targets
# are safe Rust, so the coverage-guided search is what matters here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
CARGO_FUZZ_VERSION=0.13.1
if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    echo "==> cargo: installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
secs=${FUZZ_SECS:-300}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(authorization jwt cookie_header csrf_origin bodies next_redirect)

cd fuzz
echo "==> building the fuzz targets (release, instrumented)"
cargo fuzz build -s none
total=0
failed=0
for t in "${targets[@]}"; do
    mkdir -p "../target/fuzz-corpus/$t"
    log="../target/fuzz-corpus/$t.log"
    echo "==> $t: ${secs}s"
    set +e
    cargo fuzz run -s none "$t" "../target/fuzz-corpus/$t" "corpus/$t" -- \
        -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    execs=$(awk '/stat::number_of_executed_units/ { print $NF }' "$log" | tail -1)
    execs=${execs:-0}
    total=$((total + execs))
    if [ $rc -ne 0 ]; then
        failed=$((failed + 1))
        echo "    CRASH (exit $rc) after $execs executions; see fuzz/$log and fuzz/artifacts/$t/"
        tail -20 "$log"
    else
        echo "    $execs executions, 0 crashes"
    fi
done
echo "==> fuzzing: $total executions in total, $failed target(s) crashed"
[ $failed -eq 0 ]
