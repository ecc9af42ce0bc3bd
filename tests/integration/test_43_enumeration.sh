#!/bin/bash
# User enumeration.
#
# (a) SIPVicious svwar (Debian sipvicious, command svwar) against the server
#     with its default protections, domain example.com with two real
#     extensions, 1003 and 1007, among 1000-1010:
#       - REGISTER (svwar's default): svwar first probes a random extension
#         and refuses to scan ("authentication request for an unknown
#         extension"); with --force it compares the answer for a real
#         extension with the random one's, finds them alike and stops with
#         "found nothing" (once with 1003 first, once with 1007 first);
#       - OPTIONS over the whole range, and INVITE (1003 first): "found nothing".
#     Every answer svwar printed (--debug) is also compared here: once the
#     per-request values are masked, all are identical within a method.
# (b) timing, attack_timing.py: 10,000 REGISTERs per class with a wrong
#     password, for known users and for unknown users of the same name
#     length (interleaved in key order), plus a control class of other known
#     users, all shuffled into one order; Mann-Whitney, Hodges-Lehmann shift,
#     medians, trimmed means.  Verdict (attack_timing.py, which explains
#     the calibration): a leak when the shift is significant (p < 0.001)
#     and over both the noise (from the control) and 4% of the median
#     response time.  Known users are measurably slower (0.5-0.9 us, ~2%,
#     the store reading their row): printed as a NOTE.  The
#     server runs with --rate-limit 0 --ban-after 1000000: nothing is dropped
#     or banned, yet every failure still goes through the guard's per-source
#     and per-username bookkeeping as in production (--trusted would skip
#     it, --ban-after 0 too).  Also: the first credential-less 401s and the
#     wrong-password 401s for known and unknown users are identical apart
#     from nonces, tags and what the client chose.
. "$(dirname "$0")/lib.sh"
command -v svwar >/dev/null || fail "svwar not installed (Debian package sipvicious; scripts/deps.sh test)"
add_user 1003 secret1003
add_user 1007 secret1007
start_server --log-level info

svport=$(free_port) || fail "no free port for svwar"
# svwar ignores -b (its TakeASip is never given the binding address): it
# binds every interface; -x names the address for its Via.
svwar_run() { # name args...
	local name=$1
	shift
	timeout 40 svwar --domain "$DOMAIN" -x 127.0.0.1 -P "$svport" --debug "$@" \
		"udp://127.0.0.1:$PORT" >"$T/svwar-$name.txt" 2>&1
	log "svwar $* -> $(grep -E '^(WARNING|ERROR):' "$T/svwar-$name.txt" | cut -c1-110 | tr '\n' '|')"
}

# 1. REGISTER, no --force: svwar gives up by itself
svwar_run register-check -e 1000-1010
assert_grep 'SIP server replied with an authentication request for an unknown extension' \
	"$T/svwar-register-check.txt" "svwar (REGISTER) did not refuse the scan; see $T/svwar-register-check.txt"
assert_grep 'found nothing' "$T/svwar-register-check.txt"

# 2. REGISTER --force, a real extension first (svwar stops at the first
#    answer equal to the random extension's)
printf '1003\n1000\n1007\n1001\n' >"$T/dict-1003"
printf '1007\n1000\n1003\n1001\n' >"$T/dict-1007"
svwar_run register-1003 --force -d "$T/dict-1003"
svwar_run register-1007 --force -d "$T/dict-1007"
# 3. OPTIONS over the whole range; INVITE with 1003 first (svwar stops at the
#    first 405 equal to the random extension's)
svwar_run options --force -m OPTIONS -e 1000-1010
svwar_run invite --force -m INVITE -d "$T/dict-1003"

py "$T" <<'PY' || fail "svwar results"
import ast, os, re, sys
from sipclient import expect
T = sys.argv[1]

