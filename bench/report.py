"""Turn bench.py's results into docs/BENCHMARKS.md and gnuplot PNGs.

Rebuild a report from a saved run without measuring again:
    python3 bench/report.py bench/out/full/results.json docs/BENCHMARKS.md docs/benchmarks
"""
import json
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REFINE_TEXT = ("; after the ladder one bisection step between the last passing and first failing rate, and the "
               "faster servers are run at a slower one's bisected maximum too, so all can be compared there")
KEYS = ["sipreg", "kam-mem", "kam-db"]
NAME = {"sipreg": "sipreg", "kam-mem": "Kamailio mem", "kam-db": "Kamailio SQLite"}
LONG = {"sipreg": "sipreg (--workers 1)", "kam-mem": "Kamailio, usrloc db_mode 0 (memory only)",
        "kam-db": "Kamailio, usrloc db_mode 1 (write-through SQLite)"}


def f(v, nd=1, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float):
        v = round(v, nd)
        if nd == 0:
            v = int(v)
    return f"{v:,}{unit}" if isinstance(v, int) else f"{v}{unit}"


def ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return a / b


def rx(v):
    if v is None:
        return "–"
    return f"{v:.3f}×" if v < 0.1 else f"{v:.2f}×"


def steps_of(res, key, transport):
    return sorted((s for s in res.get("comparison", []) if s["server"] == key and s["transport"] == transport),
                  key=lambda s: s["rate"])


def common_rate(res, transport, a="sipreg", b="kam-mem"):
    """Highest offered rate at which both a and b passed."""
    pa = {s["rate"] for s in steps_of(res, a, transport) if s["pass"]}
    pb = {s["rate"] for s in steps_of(res, b, transport) if s["pass"]}
    both = sorted(pa & pb)
    return both[-1] if both else None


def at(res, key, transport, rate):
    for s in steps_of(res, key, transport):
        if s["rate"] == rate:
            return s
    return None


def ratios(res):
    """The headline ratios: sipreg / Kamailio, per transport and Kamailio mode."""
    out = []
    mr = res.get("max_rate", {})
    for t in res.get("profile", {}).get("transports", []):
        for k in ("kam-mem", "kam-db"):
            r = common_rate(res, t, "sipreg", k)
            a, b = (at(res, "sipreg", t, r), at(res, k, t, r)) if r else (None, None)
            row = dict(transport=t, vs=k, rate=r)
            if a and b:
                row.update(cpu=ratio(a["cpu_ms_per_1k"], b["cpu_ms_per_1k"]), p50=ratio(a["p50_ms"], b["p50_ms"]),
                           p99=ratio(a["p99_ms"], b["p99_ms"]))
            peak = {kk: max((s["pss_kb"] for s in steps_of(res, kk, t)), default=None) for kk in ("sipreg", k)}
            row["pss"] = ratio(peak["sipreg"], peak[k])
            m = mr.get(t, {})
            row["max_rate"] = ratio(m.get("sipreg"), m.get(k))
            best = {}
            for kk in ("sipreg", k):
                v = [s["cpu_ms_per_1k"] for s in steps_of(res, kk, t) if s["pass"] and s["cpu_ms_per_1k"]]
                best[kk] = min(v) if v else None
            row["best_cpu"] = ratio(best["sipreg"], best[k])
            out.append(row)
    return out


