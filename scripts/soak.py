#!/usr/bin/env python3
"""authlab's soak: mixed traffic against one server for a bounded time (scripts/soak.sh).

Standard library only. Every simulated user has its own client address (X-Forwarded-For from
a trusted loopback proxy, as behind nginx), a cookie session and a token login shared by
several "tabs" that refresh it the way the browser client does (one refresh at a time per
user, like the Web Lock). Users read /api/me in both modes, write notes, log out and in,
revoke devices; a registration thread signs new users up; a garbage thread sends what an
attacker or a broken client sends (bad JSON, forged tokens, oversized bodies, wrong
passwords, unknown paths). It asserts:

* no 5xx at all;
* no 401 for a credential the user still holds (every logout or revoke is the user's own,
  and its credentials are replaced before they are used again);
* flat memory: the server's RSS at the end within 10 % of its RSS at 20 % of the run (the
  second minute of the default ten) — checked on runs of 5 minutes or more, where the
  warm-up is over.

Exits 1 if any check fails. Environment: SOAK_SECS (600), SOAK_USERS (24), SOAK_TABS (3),
SOAK_SERVER (target/release/server), SOAK_PORT (3300).
"""

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SECS = int(os.environ.get("SOAK_SECS", "600"))
USERS = int(os.environ.get("SOAK_USERS", "24"))
TABS = int(os.environ.get("SOAK_TABS", "3"))
SERVER = os.environ.get("SOAK_SERVER", "target/release/server")
PORT = int(os.environ.get("SOAK_PORT", "3300"))
BASE = f"http://127.0.0.1:{PORT}"
WORK = "target/soak"
PASSWORD = "correct horse battery staple"
ACCESS_TTL = 30  # short, so the tabs refresh many times during the run


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_status = {}
        self.problems = []
        self.latencies = []

    def record(self, what, status, ms):
        with self.lock:
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if len(self.latencies) < 2_000_000:
                self.latencies.append(ms)
            if status >= 500:
                self.problems.append(f"{what}: {status}")

    def problem(self, text):
        with self.lock:
            self.problems.append(text)


STATS = Stats()


