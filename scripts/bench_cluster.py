#!/usr/bin/env python3
"""The cluster benchmark: GET /api/me through nginx in front of three app servers (sessions in
Redis) — session vs bearer vs the separate API server with bearer — next to one app server
without nginx, all from one run.

Called by `BENCH_ONLY=cluster scripts/bench.sh` (which installs oha and builds the release
server). Starts the cluster with scripts/cluster.sh. On this 2-core machine every process
(nginx, three servers, the API server, PostgreSQL, Redis and the load tool) shares two cores,
so the point is the cost per request, not scaling: figures are reported as ratios to
GET /api/health on the same path, and as store round trips per request, counted from Redis'
and PostgreSQL's own statistics around a fixed number of requests.

Writes bench/results/cluster-<stamp>.md and .json. `SESSION_CACHE_SECS=0` in the environment
turns the servers' session read cache off, to count what every session request costs the store.
"""

import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

# oha's runner and summary are bench.py's (same directory).
from bench import oha

SECS = int(os.environ.get("BENCH_SECS", "4"))  # bench.py's oha reads the same variable
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
COUNTED = int(os.environ.get("BENCH_COUNTED", "4000"))
PROFILE = os.environ.get("CLUSTER_PROFILE", "release")
LISTEN = "127.0.0.1:8280"
FRONT = f"http://{LISTEN}"
FIRST_PORT = 3301
DIRECT = f"http://127.0.0.1:{FIRST_PORT}"
API_DIRECT = "http://127.0.0.1:3310"
PREFIX = "authlab-bench-cluster:"
PASSWORD = "correct horse battery staple"
REDIS_URL = os.environ.get("AUTHLAB_TEST_REDIS_URL", "redis://127.0.0.1:6379")
PG_URL = os.environ.get("AUTHLAB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/authlab")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    return urllib.request.urlopen(req, timeout=30)