def targets(res):
    T = []
    P = res.get("profile", {})
    # 1. CPU/reg <= 0.25 x Kamailio memory-only
    for row in ratios(res):
        if row["vs"] == "kam-mem":
            c = row.get("cpu")
            T.append((f"CPU per registration ≤ 0.25× Kamailio memory-only ({row['transport'].upper()}, at {f(row['rate'])}/s, "
                      "the highest rate both sustained)", c is not None and c <= 0.25, rx(c)))
    # 2. 12,000 reg/s from one SIPp, < 0.1 % failures, SIPp well under a core
    for t in P.get("transports", []):
        s = at(res, "sipreg", t, 12000)
        if s:
            core = s["sipp_cpu_s"] / max(s["wall_s"], 1e-9)
            ok = s["pass"] and core < 0.75
            T.append((f"< 0.1 % failures at 12,000 reg/s ({t.upper()}), one SIPp well under one core", ok,
                      f"{100 * s['fail_frac']:.3f} % failed, SIPp at {core:.2f} core, "
                      f"p99 {f(s['p99_ms'], 2)} ms"))
        else:
            T.append((f"< 0.1 % failures at 12,000 reg/s ({t.upper()})", False, "12,000/s not reached in the step search"))
    sc = res.get("scale", [])
    if len(sc) >= 2:
        lo, hi = sc[0], sc[-1]
        cr, pr = ratio(hi["cpu_ms_per_1k"], lo["cpu_ms_per_1k"]), ratio(hi["p99_ms"], lo["p99_ms"])
        T.append((f"{f(hi['bindings'])}-binding CPU/registration within 10 % of {f(lo['bindings'])}",
                  cr is not None and cr <= 1.10, rx(cr)))
        T.append((f"{f(hi['bindings'])}-binding p99 within 10 % of {f(lo['bindings'])}",
                  pr is not None and pr <= 1.10, f"{rx(pr)} ({f(lo['p99_ms'], 2)} → {f(hi['p99_ms'], 2)} ms)"))
        per = (hi["rss_idle_kb"] - lo["rss_idle_kb"]) * 1024 / max(hi["bindings"] - lo["bindings"], 1)
        beyond = per - hi["string_bytes_per_binding"]
        T.append(("≤ 300 bytes resident per binding beyond its strings", beyond <= 300,
                  f"{per:.0f} B/binding resident, {hi['string_bytes_per_binding']:.0f} B of it strings → {beyond:.0f} B"))
        T.append((f"restart with {f(hi['bindings'])} bindings answers OPTIONS within 3 s",
                  hi["restart_s"] <= 3 and hi["start_s"] <= 3,
                  f"first start {hi['start_s']:.2f} s, restart {hi['restart_s']:.2f} s"))
    e = res.get("expiry")
    if e and e["phases"]["before"]["p99_ms"] and e["phases"]["during"]["p99_ms"]:
        r = e["phases"]["during"]["p99_ms"] / e["phases"]["before"]["p99_ms"]
        T.append((f"mass expiry ({f(e['expiring'])} bindings over {e['window_s']} s) raises p99 by < 2×",
                  r < 2 and e["failed"] + e["incomplete"] == 0,
                  f"{rx(r)} ({e['phases']['before']['p99_ms']} → {e['phases']['during']['p99_ms']} ms), "
                  f"{e['failed'] + e['incomplete']} failed"))
    cg = res.get("ceiling")
    if cg and cg.get("steps"):
        b = cg.get("best")
        T.append((f"sipreg's own ceiling with {cg['steps'][0]['sipps']} SIPp processes (UDP, one worker), with its CPU",
                  b is not None,
                  f"{f(b['achieved'])} reg/s sustained at {f(b['rate'])}/s offered, server at {b['server_cores']} core, "
                  f"{b['cpu_ms_per_1k']} CPU ms / 1k reg, p99 {f(b['p99_ms'], 2)} ms" if b else "no rate passed"))
    d = res.get("durability")
    if d:
        T.append((f"kill -9 under load ({f(d['rate'])} reg/s, {len(d['rounds'])} round(s)) loses nothing acknowledged",
                  d["lost"] == 0 and d["resurrected"] == 0 and d["acked"] > 0,
                  f"{f(d['acked'])} acknowledged registrations and {f(d['removals'])} removals: "
                  f"{d['lost']} lost, {d['resurrected']} came back"))
    return T


