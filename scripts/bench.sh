#!/usr/bin/env bash
# Benchmarks authlab's auth paths against a running release server, with oha (crates.io).
#
#   scripts/bench.sh            full run (~3 minutes after the build)
#   BENCH_SECS=5 scripts/bench.sh   shorter
#
# Every figure is requests per second from one run on this machine, and the ratios compare
# each route to GET /api/health (no auth, no store) measured in the same run. Results go to
# bench/results/<date>.md and .json.
#
# Targets (from the issues):
#   session /api/me  >= 0.5 x health        bearer /api/me >= 0.8 x health
#   during a 32-client login storm: /api/me p99 <= 5 ms, and logins keep completing
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
source scripts/env.sh

OHA_VERSION=1.16.0
SECS=${BENCH_SECS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
PORT=3200
BASE="http://127.0.0.1:$PORT"
OUT=bench/results
mkdir -p "$OUT" target/bench

if [ "$(oha --version 2>/dev/null || true)" != "oha $OHA_VERSION" ]; then
    echo "==> cargo: installing oha $OHA_VERSION"
    cargo install oha --locked --version "$OHA_VERSION"
fi

echo "==> building the release server"
cargo build --release -p server --locked --quiet
cargo build --release -p server --example refresh_load --locked --quiet

SERVER_PID=
start_server() {
    stop_server
    rm -rf target/bench/db && mkdir -p target/bench/db
    env LEPTOS_SITE_ADDR="127.0.0.1:$PORT" DATABASE_URL="sqlite://target/bench/db/authlab.db?mode=rwc" \
        SECRETS_FILE=target/bench/db/secrets.env ACCESS_TOKEN_TTL_SECS=3600 RUST_LOG=warn "$@" \
        target/release/server >target/bench/server.log 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 50); do curl -sf "$BASE/api/health" >/dev/null && return; sleep 0.1; done
    echo "server did not start" >&2; cat target/bench/server.log >&2; exit 1
}
stop_server() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    SERVER_PID=
}
trap stop_server EXIT

USER=benchuser
PASS='correct horse battery staple'
LOGIN_BODY="{\"username\":\"$USER\",\"password\":\"$PASS\"}"

prepare_credentials() {
    curl -sf "$BASE/api/auth/register" -H 'content-type: application/json' -d "$LOGIN_BODY" >/dev/null
    COOKIE=$(curl -sf -D - -o /dev/null "$BASE/api/session/login" -H 'content-type: application/json' \
        -d "$LOGIN_BODY" | sed -n 's/^set-cookie: \([^;]*\).*/\1/ip' | head -1)
    ACCESS=$(curl -sf "$BASE/api/token/login" -H 'content-type: application/json' -d "$LOGIN_BODY" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
}

# oha, JSON summary → one line: rps p50_ms p99_ms successes errors
run_oha() {
    local name=$1; shift
    oha --no-tui --output-format json -z "${SECS}s" "$@" >"target/bench/$name.json" 2>/dev/null
    python3 - "target/bench/$name.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]; p = d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
ok = sum(v for k, v in codes.items() if k.startswith("2"))
# Requests still in flight when the run ends are cut off by oha; they are not server errors.
cut = lambda k: "deadline" in k.lower() or "aborted" in k.lower()
bad = sum(v for k, v in codes.items() if not k.startswith("2")) + sum(
    v for k, v in d.get("errorDistribution", {}).items() if not cut(k))
print(f'{s["requestsPerSec"]:.0f} {p["p50"]*1000:.3f} {p["p99"]*1000:.3f} {ok} {bad}')
PY
}

declare -A RESULT
measure() {
    local name=$1; shift
    RESULT[$name]=$(run_oha "$name" "$@")
    printf '  %-22s %s\n' "$name" "${RESULT[$name]}"
}

echo "==> default server (bearer verification cache on, strict checking off)"
start_server
prepare_credentials
measure health         -c "$CONNS" "$BASE/api/health"
measure session_me     -c "$CONNS" -H "cookie: $COOKIE" "$BASE/api/me"
measure bearer_me      -c "$CONNS" -H "authorization: Bearer $ACCESS" "$BASE/api/me"

echo "==> token refresh (each worker rotates its own chain)"
REFRESH=$(target/release/examples/refresh_load "$BASE" "$USER" "$PASS" 8 "$SECS")
echo "  refresh                $REFRESH"

echo "==> login storm: $CONNS clients logging in while a paced probe calls /api/me"
oha --no-tui --output-format json -z "$((SECS + 4))s" -c 32 -m POST -H 'content-type: application/json' \
    -d "$LOGIN_BODY" "$BASE/api/session/login" >target/bench/storm_logins.json 2>/dev/null &
STORM=$!
sleep 2
measure storm_session_me -c 4 -q 200 -H "cookie: $COOKIE" "$BASE/api/me"
wait $STORM
STORM_LOGINS=$(python3 - <<'PY'
import json
d = json.load(open("target/bench/storm_logins.json"))
codes = d.get("statusCodeDistribution", {})
ok = codes.get("200", 0)
print(f'{d["summary"]["requestsPerSec"]:.1f} {ok} {sum(v for k, v in codes.items() if k != "200")}')
PY
)
echo "  storm logins           $STORM_LOGINS (logins/s, ok, refused)"

echo "==> strict server (every bearer request checks its token family in the store)"
start_server STRICT_TOKEN_CHECK=true
prepare_credentials
measure strict_health  -c "$CONNS" "$BASE/api/health"
measure strict_bearer_me -c "$CONNS" -H "authorization: Bearer $ACCESS" "$BASE/api/me"
stop_server

python3 - "$OUT" "$SECS" "$CONNS" "$REFRESH" "$STORM_LOGINS" <<PY
import json, sys, datetime, os, subprocess
out, secs, conns, refresh, storm = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5].split()
rows = {}
for line in """$(for k in "${!RESULT[@]}"; do echo "$k ${RESULT[$k]}"; done)""".strip().splitlines():
    name, rps, p50, p99, ok, bad = line.split()
    rows[name] = dict(rps=float(rps), p50_ms=float(p50), p99_ms=float(p99), ok=int(ok), errors=int(bad))