def call(what, method, path, body=None, headers=None, raw=None):
    """One request; returns (status, parsed JSON or None, headers)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, payload, hdrs = res.status, res.read(), res.headers
    except urllib.error.HTTPError as err:
        status, payload, hdrs = err.code, err.read(), err.headers
    except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
        STATS.problem(f"{what}: no answer ({err})")
        return 0, None, {}
    STATS.record(what, status, (time.monotonic() - started) * 1000)
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = None
    return status, parsed, hdrs


class User:
    """One person: a cookie session and a token login, with their own client address."""

    def __init__(self, n):
        self.name = f"soak{n:03d}"
        self.ip = f"10.{n // 250}.{n % 250}.7"
        self.lock = threading.Lock()
        self.cookie = None
        self.access = None
        self.refresh = None
        self.issued = 0.0

    def h(self, extra=None):
        headers = {"x-forwarded-for": self.ip, "user-agent": f"soak/{self.name}"}
        headers.update(extra or {})
        return headers

    def expect(self, what, status, wanted):
        if status != wanted:
            STATS.problem(f"{self.name} {what}: {status}, wanted {wanted}")

    def register(self):
        s, _, _ = call("register", "POST", "/api/auth/register",
                       {"username": self.name, "password": PASSWORD}, self.h())
        self.expect("register", s, 201)

    def session_login(self):
        s, _, hdrs = call("session login", "POST", "/api/session/login",
                          {"username": self.name, "password": PASSWORD}, self.h())
        self.expect("session login", s, 200)
        for v in hdrs.get_all("set-cookie") or []:
            if v.startswith("authlab_session="):
                self.cookie = v.split(";")[0]

    def token_login(self):
        s, pair, _ = call("token login", "POST", "/api/token/login",
                          {"username": self.name, "password": PASSWORD}, self.h())
        self.expect("token login", s, 200)
        if pair:
            self.access, self.refresh, self.issued = pair["access_token"], pair["refresh_token"], time.monotonic()

    def do_refresh(self):
        s, pair, _ = call("refresh", "POST", "/api/token/refresh", {"refresh_token": self.refresh}, self.h())
        self.expect("refresh", s, 200)
        if pair:
            self.access, self.refresh, self.issued = pair["access_token"], pair["refresh_token"], time.monotonic()

    def bearer(self):
        if time.monotonic() - self.issued > ACCESS_TTL - 8:
            self.do_refresh()
        return self.h({"authorization": f"Bearer {self.access}"})

    def cookie_h(self, unsafe=False):
        extra = {"cookie": self.cookie}
        if unsafe:
            extra["origin"] = BASE
        return self.h(extra)

    def act(self):
        """One random thing this user does (holding the user's lock)."""
        r = random.random()
        if r < 0.30:
            s, _, _ = call("me (session)", "GET", "/api/me", headers=self.cookie_h())
            self.expect("me (session)", s, 200)
        elif r < 0.60:
            s, _, _ = call("me (bearer)", "GET", "/api/me", headers=self.bearer())
            self.expect("me (bearer)", s, 200)
        elif r < 0.70:
            s, _, _ = call("devices", "GET", "/api/devices", headers=self.bearer())
            self.expect("devices", s, 200)
        elif r < 0.80:
            if random.random() < 0.5:
                s, _, _ = call("note (session)", "POST", "/api/notes", {"text": "soak"},
                               self.cookie_h(unsafe=True))
            else:
                s, _, _ = call("note (bearer)", "POST", "/api/notes", {"text": "soak"}, self.bearer())
            self.expect("note", s, 201)
        elif r < 0.86:
            self.do_refresh()
        elif r < 0.90:
            s, _, _ = call("session logout", "POST", "/api/session/logout", {}, self.cookie_h(unsafe=True))
            self.expect("session logout", s, 204)
            self.session_login()
        elif r < 0.94:
            s, _, _ = call("token logout", "POST", "/api/token/logout", {"refresh_token": self.refresh}, self.h())
            self.expect("token logout", s, 204)
            self.token_login()
        elif r < 0.97:
            # Revoke the cookie session from the token login's device list, then log in again.
            s, devices, _ = call("devices", "GET", "/api/devices", headers=self.bearer())
            self.expect("devices", s, 200)
            for d in (devices or {}).get("devices", []):
                if d.get("kind") == "session" and not d.get("current"):
                    s, _, _ = call("revoke device", "DELETE", f"/api/devices/{d['id']}", headers=self.bearer())
                    self.expect("revoke device", s, 204)
            self.session_login()
        else:
            # Everything but this token login ends; the cookie session is one of them.
            s, _, _ = call("revoke others", "POST", "/api/devices/revoke-others", {}, self.bearer())
            self.expect("revoke others", s, 200)
            self.session_login()


def tab(user, until):
    while time.monotonic() < until:
        with user.lock:
            user.act()
        time.sleep(random.uniform(0.0, 0.02))


def registrations(until):
    n = 0
    while time.monotonic() < until:
        user = User(10_000 + n)
        user.name = f"soaknew{n:05d}"
        user.ip = f"10.200.{n // 250 % 250}.{n % 250}"
        user.register()
        user.session_login()
        n += 1
        time.sleep(0.5)


GARBAGE = [
    ("bad json", "POST", "/api/session/login", None, b"{not json"),
    ("wrong type", "POST", "/api/token/login", None, b'{"username": 5, "password": []}'),
    ("oversized", "POST", "/api/session/login", None, b'{"username": "' + b"x" * 80_000 + b'"}'),
    ("long username", "POST", "/api/session/login", None,
     json.dumps({"username": "y" * 5000, "password": "z"}).encode()),
    ("forged bearer", "GET", "/api/me", {"authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}, None),
    ("garbage bearer", "GET", "/api/me", {"authorization": "Bearer \x7f\x7f"}, None),
    ("bad cookie", "GET", "/api/me", {"cookie": "authlab_session=AAAAAAAAAAAAAAAAAAAAAA"}, None),
    ("unknown refresh", "POST", "/api/token/refresh", None, b'{"refresh_token": "nope"}'),
    ("unknown path", "GET", "/api/does-not-exist", None, None),
    ("cross-site post", "POST", "/api/notes", {"origin": "http://evil.example", "cookie": "authlab_session=x"},
     b'{"text": "x"}'),
]


def garbage(until):
    n = 0
    while time.monotonic() < until:
        what, method, path, headers, raw = random.choice(GARBAGE)
        hdrs = {"x-forwarded-for": f"10.99.{n // 250 % 250}.{n % 250}"}
        hdrs.update(headers or {})
        if random.random() < 0.2:
            what, method, path, raw = ("wrong password", "POST", "/api/session/login",
                                       json.dumps({"username": f"soak{random.randrange(USERS):03d}",
                                                   "password": "wrong"}).encode())
        call(what, method, path, headers=hdrs, raw=raw)
        n += 1
        time.sleep(0.01)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    env = dict(os.environ, LEPTOS_SITE_ADDR=f"127.0.0.1:{PORT}",
               DATABASE_URL=f"sqlite://{WORK}/soak.db?mode=rwc", SECRETS_FILE=f"{WORK}/secrets.env",
               TRUSTED_PROXIES="127.0.0.1", ACCESS_TOKEN_TTL_SECS=str(ACCESS_TTL),
               LAB_SWITCHES="false", RUST_LOG="warn")
    env.pop("SESSION_STORE_URL", None)
    env.pop("REDIS_URL", None)
    with open(f"{WORK}/server.log", "w") as out:
        server = subprocess.Popen([SERVER], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(BASE + "/api/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("the server did not start; see target/soak/server.log")
                time.sleep(0.2)
        log(f"==> soak: {USERS} users x {TABS} tabs, registrations, garbage; {SECS} s against {SERVER}")
        users = [User(n) for n in range(USERS)]
        for u in users:
            u.register()
            u.session_login()
            u.token_login()
        started = time.monotonic()
        until = started + SECS
        threads = [threading.Thread(target=tab, args=(u, until)) for u in users for _ in range(TABS)]
        threads += [threading.Thread(target=registrations, args=(until,)),
                    threading.Thread(target=garbage, args=(until,))]
        for t in threads:
            t.start()
        samples = []
        while time.monotonic() < until:
            time.sleep(min(10, max(0.1, until - time.monotonic())))
            samples.append((round(time.monotonic() - started), rss_kib(server.pid)))
            log(f"    {samples[-1][0]:>4} s  RSS {samples[-1][1] / 1024:.1f} MiB  "
                f"{sum(STATS.by_status.values())} requests  {len(STATS.problems)} problems")
        for t in threads:
            t.join()
        if server.poll() is not None:
            STATS.problem(f"the server exited with {server.returncode}")
    finally:
        server.terminate()
        server.wait(timeout=30)

    total = sum(STATS.by_status.values())
    five = sum(v for k, v in STATS.by_status.items() if k >= 500)
    lat = sorted(STATS.latencies)
    p99 = lat[int(len(lat) * 0.99)] if lat else 0
    at_fifth = next((r for t, r in samples if t >= SECS * 0.2), samples[0][1])
    end = samples[-1][1]
    growth = end / at_fifth - 1 if at_fifth else 0
    memory_checked = SECS >= 300
    report = dict(seconds=SECS, users=USERS, tabs=TABS, requests=total, per_second=total / SECS,
                  statuses={str(k): v for k, v in sorted(STATS.by_status.items())}, server_errors=five,
                  problems=STATS.problems[:50], problem_count=len(STATS.problems), p99_ms=p99,
                  rss_mib_at_20_percent=at_fifth / 1024, rss_mib_at_end=end / 1024, rss_growth=growth,
                  memory_checked=memory_checked)
    with open(f"{WORK}/report.json", "w") as fh:
        json.dump(report, fh, indent=2)
    print(json.dumps(report, indent=2))
    ok = five == 0 and not STATS.problems and (not memory_checked or growth <= 0.10)
    print(f"soak: {total} requests ({total / SECS:.0f}/s), {five} 5xx, {len(STATS.problems)} problems, "
          f"RSS {at_fifth / 1024:.1f} -> {end / 1024:.1f} MiB ({growth * 100:+.1f} %"
          f"{'' if memory_checked else ', not judged on a run this short'}): {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