def plots(res, outdir, workdir):
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(workdir)
    series = []
    for t in res.get("profile", {}).get("transports", []):
        for k in KEYS:
            st = steps_of(res, k, t)
            if not st:
                continue
            fn = workdir / f"plot-{k}-{t}.dat"
            with open(fn, "w") as fh:
                fh.write("# rate cpu_ms_per_1k p99_ms pass\n")
                for s in st:
                    fh.write(f"{s['rate']} {s['cpu_ms_per_1k'] if s['cpu_ms_per_1k'] is not None else 'NaN'} "
                             f"{s['p99_ms'] if s['p99_ms'] is not None else 'NaN'} {1 if s['pass'] else 0}\n")
            series.append((fn, f"{NAME[k]} {t.upper()}", {"sipreg": 1, "kam-mem": 2, "kam-db": 3}[k],
                           1 if t == "udp" else 2))
    if not series:
        return []
    made = []
    for col, png, ylabel, extra in (
            (2, "cpu_per_reg.png", "server CPU ms per 1,000 registrations", ""),
            (3, "p99_latency.png", "p99 ms, authenticated REGISTER → 200 (log)", "set logscale y\n")):
        gp = ['set terminal pngcairo size 900,560 font "DejaVu Sans,10"', f'set output "{outdir / png}"',
              'set logscale x', 'set grid', 'set key outside right top', 'set xlabel "offered rate (registrations/s)"',
              f'set ylabel "{ylabel}"', 'set title "open points: step failed (≥ 0.1 % failed calls or rate not sustained)"',
              extra]
        plots_ = []
        for fn, title, lc, dt in series:
            plots_.append(f'"{fn}" using 1:(${4} > 0 ? ${col} : 1/0) with linespoints lc {lc} dt {dt} pt 7 title "{title}"')
            plots_.append(f'"{fn}" using 1:(${4} > 0 ? 1/0 : ${col}) with points lc {lc} pt 6 notitle')
        gp.append("plot " + ", \\\n     ".join(plots_))
        script = workdir / (png + ".gp")
        script.write_text("\n".join(gp) + "\n")
        r = subprocess.run(["gnuplot", str(script)], capture_output=True, text=True)
        if r.returncode == 0:
            made.append(png)
        else:
            print("gnuplot:", r.stderr[-500:], file=sys.stderr)
    return made


