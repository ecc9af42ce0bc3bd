#!/bin/bash
# UDP flood with the default protections (no --trusted): 50,000 datagrams in
# 10 s (5,000/s) from 127.0.0.2 -- junk bytes, truncated and garbled SIP,
# well-formed unauthenticated REGISTERs for known and unknown users and,
# from 6 s on, REGISTERs answering a real challenge for alice with wrong
# passwords (10 of them ban the source, the rest of the flood is dropped as
# banned; alice becomes a "user under attack") -- while legitimate clients
# on 127.0.0.1 register alice, bob, carol and dave with correct MD5 Digest
# 50 times a second (a full 401 + authenticated exchange each time).
#
# Asserts: the flood really ran at >= 4,500/s; >= 99% of >= 300 legitimate
# registrations succeed; the attacker got at most rate-limit x seconds +
# burst answers; the server used less than one core; it is alive and
# answering afterwards; 127.0.0.2 is banned, and a new source that fails
# once for alice (under attack) is banned at once, while alice herself still
# registers; the log grew by a bounded number of lines (rate-limited
# warnings).  Prints the figures.
. "$(dirname "$0")/lib.sh"
for u in alice bob carol dave; do add_user "$u" secret; done
# info, as in production: at debug every response sent is logged by design
start_server --log-level info
FLOOD_N=50000 FLOOD_RATE=5000 RATE_LIMIT=1000

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
log_lines0=$(wc -l <"$LOG")
cpu0=$(cpu_ticks)

# legitimate clients: 11.5 s at 50 registrations/s, covering the flood
# (which spends ~0.6 s building its datagrams before the first send)
timeout 40 "$PY" "$IT_DIR/attack_flood.py" legit 127.0.0.1 "$PORT" --src 127.0.0.1 \
	--users alice:secret,bob:secret,carol:secret,dave:secret --duration 11.5 --rate 50 \
	--out "$T/legit.json" >"$T/legit.out" 2>&1 &
legit_pid=$!
EXTRA_PIDS+=("$legit_pid")
t0=$(date +%s.%N)
timeout 40 "$PY" "$IT_DIR/attack_flood.py" flood 127.0.0.1 "$PORT" --src 127.0.0.2 \
	--count "$FLOOD_N" --rate "$FLOOD_RATE" --victims alice --wrong-from 6 --wrong-share 0.1 \
	--out "$T/flood.json" >"$T/flood.out" 2>&1 || fail "flooder failed: $(tail -n 5 "$T/flood.out")"
cpu1=$(cpu_ticks)
log_lines1=$(wc -l <"$LOG")
wait_pid "$legit_pid" 30 || fail "legitimate client did not finish"
t1=$(date +%s.%N)
cat "$T/flood.out" "$T/legit.out" >&2
kill -0 "$SERVER_PID" 2>/dev/null || fail "server died during the flood"

py "$T/flood.json" "$T/legit.json" "$((cpu1 - cpu0))" "$hz" "$((log_lines1 - log_lines0))" \
	"$FLOOD_N" "$FLOOD_RATE" "$RATE_LIMIT" <<'PY' || fail "flood figures"
