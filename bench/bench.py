#!/usr/bin/env python3
"""sipreg benchmark: sipreg against Kamailio, scale to 1M bindings, profiles.

Run through bench/run.sh (which installs the Debian packages and builds
build/bench/sipreg); see docs/BENCHMARKS.md for what is measured and why.
Everything runs on 127.0.0.1; every process started here is stopped on exit
(by PID / own process group), every load step is bounded in calls and time.
Standard library only (Debian's /usr/bin/python3).
"""
import argparse
import atexit
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SIPREG = ROOT / "build" / "bench" / "sipreg"
SCENARIO = BENCH / "sipp" / "register.xml"
KAM_CFG = BENCH / "kamailio" / "kamailio.cfg"
KAM_SQL = Path("/usr/share/kamailio/db_sqlite")
HZ = os.sysconf("SC_CLK_TCK")
SERVER_CPU = "0"   # server pinned here ...
LOAD_CPU = "1"     # ... SIPp (and this script) here
DOMAIN = "example.com"
PORTS = {"sipreg": 25060, "kam-mem": 25070, "kam-db": 25080}
LABEL = {"sipreg": "sipreg", "kam-mem": "Kamailio db_mode 0 (memory)",
         "kam-db": "Kamailio db_mode 1 (write-through SQLite)"}

# ----------------------------------------------------------------- profiles
FULL = dict(
    users=10000,
    ladder=[250, 500, 1000, 2000, 4000, 8000, 12000, 16000, 20000, 25000, 30000],
    refine=True, step_s=10, transports=["udp", "tcp"],
    scale=[(1000, 10), (10000, 10), (100000, 10)],   # (AORs, contacts per AOR)
    scale_rate=5000, scale_s=15,
    expiry=dict(aors=100000, contacts=10, lead_s=40, window_s=60, tail_s=8, rate=5000),
    callgrind=(200, 2200), perf_s=10,
    durability=dict(rounds=3, rate=8000, kill_after_s=(1.5, 3.0)),
    ceiling=dict(sipps=3, rates=[18000, 24000, 30000, 36000, 42000, 48000], step_s=8),
)
QUICK = dict(
    users=10000,
    ladder=[1000, 12000],
    refine=False, step_s=4, transports=["udp", "tcp"],
    scale=[(1000, 10), (10000, 10)],
    scale_rate=3000, scale_s=4,
    expiry=dict(aors=10000, contacts=10, lead_s=14, window_s=10, tail_s=3, rate=3000),
    callgrind=(20, 220), perf_s=4,
    durability=dict(rounds=1, rate=4000, kill_after_s=(1.0, 1.5)),
    ceiling=dict(sipps=3, rates=[18000], step_s=3),
)

STARTED = []   # Popen objects we started; stopped by cleanup()
NICE = 0       # --nice: scheduling priority of the servers and SIPp (see main)


def prio():
    return ["nice", "-n", str(NICE)] if NICE else []
FINECLOCK = BENCH / "out" / "fineclock.so"   # see bench/tools/fineclock.c


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def cleanup():
    for p in STARTED:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)   # own session: pgid == pid
            except ProcessLookupError:
                pass
    deadline = time.time() + 5
    for p in STARTED:
        while p.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    STARTED.clear()


def on_signal(signum, _frame):
    log(f"signal {signum}: stopping everything started here")
    cleanup()
    sys.exit(128 + signum)


def spawn(args, **kw):
    p = subprocess.Popen(args, start_new_session=True, **kw)
    STARTED.append(p)
    return p


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:  # noqa: BLE001 - best effort machine description
        return f"({e})"


# ----------------------------------------------------------------- /proc
def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    rest = s[s.rindex(")") + 2:].split()
    # rest[0] = state (field 3); utime = field 14, stime = 15, ppid = 4
    return int(rest[1]), int(rest[11]), int(rest[12])


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = proc_stat(int(d))[0]
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(kids.get(p, []))
    return out


def cpu_seconds(pids):
    t = 0
    for p in pids:
        try:
            _, u, s = proc_stat(p)
            t += u + s
        except (OSError, ValueError):
            pass
    return t / HZ


def memory_kb(pids):
    rss = pss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