def redis_commands():
    out = subprocess.run(["redis-cli", "-u", REDIS_URL, "info", "stats"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("total_commands_processed:"):
            return int(line.split(":")[1])
    raise SystemExit("redis-cli gave no total_commands_processed")


def pg_statements():
    # Transactions committed in the app's database: every query the app sends outside a
    # transaction is one, and each of its transactions is one.
    out = subprocess.run(["psql", PG_URL, "-qtAc",
                          "select xact_commit + xact_rollback from pg_stat_database "
                          "where datname = current_database()"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def start_cluster():
    env = dict(os.environ)
    env.update({
        "CLUSTER_PROFILE": PROFILE, "CLUSTER_BUILD": "no", "CLUSTER_DIR": "target/bench-cluster",
        "CLUSTER_LISTEN": LISTEN, "CLUSTER_FIRST_PORT": str(FIRST_PORT),
        "CLUSTER_API_ADDR": API_DIRECT.removeprefix("http://"), "CLUSTER_REDIS_PREFIX": PREFIX,
        "ACCESS_TOKEN_TTL_SECS": "3600",
        # Registration and login from one address, many times: not what the throttle is for.
        "REGISTER_MAX_PER_IP": "1000",
    })
    os.makedirs("target", exist_ok=True)
    log_file = open("target/bench-cluster.log", "w")
    proc = subprocess.Popen(["scripts/cluster.sh"], env=env, start_new_session=True,
                            stdout=log_file, stderr=log_file)
    return proc


def wait_until_up(proc):
    deadline = time.time() + 600
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("scripts/cluster.sh exited; see target/bench-cluster.log")
        try:
            urllib.request.urlopen(FRONT + "/resource/api/health", timeout=1)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the cluster did not come up; see target/bench-cluster.log")


def stop_cluster(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main():
    proc = start_cluster()
    try:
        wait_until_up(proc)
        run()
    finally:
        stop_cluster(proc)


def run():
    user = f"bench{int(time.time())}"
    creds = {"username": user, "password": PASSWORD}
    post(FRONT, "/api/auth/register", creds)
    cookie = post(FRONT, "/api/session/login", creds).headers["set-cookie"].split(";")[0]
    access = json.load(post(FRONT, "/api/token/login", creds))["access_token"]
    routes = {
        "direct health": ["-H", "x-bench: 1", DIRECT + "/api/health"],
        "direct session": ["-H", f"cookie: {cookie}", DIRECT + "/api/me"],
        "direct bearer": ["-H", f"authorization: Bearer {access}", DIRECT + "/api/me"],
        "nginx health": ["-H", "x-bench: 1", FRONT + "/api/health"],
        "nginx session": ["-H", f"cookie: {cookie}", FRONT + "/api/me"],
        "nginx bearer": ["-H", f"authorization: Bearer {access}", FRONT + "/api/me"],
        "nginx api-server bearer": ["-H", f"authorization: Bearer {access}",
                                    FRONT + "/resource/api/me"],
    }
    for name, args in routes.items():  # every route answers 200 before it is timed
        r = oha(["-c", "1", *args], requests=5)
        if r["ok"] != 5:
            raise SystemExit(f"{name} does not answer 200: {r}")
    samples = {n: [] for n in routes}
    for _ in range(ROUNDS):
        for n, args in routes.items():
            samples[n].append(oha(["-c", str(CONNS), *args]))
    result = {}
    for n, runs in samples.items():
        result[n] = dict(rps=statistics.median(r["rps"] for r in runs),
                         p99=statistics.median(r["p99"] for r in runs),
                         errors=sum(r["errors"] for r in runs))
    for n in routes:
        base = "direct health" if n.startswith("direct") else "nginx health"
        result[n]["x_health"] = result[n]["rps"] / result[base]["rps"]
        result[n]["x_direct_health"] = result[n]["rps"] / result["direct health"]["rps"]
    # Store round trips: a fixed number of requests, Redis commands and PostgreSQL
    # transactions counted before and after (the counts include the servers' own background
    # work over those seconds, so they are an upper bound).
    for n in ["nginx session", "nginx bearer", "nginx api-server bearer"]:
        r0, p0 = redis_commands(), pg_statements()
        oha(["-c", str(CONNS), *routes[n]], requests=COUNTED)
        result[n]["redis_per_request"] = (redis_commands() - r0) / COUNTED
        result[n]["pg_per_request"] = (pg_statements() - p0) / COUNTED
    report(result)


def report(result):
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    os.makedirs("bench/results", exist_ok=True)
    lines = [
        f"# Cluster benchmark {stamp}",
        "",
        f"nginx (round robin) in front of 3 app servers (PostgreSQL, sessions in Redis) and the "
        f"API server; {PROFILE} build; oha, {CONNS} connections, {ROUNDS} interleaved rounds of "
        f"{SECS} s, medians; each server's session read cache: SESSION_CACHE_SECS="
        f"{os.environ.get('SESSION_CACHE_SECS', '5 (default)')}. All on one 2-core machine: "
        f"read the ratios, not the totals.",
        "",
        "| route | req/s | p99 ms | × health (same path) | × one server's health | Redis cmds/req | PG xacts/req |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, r in result.items():
        lines.append(
            f"| {n} | {r['rps']:.0f} | {r['p99']:.2f} | {r['x_health']:.2f} | "
            f"{r['x_direct_health']:.2f} | {r.get('redis_per_request', float('nan')):.3f} | "
            f"{r.get('pg_per_request', float('nan')):.3f} |")
    text = "\n".join(lines) + "\n"
    with open(f"bench/results/cluster-{stamp}.md", "w") as f:
        f.write(text)
    with open(f"bench/results/cluster-{stamp}.json", "w") as f:
        json.dump(result, f, indent=1)
    print(text)
    bad = {n: r["errors"] for n, r in result.items() if r["errors"]}
    if bad:
        raise SystemExit(f"requests failed: {bad}")


if __name__ == "__main__":
    main()