import json, sys
from sipclient import expect
fl = json.load(open(sys.argv[1]))
lg = json.load(open(sys.argv[2]))
cpu = int(sys.argv[3]) / int(sys.argv[4])
loglines = int(sys.argv[5])
n, rate, limit = int(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
answered = sum(fl['answers'].values())
succ = lg['ok'] / lg['attempts'] if lg['attempts'] else 0
print('FIGURES flood: %d packets sent (%d junk, %d unauthenticated REGISTER, %d wrong-credential '
      'REGISTER; %.1f MB) in %.2f s = %.0f packets/s from 127.0.0.2; %d answered (%s)'
      % (fl['sent'], fl['sent_by_kind']['junk'], fl['sent_by_kind']['register'],
         fl['sent_by_kind']['wrong'], fl['bytes'] / 1e6, fl['seconds'], fl['rate'], answered,
         ', '.join('%s x%d' % kv for kv in sorted(fl['answers'].items()))))
print('FIGURES answers to the attacker per second: %s'
      % ' '.join('%s:%d' % (k, v) for k, v in sorted(fl['answers_per_second'].items(), key=lambda kv: int(kv[0]))))
print('FIGURES legitimate: %d/%d registrations OK (%.2f%%), %d failed, %d retransmissions, '
      'latency p50 %s ms p90 %s ms p99 %s ms max %s ms'
      % (lg['ok'], lg['attempts'], 100 * succ, lg['nfail'], lg['retransmissions'],
         lg['latency_ms']['p50'], lg['latency_ms']['p90'], lg['latency_ms']['p99'],
         lg['latency_ms']['max']))
print('FIGURES server: %.2f CPU seconds during the flood (%.0f%% of one core); '
      '%d log lines written during it' % (cpu, 100 * cpu / max(fl['seconds'], 1e-9), loglines))
if lg['failures']:
    print('legitimate failures: %s' % lg['failures'])
expect(fl['sent'] == n, 'flood sent %d of %d packets' % (fl['sent'], n))
expect(fl['rate'] >= 0.9 * rate, 'flood rate %.0f/s below 90%% of %.0f/s: the sender could not '
       'keep up (machine too loaded?)' % (fl['rate'], rate))
expect(fl['sent_by_kind']['wrong'] >= 100, 'wrong-credential share sent')
expect(lg['attempts'] >= 300, 'only %d legitimate attempts' % lg['attempts'])
expect(succ >= 0.99, 'legitimate success %.2f%% < 99%%: %s' % (100 * succ, lg['failures']))
# the rate limit: whatever the flood, at most limit/s (+ a 2 s burst) is
# even looked at, so at most that many answers (junk is partly unanswerable)
expect(answered <= limit * (fl['seconds'] + 1) + 2 * limit,
       'the attacker got %d answers: more than the rate limit allows' % answered)
expect(answered > 0, 'the attacker got no answer at all: was the flood received?')
# wrong credentials start at 6 s, 10% of 5,000/s: the 10th failure (the ban)
# comes within ~20 ms; from then on everything is dropped unread
late = sum(v for k, v in fl['answers_per_second'].items() if int(k) >= 7)
expect(late == 0, 'the attacker still got %d answers after its ban' % late)
expect(cpu < fl['seconds'], 'the server used %.2f CPU s in a %.1f s flood: over one core' % (cpu, fl['seconds']))
expect(loglines <= 30, '%d log lines during the flood: logging is not bounded' % loglines)
PY

grep -E 'guard:|warn|error' "$LOG" | sed 's/^/    log: /' >&2
assert_grep 'guard: 127\.0\.0\.2 sends over 1000 requests/s' "$LOG" "no rate-limit warning for 127.0.0.2"
assert_grep 'guard: banned 127\.0\.0\.2 for 300 s after 10 failed authentications' "$LOG" \
	"127.0.0.2 sent wrong credentials but was not banned"
assert_grep 'guard: user "alice@example.com" drew 10 failed authentications' "$LOG" \
	"alice was not marked as a user under attack"
[ "$(grep -c 'guard: 127.0.0.2 sends over' "$LOG")" -le 2 ] || fail "rate-limit warning repeated: not rate-limited"

# afterwards: alive and answering, the attacker banned, alice (under attack)
# still registers, and any new source failing for her is banned at once
py <<'PY' || fail "after the flood"
from sipclient import *
r = options('127.0.0.1', env_port(), timeout=2)
expect(r is not None and r.status == 200, 'OPTIONS from 127.0.0.1 after the flood', r)
c2 = SipClient('127.0.0.1', env_port(), 'udp', local_host='127.0.0.2', timeout=1.5)
m = c2.build('OPTIONS', 'sip:example.com', [], from_uri='sip:x@example.com')
expect(c2.request(m, 1.5) is None, 'the banned 127.0.0.2 still gets answers')
c = client(timeout=3)
r = Registrar(c, 'alice', 'secret', alg='MD5').register(['<sip:alice@127.0.0.1:30999>'], 600)
expect(r is not None and r.status == 200, 'alice registers after the flood', r)
c4 = SipClient('127.0.0.1', env_port(), 'udp', local_host='127.0.0.4', timeout=2)
reg4 = Registrar(c4, 'alice', 'not-her-password', alg='MD5')
r = reg4.register(['<sip:alice@127.0.0.4:5060>'], 600)
expect(r is not None and r.status == 401, 'wrong password from 127.0.0.4 -> 401', r)
m = c4.build('OPTIONS', 'sip:example.com', [], from_uri='sip:x@example.com')
expect(c4.request(m, 1.5) is None, 'one failure for a user under attack should ban 127.0.0.4')
r = Registrar(c, 'alice', 'secret', alg='MD5').register(['<sip:alice@127.0.0.1:30998>'], 600)
expect(r is not None and r.status == 200, 'alice still registers', r)
print('after the flood: alive, 127.0.0.2 banned, 127.0.0.4 banned after one failure for alice, alice registers')
PY
assert_grep 'guard: banned 127\.0\.0\.4 .*a user under attack' "$LOG" "127.0.0.4 not banned as failing for a user under attack"
log "total log lines: $(wc -l <"$LOG"); wall $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s for flood + legit"
pass