# ----------------------------------------------------------------- SIP probe
def options_until_200(port, timeout, t0=None, proc=None):
    """Send OPTIONS over UDP every 5 ms until a 200 comes; seconds since t0."""
    t0 = t0 or time.time()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    lport = s.getsockname()[1]
    s.settimeout(0.005)
    n = 0
    try:
        while time.time() - t0 < timeout:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode} before answering")
            n += 1
            msg = (f"OPTIONS sip:{DOMAIN} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-ready{n};rport\r\n"
                   f"Max-Forwards: 70\r\nFrom: <sip:probe@{DOMAIN}>;tag=p{n}\r\n"
                   f"To: <sip:{DOMAIN}>\r\nCall-ID: ready-{os.getpid()}-{n}@bench\r\n"
                   f"CSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), ("127.0.0.1", port))
            end = time.time() + 0.005
            while time.time() < end:
                try:
                    data = s.recv(65535)
                except (socket.timeout, ConnectionRefusedError):
                    break
                if data.startswith(b"SIP/2.0 200"):
                    return time.time() - t0
        raise RuntimeError(f"no 200 to OPTIONS on port {port} within {timeout}s")
    finally:
        s.close()


def port_free(port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


# ----------------------------------------------------------------- data
def ha1(user, pw, name=None):
    return hashlib.md5(f"{name or user}:{DOMAIN}:{pw}".encode()).hexdigest()


def password(i):
    return f"pw-{i}"


def write_users_csv(path, n, first=1):
    """SIPp -inf file: field0 = user, field1 = its [authentication] keyword.
    (SIPp 3.6.1 does not expand [fieldN] nested inside [authentication ...];
    a field holding the whole keyword is its documented alternative.)"""
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for i in range(first, first + n):
            f.write(f"user{i};[authentication username=user{i} password={password(i)}]\n")


def sipreg_db(path, users, bindings=None):
    """A sipreg store: the schema from `sipreg user add`, then rows inserted
    directly (HA1 = MD5/SHA-256 of user:realm:password).  bindings = dict(
    aors, contacts, expires, spread=(first contact index, start, seconds))."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    subprocess.run([str(SIPREG), "user", "add", f"user1@{DOMAIN}", "--password", password(1),
                    "--db", str(path)], check=True, capture_output=True)
    c = sqlite3.connect(path)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=OFF")   # bulk load only; the server sets FULL
    c.executemany("INSERT OR REPLACE INTO users(user, domain, ha1_md5, ha1_sha256) VALUES (?,?,?,?)",
                  ((f"user{i}", DOMAIN, ha1(f"user{i}", password(i)),
                    hashlib.sha256(f"user{i}:{DOMAIN}:{password(i)}".encode()).hexdigest())
                   for i in range(1, users + 1)))
    if bindings:
        now = int(time.time())
        sp_first, sp_start, sp_len = bindings.get("spread", (10 ** 9, 0, 1))
        c.execute(
            "WITH RECURSIVE a(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM a WHERE i < ?1),"
            " k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < ?2 - 1)"
            " INSERT INTO bindings(aor, contact, call_id, cseq, expires, updated, source, user_agent)"
            " SELECT 'user' || i || '@example.com', '<sip:user' || i || '-' || j || '@127.0.0.1:5999>',"
            "  'preload-' || i || '-' || j, 1,"
            "  CASE WHEN j >= ?5 THEN ?6 + ((i * 7919 + j * 104729) % (?7 * 1000)) / 1000"
            "       ELSE ?3 END, ?4, 'udp:127.0.0.1:5999', 'sipp-bench'"
            " FROM a, k ORDER BY i, j",
            (bindings["aors"], bindings["contacts"], now + bindings.get("expires", 3600), now,
             sp_first, sp_start, sp_len))
    c.commit()
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()


def kamailio_db(path, users):
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    c = sqlite3.connect(path)
    for f in ("standard-create.sql", "auth_db-create.sql", "usrloc-create.sql"):
        c.executescript((KAM_SQL / f).read_text())
    c.executemany("INSERT INTO subscriber(username, domain, password, ha1, ha1b) VALUES (?,?,'',?,?)",
                  ((f"user{i}", DOMAIN, ha1(f"user{i}", password(i)),
                    ha1(f"user{i}", password(i), f"user{i}@{DOMAIN}"))
                   for i in range(1, users + 1)))
    c.commit()
    c.close()


# ----------------------------------------------------------------- servers
class Server:
    runs = 0

    def __init__(self, key, workdir):
        self.key, self.port, self.dir = key, PORTS[key], Path(workdir)
        self.proc = None
        self.logf = None
        Server.runs += 1
        self.logname = f"{Server.runs:02d}-{key}.log"

    def pids(self):
        return descendants(self.proc.pid)

    def cpu(self):
        return cpu_seconds(self.pids())

    def mem(self):
        return memory_kb(self.pids())

    def start(self, ready_timeout=60):
        if not port_free(self.port):
            raise RuntimeError(f"port {self.port} is taken (another engineer's server?)")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.logf = open(self.dir / self.logname, "ab")
        t0 = time.time()
        self.proc = spawn(prio() + ["taskset", "-c", SERVER_CPU] + self.argv(), stdout=self.logf,
                          stderr=subprocess.STDOUT, cwd=self.dir)
        self.ready_s = options_until_200(self.port, ready_timeout, t0, self.proc)
        return self.ready_s

    def stop(self):
        if not self.proc:
            return None
        t0 = time.time()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        rc = self.proc.returncode
        STARTED.remove(self.proc)
        self.proc = None
        self.logf.close()
        return dict(stop_s=time.time() - t0, rc=rc)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=15):
        try:
            return (self.dir / self.logname).read_text(errors="replace").splitlines()[-n:]
        except OSError:
            return []


class Sipreg(Server):
    def __init__(self, workdir, db, workers=1, prefix=()):
        super().__init__("sipreg", workdir)
        self.db, self.workers, self.prefix = db, workers, list(prefix)

    def argv(self):
        return self.prefix + [
            str(SIPREG), "serve", "--db", str(self.db),
            "--listen", f"udp:127.0.0.1:{self.port}", "--listen", f"tcp:127.0.0.1:{self.port}",
            "--domain", DOMAIN, "--digest-algorithms", "MD5", "--min-expires", "60",
            "--max-expires", "3600", "--default-expires", "3600", "--max-contacts", "10",
            "--nonce-ttl", "300", "--log-level", "warn", "--workers", str(self.workers),
            # The load generator is one source sending thousands of requests a
            # second: exempt it, as an operator would an SBC in front.
            "--trusted", "127.0.0.0/8"]


class Kamailio(Server):
    def __init__(self, key, workdir, db, children=1):
        super().__init__(key, workdir)
        self.db, self.children = db, children
        self.dbmode = 0 if key == "kam-mem" else 1

    def argv(self):
        rt = self.dir / f"run-{self.key}"
        rt.mkdir(exist_ok=True)
        return ["kamailio", "-f", str(KAM_CFG), "-DD", "-E", "-Y", str(rt), "-w", str(rt),
                "-m", "512", "-M", "16",
                "-A", f"PORT={self.port}", "-A", f"DBMODE={self.dbmode}",
                "-A", f"CHILDREN={self.children}",
                "-A", f'DBFILE="{self.db}"', "-A", f'DBURL="sqlite:///{self.db}"']


# ----------------------------------------------------------------- SIPp
def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def run_sipp(port, transport, rate, calls, csv, workdir, limit=None, extra=(), timeout=None):
    """One bounded SIPp run; returns counts, wall time, SIPp CPU and RTD 1 (ms)."""
    wd = Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    for f in wd.glob("*"):
        f.unlink()
    duration = calls / rate
    timeout = timeout or duration + 20
    argv = prio() + ["taskset", "-c", LOAD_CPU, "sipp", f"127.0.0.1:{port}", "-sf", str(SCENARIO),
            "-inf", str(csv), "-t", "u1" if transport == "udp" else "t1",
            "-r", str(rate), "-m", str(calls), "-l", str(limit or min(max(200, 2 * rate), 18000)),
            "-buff_size", "4194304",
            "-nostdin", "-nd", "-recv_timeout", "5000", "-timeout", f"{int(timeout)}s",
            "-trace_stat", "-stf", "stat.csv", "-fd", "1",
            "-trace_rtt", "-rtt_freq", "1", "-trace_err", "-error_file", "errors.log"] + list(extra)
    env = dict(os.environ, LD_PRELOAD=str(FINECLOCK)) if FINECLOCK.exists() else None
    t0 = time.time()
    with open(wd / "sipp.out", "wb") as out:
        p = spawn(argv, stdout=out, stderr=subprocess.STDOUT, cwd=wd, env=env)
        ru = None
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.time() - t0 > timeout + 10:
                os.killpg(p.pid, signal.SIGKILL)
            time.sleep(0.02)
        STARTED.remove(p)
    wall = time.time() - t0
    res = dict(rate=rate, calls=calls, transport=transport, wall_s=round(wall, 3), sipp_rc=p.returncode,
               argv=" ".join(argv[argv.index("sipp") + 1:]),
               sipp_cpu_s=round(ru.ru_utime + ru.ru_stime, 3))
    try:
        lines = (wd / "stat.csv").read_text().splitlines()
        head, last = lines[0].split(";"), lines[-1].split(";")
        st = dict(zip(head, last))
        for k, name in (("ok", "SuccessfulCall(C)"), ("failed", "FailedCall(C)"),
                        ("created", "OutgoingCall(C)"), ("retrans", "Retransmissions(C)"),
                        ("timeouts", "FailedTimeoutOnRecv(C)"), ("unexpected", "FailedUnexpectedMessage(C)"),
                        ("dead_msgs", "DeadCallMsgs(C)"), ("out_of_call", "OutOfCallMsgs(C)")):
            res[k] = int(st.get(name, "0") or 0)
    except (OSError, IndexError):
        res.update(ok=0, failed=calls, created=0, retrans=0)
    res["incomplete"] = max(0, calls - res["ok"] - res["failed"])
    res["fail_frac"] = (res["failed"] + res["incomplete"]) / calls
    rtts = []
    for f in wd.glob("*_rtt.csv"):
        with open(f) as fh:
            next(fh, None)
            for line in fh:
                parts = line.split(";")
                if len(parts) >= 3 and parts[2].strip() == "1":
                    rtts.append((float(parts[0]), float(parts[1])))
    vals = sorted(v for _, v in rtts)
    res["rtd_n"] = len(vals)
    res["p50_ms"], res["p99_ms"], res["max_ms"] = pct(vals, 50), pct(vals, 99), (vals[-1] if vals else None)
    res["_rtts"] = rtts   # (ms since SIPp start, rtd ms); dropped before saving
    res["t_start"] = t0
    try:
        errs = (wd / "errors.log").read_text(errors="replace")
        res["errors_head"] = errs[:1500]
    except OSError:
        res["errors_head"] = ""
    return res


def udp_rcvbuf_errors():
    """System-wide UDP receive-buffer drops (/proc/net/snmp RcvbufErrors)."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return int(dict(zip(rows[0][1:], rows[1][1:]))["RcvbufErrors"])


def core_busy():
    """Busy seconds per core so far (/proc/stat: all but idle and iowait)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                out[line.split()[0]] = (sum(v[:8]) - v[3] - v[4]) / HZ
    return out


def step(server, transport, rate, secs, csv, workdir, extra=()):
    calls = int(rate * secs)
    c0, d0, b0 = server.cpu(), udp_rcvbuf_errors(), core_busy()
    r = run_sipp(server.port, transport, rate, calls, csv, workdir, extra=extra)
    c1, b1 = server.cpu(), core_busy()
    r["udp_drops"] = udp_rcvbuf_errors() - d0
    # What else ran on the server's core: busy time of core 0 not spent by the
    # server (other engineers' jobs share this machine), as a fraction of the step.
    k = "cpu" + SERVER_CPU
    r["foreign_core0"] = round(max(0.0, (b1[k] - b0[k]) - (c1 - c0)) / max(r["wall_s"], 1e-9), 3)
    r["busy_core1"] = round((b1["cpu" + LOAD_CPU] - b0["cpu" + LOAD_CPU]) / max(r["wall_s"], 1e-9), 3)
    r["server"] = server.key
    r["server_cpu_s"] = round(c1 - c0, 3)
    r["cpu_ms_per_1k"] = round((c1 - c0) / r["ok"] * 1e6, 1) if r["ok"] else None
    r["rss_kb"], r["pss_kb"] = server.mem()
    r["alive"] = server.alive()
    r["pass"] = bool(r["alive"] and r["ok"] > 0 and r["fail_frac"] < 0.001
                     and r["wall_s"] <= secs * 1.1 + 1.5)
    r["achieved_rate"] = round(r["ok"] / max(r["wall_s"], 1e-9), 1)
    rt = r.pop("_rtts")
    r.pop("t_start")
    flag = "PASS" if r["pass"] else "FAIL"
    log(f"  {server.key:8s} {transport} {rate:6d}/s: ok={r['ok']} failed={r['failed']} incomplete={r['incomplete']} "
        f"retrans={r['retrans']} drops={r['udp_drops']} wall={r['wall_s']}s cpu/1k={r['cpu_ms_per_1k']}ms p50={r['p50_ms']} "
        f"p99={r['p99_ms']}ms sippcpu={r['sipp_cpu_s']}s other@core0={r['foreign_core0']} pss={r['pss_kb']}kB {flag}")
    if not r["alive"]:
        log(f"  !! {server.key} died: " + " | ".join(server.log_tail()))
    if not r["pass"] and r["errors_head"]:
        log("  sipp errors (head): " + r["errors_head"][:300].replace("\n", " | "))
    return r, rt


# ----------------------------------------------------------------- sections
def comparison(P, work, results):
    log("== comparison: sipreg vs Kamailio (memory, write-through), UDP and TCP")
    n = P["users"]
    csv = work / "users.csv"
    write_users_csv(csv, n)
    sipreg_db(work / "sipreg-cmp.db", n)
    kamailio_db(work / "kam-mem.db", n)
    kamailio_db(work / "kam-db.db", n)
    servers = [Sipreg(work / "srv", work / "sipreg-cmp.db", workers=1),
               Kamailio("kam-mem", work / "srv", work / "kam-mem.db"),
               Kamailio("kam-db", work / "srv", work / "kam-db.db")]
    for s in servers:
        s.start()
        log(f"  started {s.key} (pid {s.proc.pid}) in {s.ready_s:.2f}s")
        results.setdefault("commands", {})[s.key] = " ".join(prio() + ["taskset", "-c", SERVER_CPU] + s.argv())
    # Warm-up: every AOR registered once where that is quick (memory-speed servers).
    for s in servers[:2]:
        r = run_sipp(s.port, "udp", 4000, n, csv, work / "sipp-warm")
        log(f"  warm-up {s.key}: {r['ok']}/{n} registered")
    # Idle cost: CPU each server burns with no traffic at all (timers, polling);
    # at low rates it is a large part of the CPU per registration.
    idle_s = 5 if P["step_s"] >= 10 else 2
    c0 = {s.key: s.cpu() for s in servers}
    time.sleep(idle_s)
    results["idle_cpu_ms_per_s"] = {s.key: round((s.cpu() - c0[s.key]) / idle_s * 1000, 1) for s in servers}
    log(f"  idle CPU ms/s: {results['idle_cpu_ms_per_s']}")
    steps = []
    for transport in P["transports"]:
        done = {s.key: False for s in servers}
        lastpass = {s.key: None for s in servers}
        firstfail = {s.key: None for s in servers}
        for i, rate in enumerate(P["ladder"]):
            order = servers if i % 2 == 0 else list(reversed(servers))   # A B C, C B A, ...
            for s in order:
                if done[s.key]:
                    continue
                r, _ = step(s, transport, rate, P["step_s"], csv, work / "sipp-step")
                steps.append(r)
                if r["pass"]:
                    lastpass[s.key] = rate
                else:
                    done[s.key] = True
                    firstfail[s.key] = rate
                if not s.alive():
                    raise RuntimeError(f"{s.key} died during the comparison")
            if all(done.values()):
                break
        if P["refine"]:
            for s in servers:
                lo, hi = lastpass[s.key], firstfail[s.key]
                if lo and hi and hi - lo > 500:
                    mid = int(round((lo + hi) / 2 / 250.0) * 250)
                    r, _ = step(s, transport, mid, P["step_s"], csv, work / "sipp-step")
                    r["refine"] = True
                    steps.append(r)
                    if r["pass"]:
                        lastpass[s.key] = mid
            # Compare at each server's highest sustained rate: run the faster
            # servers there too when that rate came from the bisection.
            ran = {(r["server"], r["rate"]) for r in steps if r["transport"] == transport}
            for s in servers:
                m = lastpass[s.key]
                for o in servers:
                    if o is s or not m or (o.key, m) in ran or not (lastpass[o.key] or 0) > m:
                        continue
                    r, _ = step(o, transport, m, P["step_s"], csv, work / "sipp-step")
                    r["refine"] = True
                    steps.append(r)
                    ran.add((o.key, m))
        results.setdefault("max_rate", {})[transport] = lastpass
    for s in servers:
        results.setdefault("server_logs", {})[s.key] = s.log_tail(20)
    results["comparison"] = steps
    results.setdefault("commands", {})["sipp"] = " ".join(["LD_PRELOAD=fineclock.so"] + prio() + [
        "taskset", "-c", LOAD_CPU, "sipp", steps[-1]["argv"]])
    results["cmp_processes"] = {s.key: len(s.pids()) for s in servers}
    for s in servers:
        s.stop()


def perf_profile(P, work, results):
    log("== perf record -g of sipreg under UDP load")
    if not shutil.which("perf"):
        results["perf"] = dict(error="perf not installed")
        return
    n = P["users"]
    csv = work / "users.csv"
    if not csv.exists():
        write_users_csv(csv, n)
    sipreg_db(work / "sipreg-perf.db", n)
    s = Sipreg(work / "srv", work / "sipreg-perf.db", workers=1)
    s.start()
    run_sipp(s.port, "udp", 4000, n, csv, work / "sipp-warm")
    maxudp = (results.get("max_rate", {}).get("udp", {}) or {}).get("sipreg") or 8000
    rate = max(1000, int(min(8000, 0.7 * maxudp) / 500) * 500)
    data = work / "perf.data"
    prec = spawn(["perf", "record", "-g", "-F", "999", "-o", str(data), "-p", str(s.proc.pid)],
                 stdout=subprocess.DEVNULL, stderr=open(work / "perf-record.log", "wb"))
    time.sleep(0.5)
    r, _ = step(s, "udp", rate, P["perf_s"], csv, work / "sipp-perf")
    os.kill(prec.pid, signal.SIGINT)
    try:
        prec.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(prec.pid, signal.SIGKILL)
        prec.wait()
    STARTED.remove(prec)
    s.stop()
    out = {"rate": rate, "step": r}
    for key, sort in (("symbols", "sym"), ("dsos", "dso")):
        rep = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", sort,
                              "--stdio", "-q", "-g", "none", "--percent-limit", "0.7"],
                             capture_output=True, text=True, timeout=300)
        rows = []
        for line in rep.stdout.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+(.*\S)", line)
            if m:
                rows.append((float(m.group(1)), m.group(2)))
        out[key] = rows[:30]
        if not rows:
            out[key + "_stderr"] = rep.stderr[-800:]
    results["perf"] = out


def callgrind(P, work, results):
    log("== callgrind: instructions per registration (sipreg, 1 worker, one request at a time)")
    n = P["users"]
    csv = work / "users.csv"
    if not csv.exists():
        write_users_csv(csv, n)
    runs = {}
    for calls in P["callgrind"]:
        db = work / "sipreg-cg.db"
        sipreg_db(db, n, dict(aors=n, contacts=1, expires=3600))
        outf = work / f"callgrind.{calls}.out"
        outf.unlink(missing_ok=True)
        s = Sipreg(work / "srv", db, workers=1,
                   prefix=["valgrind", "--tool=callgrind", f"--callgrind-out-file={outf}"])
        s.start(ready_timeout=120)
        r = run_sipp(s.port, "udp", 200, calls, csv, work / "sipp-cg", limit=1, timeout=calls * 0.2 + 60)
        st = s.stop()
        summary = None
        for line in outf.read_text(errors="replace").splitlines():
            if line.startswith("summary:") or line.startswith("totals:"):
                summary = int(line.split()[1])
        runs[calls] = dict(ok=r["ok"], failed=r["failed"], ir=summary, rc=st["rc"])
        log(f"  {calls} calls: ok={r['ok']} Ir={summary}")
    (a, b) = P["callgrind"]
    ra, rb = runs[a], runs[b]
    per = None
    if ra["ir"] and rb["ir"] and rb["ok"] > ra["ok"]:
        per = (rb["ir"] - ra["ir"]) / (rb["ok"] - ra["ok"])
    top = []
    ann = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=99",
                          str(work / f"callgrind.{b}.out")], capture_output=True, text=True, timeout=300)
    for line in ann.stdout.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(.*\S)", line)
        if m and ":" in m.group(2) and not m.group(2).startswith("PROGRAM TOTALS"):
            top.append((int(m.group(1).replace(",", "")), m.group(2)))
    results["callgrind"] = dict(runs={str(k): v for k, v in runs.items()}, ir_per_reg=per,
                                top=top[:25])
    log(f"  instructions per registration: {per and round(per)}")


def scale(P, work, results):
    log("== scale: sipreg with 10k / 100k / 1M bindings in the store")
    rows = []
    for aors, per in P["scale"]:
        total = aors * per
        db = work / f"sipreg-scale-{total}.db"
        t0 = time.time()
        sipreg_db(db, aors, dict(aors=aors, contacts=per, expires=3600))
        build_s = time.time() - t0
        c = sqlite3.connect(db)
        strs = c.execute("SELECT avg(length(contact) + length(call_id) + length(source) + length(user_agent) + 4),"
                         " avg(length(aor) + 1) FROM bindings").fetchone()
        c.close()
        csv = work / f"users-{aors}.csv"
        write_users_csv(csv, aors)
        s = Sipreg(work / "srv", db, workers=1)
        start_s = s.start(ready_timeout=120)
        time.sleep(1)
        rss0, pss0 = s.mem()
        r, _ = step(s, "udp", P["scale_rate"], P["scale_s"], csv, work / "sipp-scale")
        st = s.stop()
        # restart: the same store again (warm page cache, WAL from the load)
        s2 = Sipreg(work / "srv", db, workers=1)
        restart_s = s2.start(ready_timeout=120)
        s2.stop()
        row = dict(bindings=total, aors=aors, contacts_per_aor=per, build_s=round(build_s, 1),
                   start_s=round(start_s, 3), restart_s=round(restart_s, 3), stop_s=round(st["stop_s"], 2),
                   rss_idle_kb=rss0, pss_idle_kb=pss0, string_bytes_per_binding=round(strs[0] + strs[1] / per, 1),
                   **{k: r[k] for k in ("rate", "ok", "failed", "incomplete", "retrans", "cpu_ms_per_1k", "p50_ms",
                                        "p99_ms", "max_ms", "rss_kb", "pss_kb", "pass", "sipp_cpu_s", "wall_s")})
        rows.append(row)
        log(f"  {total} bindings: start {start_s:.2f}s restart {restart_s:.2f}s idle RSS {rss0} kB")
        db.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    results["scale"] = rows


def mass_expiry(P, work, results):
    E = P["expiry"]
    total = E["aors"] * E["contacts"]
    log(f"== mass expiry: {total} bindings, {E['aors'] * (E['contacts'] - 1)} of them expiring over {E['window_s']}s under load")
    db = work / "sipreg-expiry.db"
    now = int(time.time())
    wstart = now + E["lead_s"]
    sipreg_db(db, E["aors"], dict(aors=E["aors"], contacts=E["contacts"], expires=3600,
                                  spread=(1, wstart, E["window_s"])))
    csv = work / f"users-{E['aors']}.csv"
    write_users_csv(csv, E["aors"])
    s = Sipreg(work / "srv", db, workers=1)
    s.start(ready_timeout=120)
    t_load = time.time()
    secs = (wstart + E["window_s"] + E["tail_s"]) - t_load
    calls = int(E["rate"] * secs)
    c0 = s.cpu()
    samples, stop = [], threading.Event()

    def sample():   # server CPU and core-0 busy time, once a second
        while not stop.is_set():
            samples.append((time.time(), s.cpu(), core_busy()["cpu" + SERVER_CPU]))
            stop.wait(1.0)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    r = run_sipp(s.port, "udp", E["rate"], calls, csv, work / "sipp-expiry")
    stop.set()
    th.join()
    c1 = s.cpu()
    rss, pss = s.mem()
    alive = s.alive()
    tail = s.log_tail(20)
    s.stop()
    left = sqlite3.connect(db).execute("SELECT count(*) FROM bindings").fetchone()[0]
    # RTD samples by wall-clock phase: before the window, inside it, after it
    phases = {"before": [], "during": [], "after": []}
    per_sec = {}
    for ms, v in r["_rtts"]:
        t = r["t_start"] + ms / 1000.0
        if t < t_load + 2:
            continue
        ph = "before" if t < wstart else ("during" if t < wstart + E["window_s"] else "after")
        phases[ph].append(v)
        per_sec.setdefault(int(t - wstart), []).append(v)
    summ = {}
    for ph, vals in phases.items():
        vals.sort()
        summ[ph] = dict(n=len(vals), p50_ms=pct(vals, 50), p99_ms=pct(vals, 99), max_ms=vals[-1] if vals else None)
    timeline = [(k, pct(sorted(v), 99), max(v)) for k, v in sorted(per_sec.items())]
    # server CPU (and other work on its core) per phase, from the samples
    cpu_phase = {}
    for (ta, ca, ba), (tb, cb, bb) in zip(samples, samples[1:]):
        if ta < t_load + 2:
            continue
        ph = "before" if ta < wstart else ("during" if ta < wstart + E["window_s"] else "after")
        acc = cpu_phase.setdefault(ph, [0.0, 0.0, 0.0])
        acc[0] += tb - ta
        acc[1] += cb - ca
        acc[2] += max(0.0, (bb - ba) - (cb - ca))
    for ph, (dt, dcpu, dother) in cpu_phase.items():
        summ.setdefault(ph, {})["server_core"] = round(dcpu / dt, 3) if dt else None
        summ[ph]["other_core0"] = round(dother / dt, 3) if dt else None
    # seconds (relative to the window's start) in which no registration completed
    first, last = min(per_sec), max(per_sec)
    silent = [k for k in range(first, last + 1) if k not in per_sec]
    results["expiry"] = dict(
        bindings=total, expiring=E["aors"] * (E["contacts"] - 1), window_s=E["window_s"], rate=E["rate"],
        before_s=round(wstart - t_load, 1), ok=r["ok"], failed=r["failed"], incomplete=r["incomplete"],
        retrans=r["retrans"], server_cpu_s=round(c1 - c0, 2), rss_kb=rss, pss_kb=pss, alive=alive,
        rows_left_in_store=left, phases=summ, p99_timeline=timeline, silent_s=silent, server_log=tail,
        errors_head=r["errors_head"][:800])
    log(f"  p99 before {summ['before']['p99_ms']} ms, during {summ['during']['p99_ms']} ms, "
        f"after {summ['after']['p99_ms']} ms; failed {r['failed']} incomplete {r['incomplete']}")
    db.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)


def durability(P, work, results):
    """kill -9 under benchmark load: while SIPp registers at the benchmark
    rate, checker clients register and remove their own contacts and note
    every 200; sipreg is killed with SIGKILL mid-load and restarted, and
    every acknowledged binding must be in the store, every acknowledged
    removal absent."""
    import random
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    import sipclient   # noqa: E402 - the integration tests' stdlib SIP client
    D = P["durability"]
    n, nchk = P["users"], 8
    log(f"== durability: kill -9 under {D['rate']} reg/s, {D['rounds']} round(s)")
    db = work / "sipreg-dur.db"
    sipreg_db(db, n + nchk * D["rounds"])   # checker users: fresh ones each round
    csv = work / "users.csv"
    write_users_csv(csv, n)
    srv = Sipreg(work / "srv", db, workers=1)
    acked, removed, unsure, rounds = {}, set(), set(), []
    rng = random.Random(7)
    for rnd in range(D["rounds"]):
        srv.start(ready_timeout=120)
        stop = threading.Event()
        sipp_res = {}
        t_sipp = threading.Thread(target=lambda: sipp_res.update(run_sipp(
            srv.port, "udp", D["rate"], int(D["rate"] * (D["kill_after_s"][1] + 1)), csv,
            work / "sipp-dur", timeout=15)), daemon=True)
        t_sipp.start()
        lock = threading.Lock()
        sent = [0]

        def checker(k):
            uid = n + 1 + rnd * nchk + k
            user = f"user{uid}"
            c = sipclient.SipClient("127.0.0.1", srv.port, "udp", timeout=1.0)
            reg = sipclient.Registrar(c, user=user, password=password(uid), alg="MD5")
            mine, i = [], 0
            while not stop.is_set():
                i += 1
                # at most 6 live contacts: never over --max-contacts 10, where
                # sipreg would replace the oldest (a legitimate disappearance)
                if len(mine) >= 6 or (mine and i % 4 == 0):
                    ct = mine.pop(0)
                    with lock:
                        unsure.add((user, ct))   # until answered: may or may not be applied
                    r = reg.register([ct], 0)
                    if r is not None and r.status == 200:
                        with lock:
                            removed.add((user, ct))
                            unsure.discard((user, ct))
                    continue
                ct = f"<sip:{user}-r{rnd}-{i}@127.0.0.1:{6000 + k}>"
                with lock:
                    sent[0] += 1
                r = reg.register([ct], 3600)
                if r is not None and r.status == 200:
                    with lock:
                        acked[(user, ct)] = rnd
                    mine.append(ct)
            c.close()
        ths = [threading.Thread(target=checker, args=(k,), daemon=True) for k in range(nchk)]
        for t in ths:
            t.start()
        time.sleep(rng.uniform(*D["kill_after_s"]))
        os.killpg(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait()
        stop.set()
        for t in ths:
            t.join(5)
        t_sipp.join(30)
        srv.stop()
        rounds.append(dict(round=rnd + 1, sipp_ok=sipp_res.get("ok"), sipp_failed=sipp_res.get("failed"),
                           checker_sent=sent[0]))
        log(f"   round {rnd + 1}: killed under load; SIPp {sipp_res.get('ok')} ok before and after the kill; "
            f"checkers {len(acked)} acknowledged so far")
    # after the last kill: restart once and read the store through the CLI
    srv.start(ready_timeout=120)
    srv.stop()
    out = subprocess.run([str(SIPREG), "bindings", "--db", str(db)], capture_output=True, text=True, timeout=120)
    stored = set()
    for line in out.stdout.splitlines():
        parts = line.split(" ")
        if len(parts) >= 2:
            stored.add((parts[0].split("@")[0], parts[1]))
    # a contact acknowledged and never acknowledged as removed must be there;
    # one whose removal was acknowledged must not (sipreg's contact text
    # may carry parameters: compare by the URI inside <>)
    def uri(ct):
        return ct[ct.find("<") + 1:ct.find(">")] if "<" in ct else ct
    have = {(u, uri(c)) for u, c in stored}
    lost = [k for k in acked if k not in removed and k not in unsure and (k[0], uri(k[1])) not in have]
    back = [k for k in removed if (k[0], uri(k[1])) in have]
    results["durability"] = dict(rounds=rounds, rate=D["rate"], acked=len(acked), removals=len(removed),
                                 unanswered_removals=len(unsure),
                                 lost=len(lost), resurrected=len(back), lost_examples=lost[:5],
                                 resurrected_examples=back[:5])
    log(f"   {len(acked)} acknowledged registrations, {len(removed)} acknowledged removals: "
        f"{len(lost)} lost, {len(back)} came back")


def ceiling(P, work, results):
    """sipreg's own ceiling over UDP: several SIPp processes at once (one
    SIPp tops out near 12,000-16,000 reg/s here), each on its own slice of
    users, all on the load core; the server keeps one worker on its core.
    Stops at the first rate with >= 0.1 % failures."""
    C = P["ceiling"]
    k, n = C["sipps"], P["users"]
    log(f"== ceiling: {k} SIPp processes at once, UDP")
    per = n // k
    csvs = []
    for i in range(k):
        csv = work / f"users-slice{i}.csv"
        write_users_csv(csv, per, first=1 + i * per)
        csvs.append(csv)
    db = work / "sipreg-ceiling.db"
    sipreg_db(db, n)
    srv = Sipreg(work / "srv", db, workers=1)
    srv.start()
    steps = []
    try:
        for rate in C["rates"]:
            secs = C["step_s"]
            c0, b0 = srv.cpu(), core_busy()
            outs = [None] * k

            def one(i):
                outs[i] = run_sipp(srv.port, "udp", rate // k, int(rate // k * secs), csvs[i],
                                   work / f"sipp-ceiling{i}")
            ths = [threading.Thread(target=one, args=(i,)) for i in range(k)]
            for t in ths:
                t.start()
            for t in ths:
                t.join()
            c1, b1 = srv.cpu(), core_busy()
            ok = sum(o["ok"] for o in outs)
            calls = sum(o["calls"] for o in outs)
            bad = sum(o["failed"] + o["incomplete"] for o in outs)
            wall = max(o["wall_s"] for o in outs)
            rtts = sorted(v for o in outs for _, v in o.pop("_rtts"))
            st = dict(rate=rate, sipps=k, ok=ok, calls=calls, failed=bad, wall_s=wall,
                      achieved=round(ok / max(wall, 1e-9)), server_cpu_s=round(c1 - c0, 3),
                      server_cores=round((c1 - c0) / max(wall, 1e-9), 2),
                      cpu_ms_per_1k=round((c1 - c0) / ok * 1e6, 1) if ok else None,
                      load_core=round((b1["cpu" + LOAD_CPU] - b0["cpu" + LOAD_CPU]) / max(wall, 1e-9), 2),
                      p50_ms=pct(rtts, 50), p99_ms=pct(rtts, 99),
                      sipp_cpu_s=round(sum(o["sipp_cpu_s"] for o in outs), 2))
            st["pass"] = bool(srv.alive() and ok and bad / calls < 0.001 and wall <= secs * 1.1 + 1.5)
            steps.append(st)
            log(f"  sipreg x{k} SIPp {rate:6d}/s: ok={ok}/{calls} failed={bad} wall={wall}s "
                f"achieved={st['achieved']}/s server={st['server_cores']} core cpu/1k={st['cpu_ms_per_1k']}ms "
                f"p99={st['p99_ms']}ms load core={st['load_core']} {'PASS' if st['pass'] else 'FAIL'}")
            if not st["pass"]:
                break
    finally:
        srv.stop()
    best = max((x for x in steps if x["pass"]), key=lambda x: x["rate"], default=None)
    results["ceiling"] = dict(steps=steps, best=best)


def machine():
    def ver(cmd):
        return sh(cmd).splitlines()[0] if sh(cmd) else "?"
    return dict(
        lscpu=sh("lscpu | grep -E '^(Model name|CPU\\(s\\)|Thread|Core|Socket|L1d|L2|L3|Hypervisor|Virtualization)'"),
        kernel=platform.release(), os=sh(". /etc/os-release; echo $PRETTY_NAME"),
        mem=sh("free -h | sed -n 2p"), disk=sh("df -h --output=source,fstype,size $(pwd) 2>/dev/null | tail -1") or "",
        fs=sh(f"findmnt -n -o SOURCE,FSTYPE,OPTIONS -T {ROOT}"),
        sipreg=sh(f"cd {ROOT} && git rev-parse --short HEAD") + (
            " (+ uncommitted changes in the tree)" if sh(f"cd {ROOT} && git status --porcelain -- src Makefile") else ""),
        cflags="-O2 -g (Makefile default)",
        kamailio=ver("kamailio -v"), sipp=ver("sipp -v 2>&1 | grep -i sipp"),
        sqlite=sqlite3.sqlite_version, gcc=ver("gcc --version"), valgrind=ver("valgrind --version"),
        perf=ver("perf --version"), gnuplot=ver("gnuplot --version"),
        other_load=sh("ps -eo pcpu,comm --sort=-pcpu | sed -n 2,6p"),
    )


def fsync_rate(work):
    f = work / "fsync.probe"
    fd = os.open(f, os.O_CREAT | os.O_WRONLY, 0o600)
    t0, n = time.time(), 0
    while time.time() - t0 < 1.0:
        os.write(fd, b"x" * 512)
        os.fsync(fd)
        n += 1
    os.close(fd)
    f.unlink()
    return round(n / (time.time() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a short run (< 3 minutes)")
    ap.add_argument("--work", default=str(BENCH / "out"), help="scratch directory")
    ap.add_argument("--doc", help="Markdown report to write (default: docs/BENCHMARKS.md, "
                    "or bench/out/BENCHMARKS-quick.md with --quick)")
    ap.add_argument("--plots", help="directory for the PNG plots (default docs/benchmarks, or the work dir with --quick)")
    ap.add_argument("--only", default="comparison,ceiling,perf,callgrind,scale,expiry,durability")
    ap.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0 else 0,
                    help="nice value for the servers and SIPp (default -10 as root: the machine is shared, "
                         "and other jobs on the same cores would otherwise take half of them); 0 = none")
    a = ap.parse_args()
    global NICE
    NICE = a.nice
    P = QUICK if a.quick else FULL
    work = Path(a.work).resolve() / ("quick" if a.quick else "full")
    work.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work / "srv", ignore_errors=True)
    doc = Path(a.doc) if a.doc else (work / "BENCHMARKS-quick.md" if a.quick else ROOT / "docs" / "BENCHMARKS.md")
    plots = Path(a.plots) if a.plots else (work if a.quick else ROOT / "docs" / "benchmarks")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    atexit.register(cleanup)
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    global FINECLOCK
    FINECLOCK = work / "fineclock.so"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(FINECLOCK), str(BENCH / "tools" / "fineclock.c"),
                    "-ldl"], check=True)
    t0 = time.time()
    results = dict(mode="quick" if a.quick else "full", profile={k: v for k, v in P.items()}, nice=NICE,
                   started=time.strftime("%Y-%m-%d %H:%M:%S %Z"), machine=machine(), fsync_per_s=fsync_rate(work))
    log(f"fsync rate of the store's file system: {results['fsync_per_s']}/s")
    only = a.only.split(",")
    sections = [("comparison", comparison), ("ceiling", ceiling), ("perf", perf_profile), ("callgrind", callgrind),
                ("scale", scale), ("expiry", mass_expiry), ("durability", durability)]
    for name, fn in sections:
        if name in only:
            ts = time.time()
            try:
                fn(P, work, results)
            except Exception as e:   # record and go on: a broken section is a finding
                log(f"!! section {name} failed: {e!r}")
                results.setdefault("section_errors", {})[name] = repr(e)
                cleanup()
            results.setdefault("section_s", {})[name] = round(time.time() - ts, 1)
    results["total_s"] = round(time.time() - t0, 1)
    (work / "results.json").write_text(json.dumps(results, indent=1, default=str))
    sys.path.insert(0, str(BENCH))
    import report   # noqa: E402 - bench/report.py, kept apart so a report can be rebuilt from results.json
    report.write(results, doc, plots, work)
    log(f"done in {results['total_s']}s; results {work / 'results.json'}; report {doc}")
    report.print_ratios(results)


if __name__ == "__main__":
    main()