h, sh = rows["health"]["rps"], rows["strict_health"]["rps"]
ratio = lambda name, base: rows[name]["rps"] / base
storm_p99 = rows["storm_session_me"]["p99_ms"]
checks = [
    ("session /api/me >= 0.5 x health", ratio("session_me", h) >= 0.5, f'{ratio("session_me", h):.2f} x'),
    ("bearer /api/me >= 0.8 x health", ratio("bearer_me", h) >= 0.8, f'{ratio("bearer_me", h):.2f} x'),
    ("/api/me p99 <= 5 ms during the login storm", storm_p99 <= 5.0, f"{storm_p99:.2f} ms"),
    ("logins keep completing during the storm", int(storm[1]) > 0, f"{storm[0]} logins/s, {storm[1]} ok, {storm[2]} refused"),
]
stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
cpu = subprocess.run(["sh", "-c", "nproc; grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.split("\n")
lines = [f"# authlab benchmark {stamp}", "",
         f"oha, {secs} s per route, {conns} connections, release build, SQLite, {cpu[0]} cores ({cpu[1].strip()}).", "",
         "| route | req/s | x health | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|"]
for name, base in [("health", h), ("session_me", h), ("bearer_me", h), ("strict_health", sh), ("strict_bearer_me", sh)]:
    r = rows[name]
    lines.append(f'| {name} | {r["rps"]:.0f} | {r["rps"]/base:.2f} | {r["p50_ms"]:.3f} | {r["p99_ms"]:.3f} | {r["errors"]} |')
lines.append(f'| token refresh (8 chains) | {refresh["rps"]:.0f} | {refresh["rps"]/h:.2f} | {refresh["p50_ms"]:.3f} | {refresh["p99_ms"]:.3f} | {refresh["errors"]} |')
r = rows["storm_session_me"]
lines += ["", f'Login storm: 32 clients, {storm[0]} logins/s ({storm[1]} completed, {storm[2]} refused); '
          f'paced /api/me probe (200 req/s) p50 {r["p50_ms"]:.3f} ms, p99 {r["p99_ms"]:.3f} ms, {r["errors"]} errors.', "",
          "| target | result | met |", "|---|---|---|"]
lines += [f"| {name} | {value} | {'yes' if ok else 'NO'} |" for name, ok, value in checks]
text = "\n".join(lines) + "\n"
open(os.path.join(out, f"{stamp}.md"), "w").write(text)
json.dump(dict(rows=rows, refresh=refresh, storm=storm, checks=[[n, ok, v] for n, ok, v in checks]),
          open(os.path.join(out, f"{stamp}.json"), "w"), indent=2)
print("\n" + text)
sys.exit(0 if all(ok for _, ok, _ in checks) else 1)
PY