def write(res, doc, plotdir, workdir=None):
    doc = Path(doc)
    workdir = Path(workdir) if workdir else doc.parent
    made = plots(res, plotdir, workdir)
    rel = Path(plotdir).resolve()
    try:
        rel = rel.relative_to(doc.parent.resolve())
    except ValueError:
        pass
    M = res.get("machine", {})
    P = res.get("profile", {})
    L = []
    w = L.append
    w("# sipreg benchmarks\n")
    w("<!-- Generated by bench/bench.py (bench/report.py) from one run; the \"Findings\" section comes from "
      "bench/findings.md. Rerun: `bench/run.sh` (full, ~12 min) or `bench/run.sh --quick` (~2.5 min). -->\n")
    w(f"Run: **{res.get('mode')}**, started {res.get('started')}, took {f(res.get('total_s'), 0)} s "
      f"(sections: {', '.join(f'{k} {v:.0f} s' for k, v in res.get('section_s', {}).items())}).\n")
    for note in res.get("notes", []):
        w(f"Note: {note}.\n")
    if res.get("section_errors"):
        w("**Sections that failed in this run:** " + "; ".join(f"{k}: `{v}`" for k, v in res["section_errors"].items()) + "\n")

    w("## Targets\n")
    w("| target (from the issue) | met? | measured |")
    w("|---|---|---|")
    for name, ok, val in targets(res):
        w(f"| {name} | {'**yes**' if ok else '**no**'} | {val} |")
    w("")

    w("## How to run\n")
    w("```\nbench/run.sh            # full run, ~12 min (bounded < 20): writes docs/BENCHMARKS.md, docs/benchmarks/*.png\n"
      "bench/run.sh --quick    # ~2.5 min smoke run: writes bench/out/quick/BENCHMARKS-quick.md only\n"
      "python3 bench/report.py bench/out/full/results.json docs/BENCHMARKS.md docs/benchmarks   # re-render\n```\n")
    w("`bench/run.sh` (what `make bench` runs) installs what is missing from Debian (`sip-tester kamailio kamailio-sqlite-modules "
      "gnuplot-nox valgrind linux-perf sqlite3` and the build dependencies), builds `build/bench/sipreg` "
      "(`make BUILD=build/bench all`), and runs `bench/bench.py`. It is not part of `make test`. Everything "
      "listens on 127.0.0.1 ports 25060 (sipreg), 25070 (Kamailio memory) and 25080 (Kamailio SQLite); every "
      "process it starts runs in its own session and is stopped by PID on exit, on error and on SIGINT/SIGTERM. "
      "Every SIPp run is bounded by `-m` (calls) and `-timeout`; scratch data (databases, SIPp traces, "
      "raw `results.json`) stays in `bench/out/` (git-ignored).\n")

    w("## Machine\n")
    w("```")
    w(M.get("lscpu", ""))
    w(f"kernel      {M.get('kernel')}   ({M.get('os')})")
    w(f"memory      {M.get('mem')}")
    w(f"store fs    {M.get('fs')}; fsync rate measured at start: {res.get('fsync_per_s')}/s")
    w(f"sipreg      {M.get('sipreg')}, gcc {M.get('gcc')}, {M.get('cflags')}")
    w(f"kamailio    {M.get('kamailio')}")
    w(f"sipp        {M.get('sipp')}")
    w(f"sqlite      {M.get('sqlite')}    valgrind {M.get('valgrind')}    {M.get('perf')}    {M.get('gnuplot')}")
    w("```")
    w("Busiest processes when the run started (the machine is shared with other engineers' work; what they "
      "run lands on the same two cores):\n")
    w("```\n" + M.get("other_load", "") + "\n```\n")

    w("## Method\n")
    w(f"""* **Servers.** sipreg and Kamailio 5.6 configured as the same registrar (`bench/kamailio/kamailio.cfg`):
  digest MD5 with `qop=auth` and nonce-count replay protection (auth `qop="auth"`, `nonce_count=1`,
  `nonce_expire=300`), HA1 read from SQLite at every authentication (auth_db `calculate_ha1=0`, column `ha1`;
  sipreg does not cache credentials either), the authenticated user must be the AOR's, `min_expires 60`,
  `max_expires 3600`, `default_expires 3600`, `max_contacts 10`; stateful (`t_newtran`) so retransmissions are
  absorbed as in sipreg. Kamailio runs in two modes: usrloc `db_mode 0` (contacts in memory only: **not
  durable**, a 200 survives nothing) and `db_mode 1` (write-through: each change is written to SQLite before the
  200). Both Kamailio SQLite files are WAL with SQLite's default `synchronous=FULL` (Debian 12's build), the same
  durability sipreg gives every 200 (WAL, `synchronous=FULL`, group commit).
* **Pinning.** The server on core 0 (`taskset -c 0`, all its processes/threads), SIPp and this script on core 1.
  With two cores sipreg runs `--workers 1` (one worker thread, plus its writer and main threads) and Kamailio
  `children=1`, `tcp_children=1` (one UDP receiver / one TCP worker, plus its timer, TCP-main and helper processes).
  All three servers stay up for the whole comparison (each one's idle cost is given below the tables).
* **Load.** SIPp `bench/sipp/register.xml`: REGISTER → 401 → REGISTER with `Authorization` → 200, one
  registration per call, users from a CSV of {f(P.get('users'))} distinct AORs (`-inf`, SEQUENTIAL; field 1
  holds the whole `[authentication username=… password=…]` keyword because SIPp 3.6.1 does not expand
  `[field0]` nested inside `[authentication …]`). Each user keeps one fixed contact, so the table stays at
  {f(P.get('users'))} bindings. UDP is `-t u1` (one socket), TCP `-t t1` (one connection); SIPp gets
  `-buff_size 4194304` (with its 64 KB default, SIPp's own socket overflowed at 12k/s and the resulting
  retransmissions were SIPp's, not the server's). sipreg and Kamailio memory-mode are warmed up with one
  registration per user first; Kamailio SQLite fills its table during its first steps.
* **Step search.** Offered rates {', '.join(f(r) for r in P.get('ladder', []))} reg/s, {P.get('step_s')} s per
  step (`-m rate×{P.get('step_s')}`, `-r rate`, `-timeout`), servers alternating at each rate (A B C, then C B A,
  …) so drift hits all of them{REFINE_TEXT if P.get('refine') else ''}.
  A step **passes** when fewer than 0.1 % of its calls failed or did not complete and SIPp finished within
  10 % + 1.5 s of the nominal duration (i.e. the rate was actually sustained). A server stops climbing at its
  first failing step; its **highest sustained rate** is its last passing step.
* **CPU.** utime+stime from `/proc/PID/stat` summed over the server's whole process tree (sipreg: one process,
  all threads), read before and after each step; reported as CPU-milliseconds per 1,000 successful registrations.
* **Latency.** SIPp response-time distribution 1: from sending the authenticated REGISTER to receiving its 200,
  every call (`-trace_rtt -rtt_freq 1`). SIPp 3.6 reads `CLOCK_MONOTONIC_COARSE`, which ticks every 4 ms on
  this kernel, so every raw value was a multiple of 4 ms; SIPp runs with `bench/tools/fineclock.c` preloaded,
  which maps the coarse clocks to the precise ones, and the values carry microseconds.
* **Noise.** The servers and SIPp run at `nice -n {res.get('nice', 0)}` (under contention that gives them ~90 % of their core). The machine is shared: other engineers' builds, tests and fuzzers run on the same two cores.
  Each step records "other load core 0": busy time of the server's core not spent by the server (other
  processes, plus interrupt work), as a fraction of the step. CPU-seconds per registration are the server's own
  and little affected; rates and latencies are, when that column is high.
* **Memory.** After each step: RSS and PSS summed over the process tree (`/proc/PID/smaps_rollup`). PSS is the
  fair figure for Kamailio, whose processes share a `-m 512` MB shared-memory pool (its RSS sum counts that pool
  once per process that touched it).
* **Instructions.** sipreg under `valgrind --tool=callgrind`, one worker, SIPp with `-l 1` (one registration at
  a time, so every registration is its own commit): two runs of {P.get('callgrind', ('?', '?'))[0]} and
  {P.get('callgrind', ('?', '?'))[1]} registrations; instructions per registration = ΔIr / Δregistrations (start-up
  and shutdown cancel out). Deterministic to well under 1 %, unlike the timings.
* **Scale.** sipreg alone, its store preloaded with rows written directly by SQLite (AOR `userN@example.com`, 10
  contacts `<sip:userN-K@127.0.0.1:5999>` each, expires in an hour; 10 contacts per AOR at every size, so every
  200 lists the same 10 contacts and only the table size changes). The load registers the AORs' `-0` contact
  (a refresh), cycling through *all* preloaded AORs, at {f(P.get('scale_rate'))} reg/s for {P.get('scale_s')} s over
  UDP. Start time = process start to the first 200 to an OPTIONS (polled every 5 ms); restart = the same after a
  SIGTERM, with the store as the load left it. Resident memory per binding = difference of idle RSS between the
  largest and smallest store divided by the difference in bindings; "strings" = the bytes of contact, Call-ID,
  source and User-Agent (NUL-terminated, as sipreg keeps them) plus the AOR key's share.
* **Mass expiry.** A store of {f(P.get('expiry', {}).get('aors', 0) * P.get('expiry', {}).get('contacts', 0))}
  bindings whose contacts 1–9 of every AOR
  ({f(P.get('expiry', {}).get('aors', 0) * (P.get('expiry', {}).get('contacts', 1) - 1))} bindings) expire spread
  evenly over {P.get('expiry', {}).get('window_s')} s, while SIPp refreshes contact 0 of every AOR at
  {f(P.get('expiry', {}).get('rate'))} reg/s; p99 before the window vs inside it.
* **Per-source protections.** sipreg runs with its defaults (`--rate-limit 1000`, `--ban-after 10`) and
  `--trusted 127.0.0.0/8`, so the one SIPp source that sends thousands of requests a second is exempt, as an
  SBC in front would be; Kamailio's config has no pike module either.  Behaviour under a flood from untrusted
  sources is measured in docs/SECURITY.md.
""")

    for t in P.get("transports", []):
        w(f"## Comparison over {t.upper()}\n")
        w("| offered reg/s | server | result | failed / calls | retrans | CPU ms / 1k reg | p50 ms | p99 ms | PSS MB | SIPp core | other load core 0 |")
        w("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        rates = sorted({s["rate"] for s in res.get("comparison", []) if s["transport"] == t})
        for r in rates:
            for k in KEYS:
                s = at(res, k, t, r)
                if not s:
                    continue
                w(f"| {f(r)} | {NAME[k]} | {'pass' if s['pass'] else '**FAIL**'} | "
                  f"{f(s['failed'] + s['incomplete'])} / {f(s['calls'])} | {f(s['retrans'])} | "
                  f"{f(s['cpu_ms_per_1k'])} | {f(s['p50_ms'], 2)} | {f(s['p99_ms'], 2)} | "
                  f"{f(s['pss_kb'] / 1024.0, 0)} | {s['sipp_cpu_s'] / max(s['wall_s'], 1e-9):.2f} | "
                  f"{f(s.get('foreign_core0'), 2)} |")
        mr = res.get("max_rate", {}).get(t, {})
        w("")
        idle = res.get("idle_cpu_ms_per_s")
        if idle:
            w("Idle cost, no traffic at all: " + ", ".join(f"{NAME[k]} {f(idle.get(k))} CPU ms/s" for k in KEYS if k in idle)
              + " (part of every step's CPU: at 250 reg/s it alone is "
              + ", ".join(f"{f(idle[k] / 0.25, 0)}" for k in KEYS if k in idle) + " ms per 1,000 registrations).\n")
        w("Highest sustained rate: " + ", ".join(f"{NAME[k]} **{f(mr.get(k))}**/s" for k in KEYS) + ".\n")
    if made:
        w("## Plots\n")
        for png in made:
            w(f"![{png}]({rel}/{png})\n")

    cg = res.get("callgrind")
    if cg:
        w("## Instructions per registration (callgrind)\n")
        w(f"**{f(cg.get('ir_per_reg'), 0)} instructions per registration** (both requests: challenge and "
          "authenticated REGISTER, each committed alone). Runs: " +
          ", ".join(f"{k} registrations → {f(v['ir'])} Ir ({v['ok']} ok)" for k, v in cg.get("runs", {}).items()) + ".\n")
        w("Top functions by own instructions (the longer run, start-up included):\n")
        w("| Ir | function |")
        w("|---:|---|")
        for ir, fn in cg.get("top", [])[:20]:
            w(f"| {f(ir)} | `{fn}` |")
        w("")

    pf = res.get("perf")
    if pf:
        w("## Profile under load (perf)\n")
        if pf.get("error"):
            w(f"perf: {pf['error']}\n")
        else:
            s = pf.get("step", {})
            w(f"`perf record -g -F 999 -p PID` of sipreg during a {P.get('perf_s')} s UDP step at {f(pf.get('rate'))} reg/s "
              f"({f(s.get('cpu_ms_per_1k'))} CPU ms / 1k reg). This VM exposes no hardware counters, so perf samples "
              "the `cpu-clock` software event. Self time:\n")
            w("| % | where |")
            w("|---:|---|")
            for p_, d in pf.get("dsos", []):
                w(f"| {p_} | {d} |")
            w("")
            w("| % | symbol (`[k]` kernel, `[.]` user) |")
            w("|---:|---|")
            for p_, sym in pf.get("symbols", [])[:25]:
                w(f"| {p_} | `{sym}` |")
            w("")

    sc = res.get("scale")
    if sc:
        w("## Scale (sipreg)\n")
        w("| bindings | AORs | start s | restart s | idle RSS MB | RSS after load MB | CPU ms / 1k reg | p50 ms | p99 ms | failed | store build s |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in sc:
            w(f"| {f(r['bindings'])} | {f(r['aors'])} | {r['start_s']:.2f} | {r['restart_s']:.2f} | "
              f"{r['rss_idle_kb'] / 1024:.1f} | {r['rss_kb'] / 1024:.1f} | {f(r['cpu_ms_per_1k'])} | "
              f"{f(r['p50_ms'], 2)} | {f(r['p99_ms'], 2)} | {r['failed'] + r['incomplete']} | {r['build_s']} |")
        w("")
        if len(sc) >= 2:
            lo, hi = sc[0], sc[-1]
            per = (hi["rss_idle_kb"] - lo["rss_idle_kb"]) * 1024 / max(hi["bindings"] - lo["bindings"], 1)
            w(f"Resident memory per binding ({f(lo['bindings'])} → {f(hi['bindings'])}): **{per:.0f} bytes**, of which "
              f"{hi['string_bytes_per_binding']:.0f} are the binding's strings → **{per - hi['string_bytes_per_binding']:.0f} "
              "bytes beyond strings** (binding struct, malloc overhead, expiry heap slot, AOR share, hash buckets).\n")
    e = res.get("expiry")
    if e:
        w("## Mass expiry under load (sipreg)\n")
        w(f"{f(e['bindings'])} bindings, {f(e['expiring'])} expiring over {e['window_s']} s while SIPp refreshes at "
          f"{f(e['rate'])} reg/s (UDP); load started {e['before_s']} s before the window. "
          f"{f(e['ok'])} registrations ok, {e['failed']} failed, {e['incomplete']} incomplete, {f(e['retrans'])} retransmissions; "
          f"rows left in the store after the run: {f(e['rows_left_in_store'])} (sipreg deletes expired rows a few dozen inside each commit).\n")
        w("| phase | samples | p50 ms | p99 ms | max ms | sipreg CPU (cores) | other load core 0 |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        for ph in ("before", "during", "after"):
            x = e["phases"][ph]
            w(f"| {ph} | {f(x['n'])} | {f(x['p50_ms'], 2)} | {f(x['p99_ms'], 2)} | {f(x['max_ms'], 2)} | "
              f"{f(x.get('server_core'), 2)} | {f(x.get('other_core0'), 2)} |")
        w("")
        if e.get("silent_s"):
            w(f"**Seconds in which no registration completed** (relative to the window's start): "
              f"{', '.join(str(x) for x in e['silent_s'])}.\n")
        w("p99 / max per second (s relative to the window's start): " +
          " ".join(f"{s:+d}:{f(p, 1)}/{f(m, 1)}" for s, p, m in e.get("p99_timeline", [])) + "\n")

    cg = res.get("ceiling")
    if cg and cg.get("steps"):
        w("## sipreg's ceiling with several SIPp processes (UDP)\n")
        w(f"One SIPp process tops out before sipreg does, so {cg['steps'][0]['sipps']} run at once, each on its own "
          "slice of the users, all pinned to the load core; sipreg keeps one worker on its own core. The ladder "
          "stops at the first rate with ≥ 0.1 % failed or late calls.\n")
        w("| offered reg/s | ok / calls | failed | achieved reg/s | server cores | CPU ms / 1k reg | p50 ms | p99 ms | load core busy | result |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for x in cg["steps"]:
            w(f"| {f(x['rate'])} | {f(x['ok'])} / {f(x['calls'])} | {f(x['failed'])} | {f(x['achieved'])} | "
              f"{x['server_cores']} | {x['cpu_ms_per_1k']} | {f(x['p50_ms'], 2)} | {f(x['p99_ms'], 2)} | "
              f"{x['load_core']} | {'pass' if x['pass'] else '**FAIL**'} |")
        w("")

    d = res.get("durability")
    if d:
        w("## kill -9 under benchmark load (sipreg)\n")
        w(f"SIPp registers at {f(d['rate'])} reg/s (UDP) while 8 checker clients register and remove contacts "
          "of their own and note every 200; sipreg is killed with SIGKILL at a random moment mid-load and "
          "restarted, then the store is read with `sipreg bindings`. A removal that got no answer before the kill "
          "may or may not have been applied, so it is not judged.\n")
        w("| round | SIPp ok | SIPp failed (the kill) | checker requests |")
        w("|---:|---:|---:|---:|")
        for r in d["rounds"]:
            w(f"| {r['round']} | {f(r['sipp_ok'])} | {f(r['sipp_failed'])} | {f(r['checker_sent'])} |")
        w("")
        w(f"**{f(d['acked'])} acknowledged registrations and {f(d['removals'])} acknowledged removals: "
          f"{d['lost']} lost, {d['resurrected']} came back** ({d.get('unanswered_removals', 0)} removals "
          "unanswered at a kill, not judged).\n")

    cm = res.get("commands", {})
    if cm:
        w("## Command lines\n")
        w("```")
        for k in ("sipreg", "kam-mem", "kam-db", "sipp"):
            if k in cm:
                # paths relative to the repository, except inside Kamailio's -A values
                w(re.sub(r"(?<= )" + re.escape(str(BENCH.parent) + "/"), "", cm[k]))
        w("```\n")
        w("Stores: sipreg's from `sipreg user add` (schema) plus rows inserted with SQLite (`users`: HA1 = "
          "MD5 / SHA-256 of `user:example.com:password`); Kamailio's from `/usr/share/kamailio/db_sqlite/"
          "{standard,auth_db,usrloc}-create.sql` plus `subscriber` rows with `ha1` and `ha1b`.\n")

    fnd = BENCH / "findings.md"
    if fnd.exists():
        w(fnd.read_text().rstrip() + "\n")

    w("## Ratios (sipreg / Kamailio, this run)\n")
    w("CPU, p50 and p99 compared at the highest offered rate both servers sustained; PSS is the peak over all of "
      "the transport's steps; \"best CPU\" compares "
      "each server's lowest CPU per registration over all its passing steps (sipreg's falls with load as group "
      "commit amortises each fsync over more registrations).\n")
    w("| transport | vs | at rate | CPU / reg | best CPU / reg | p50 | p99 | PSS | highest sustained rate |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in ratios(res):
        w(f"| {r['transport'].upper()} | {NAME[r['vs']]} | {f(r['rate'])} | {rx(r.get('cpu'))} | {rx(r.get('best_cpu'))} | "
          f"{rx(r.get('p50'))} | {rx(r.get('p99'))} | {rx(r.get('pss'))} | {rx(r.get('max_rate'))} |")
    w("")
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("\n".join(L))


def print_ratios(res):
    print("\nTargets:")
    for name, ok, val in targets(res):
        print(f"  [{'met' if ok else 'NOT met'}] {name}: {val}")
    print("\nRatios sipreg / Kamailio (same run; CPU, p50, p99 at the highest rate both sustained; peak PSS):")
    for r in ratios(res):
        print(f"  {r['transport'].upper()} vs {NAME[r['vs']]:15s} at {f(r['rate'])}/s: CPU/reg {rx(r.get('cpu'))} "
              f"(best vs best {rx(r.get('best_cpu'))})  "
              f"p50 {rx(r.get('p50'))}  p99 {rx(r.get('p99'))}  PSS {rx(r.get('pss'))}  "
              f"max rate {rx(r.get('max_rate'))}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    res = json.loads(Path(sys.argv[1]).read_text())
    write(res, sys.argv[2], sys.argv[3], Path(sys.argv[1]).parent)
    print_ratios(res)