def answers(path):
    """svwar --debug prints each datagram received as a bytes literal."""
    out = []
    for ln in open(path, encoding='utf-8', errors='replace'):
        ln = ln.rstrip('\n')
        if ln.startswith("b'") or ln.startswith('b"'):
            out.append(ast.literal_eval(ln).decode('utf-8', 'replace'))
    for m in re.finditer(r"ERROR:TakeASip:Response: '(.*)'", open(path, errors='replace').read()):
        out.append(ast.literal_eval("'" + m.group(1) + "'"))
    return out

def ext_of(a):
    m = re.search(r'From: "(\d+)"', a)
    return m.group(1) if m else None

def masked(a):
    e = ext_of(a)
    a = a.replace('"%s"<sip:%s@' % (e, e), '"<EXT>"<sip:<EXT>@')
    a = re.sub(r';tag=[^;\r\n]*', ';tag=<TAG>', a)
    a = re.sub(r'branch=[^;\r\n]*', 'branch=<BRANCH>', a)
    a = re.sub(r'Call-ID: [^\r\n]*', 'Call-ID: <CALLID>', a)
    a = re.sub(r'nonce="[^"]*"', 'nonce="<NONCE>"', a)
    return a

summary = []
for name, reals in (('register-1003', ['1003']), ('register-1007', ['1007']),
                    ("options", ["1003", "1007"]), ("invite", ["1003"])):
    path = os.path.join(T, 'svwar-%s.txt' % name)
    txt = open(path, errors='replace').read()
    expect('found nothing' in txt, 'svwar %s: expected "found nothing"' % name, txt[-3000:])
    expect(not re.search(r"extension '\d+' (exists|probably exists)", txt),
           'svwar %s reported an extension' % name, txt[-3000:])
    ans = answers(path)
    exts = sorted({ext_of(a) for a in ans if ext_of(a)})
    for r in reals:
        expect(r in exts, 'svwar %s never got an answer for the real extension %s (got %s)'
               % (name, r, exts), txt[-3000:])
    expect(len(exts) >= 2, 'svwar %s: answers for %s only' % (name, exts), txt[-3000:])
    shapes = {masked(a) for a in ans}
    expect(len(shapes) == 1, 'svwar %s: answers differ between extensions: %s' % (name, shapes))
    summary.append('%s: %d answers for extensions %s, all "%s" and identical once masked'
                   % (name, len(ans), ','.join(exts), ans[0].split('\r\n')[0]))
for s in summary:
    print('FIGURES svwar ' + s)
PY

# (b) timing and shape, on a server that neither drops nor bans
stop_server || fail "SIGTERM: non-zero exit status"
for u in u1001 u1003 u1005 u1007 u1009 u1011; do add_user "$u" "pw-$u"; done
start_server --log-level info --rate-limit 0 --ban-after 1000000
timing_args=()
if grep -q __asan_init "$SIPREG" 2>/dev/null; then
	# an instrumented build's timings say nothing about the release build's:
	# measure and print, judge only the shape of the answers
	timing_args=(--max-rel 1)
	log "sanitizer build: the timing figures are printed but not judged"
fi
timeout 60 "$PY" "$IT_DIR/attack_timing.py" 127.0.0.1 "$PORT" --src 127.0.0.5 \
	--known u1001,u1005,u1009,u1003,u1007,u1011 --unknown u1002,u1006,u1010,u1004,u1008 \
	--n 10000 "${timing_args[@]}" --out "$T/timing.json" >"$T/timing.out" 2>&1
rc=$?
[ $rc -eq 0 ] || sed 's/^/    /' "$T/timing.out" >&2
[ $rc -eq 0 ] || fail "timing/shape check failed (exit $rc): $(grep -E '^(PROBLEM|too few|no )' "$T/timing.out" | head -n 3)"
grep -E '^(known vs|control|[0-9]+ timed|samples per class|NOTE|credential-less|wrong password)' "$T/timing.out" | sed 's/^/FIGURES timing: /'
pass
