#!/bin/bash
# Password guessing: --ban-after failed authentications from one source ban
# it (dropped, then the ban doubles), the real user from another address is
# unaffected, credential-less and stale requests never count, trusted
# sources are exempt, and each ban is one log line the shipped fail2ban
# filter matches.
. "$(dirname "$0")/lib.sh"
start_server --ban-after 3 --ban-window 60 --ban-time 3
add_user alice secret
add_user bob secret

py <<'PY' || fail "ban checks"
import time
from sipclient import *

def from_addr(host, timeout=1.0):
    return SipClient('127.0.0.1', env_port(), 'udp', local_host=host, timeout=timeout)

def guess(c, user='alice'):
    return Registrar(c, user=user, password='guess').register(['<%s>' % c.contact_uri(user)], 600)

def opt(c):
    m = c.build('OPTIONS', 'sip:example.com', [], from_uri='sip:x@example.com')
    return c.request(m, retransmit=False)

# 1. Requests without credentials and stale retries never count.
c3 = from_addr('127.0.0.3')
for i in range(12):
    r = c3.request(Registrar(c3, user='bob').register_msg(['<%s>' % c3.contact_uri('bob')], 600))
    expect(r is not None and r.status == 401, 'credential-less REGISTER %d -> 401' % i, r)
reg = Registrar(c3, user='bob')
r = reg.register(['<%s>' % c3.contact_uri('bob')], 600)
expect(r is not None and r.status == 200, 'bob registers from 127.0.0.3', r)
replay = reg.last_request
for i in range(6):
    # the same Authorization again, in a new transaction: stale, not a failure
    m = replay.replace(b'branch=z9hG4bK', b'branch=z9hG4bKr%d' % i)
    r = c3.request(m)
    expect(r is not None and r.status == 401 and any(ch.stale for ch in r.challenges()),
           'a replayed Authorization is stale (%d)' % i, r)
expect(opt(c3) is not None, '127.0.0.3 not banned by 401s and stale retries')

# 2. Three wrong passwords from 127.0.0.2: banned, dropped.
a = from_addr('127.0.0.2')
for i in range(3):
    r = guess(a)
    expect(r is not None and r.status == 401, 'wrong password %d answered 401' % i, r)
expect(opt(a) is None, 'a banned source gets no answer')
expect(guess(a) is None, 'a banned source cannot even get a challenge')

# 3. The real alice, from another address, is unaffected.
c1 = from_addr('127.0.0.1')
r = Registrar(c1, user='alice').register(['<%s>' % c1.contact_uri('alice')], 600)
expect(r is not None and r.status == 200, 'alice registers from 127.0.0.1 during the ban', r)

# 4. The ban ends (3 s), the next one lasts twice as long (6 s).
time.sleep(3.3)
expect(opt(a) is not None, 'the first ban ended after 3 s')
for i in range(3):
    guess(a, 'bob')
expect(opt(a) is None, 'banned again')
time.sleep(3.3)
expect(opt(a) is None, 'the second ban lasts longer than the first')
PY

n=$(grep -c 'guard: banned 127.0.0.2 for' "$LOG")
[ "$n" = 2 ] || fail "expected 2 ban lines, found $n"
grep -q 'guard: banned 127.0.0.2 for 3 s after 3 failed' "$LOG" || fail "first ban line"
grep -q 'guard: banned 127.0.0.2 for 6 s after 3 failed' "$LOG" || fail "second ban doubles"
if grep -q 'banned 127.0.0.3' "$LOG"; then fail "401s and stale retries counted as failures"; fi

# The shipped fail2ban filter finds both bans, and only them.
if command -v fail2ban-regex >/dev/null; then
	fail2ban-regex "$LOG" "$ROOT/contrib/fail2ban/filter.d/sipreg.conf" >"$T/f2b.txt" 2>&1 ||
		fail "fail2ban-regex failed: $(tail -5 "$T/f2b.txt")"
	grep -Eq 'Lines: [0-9]+ lines, 0 ignored, 2 matched' "$T/f2b.txt" ||
		fail "fail2ban filter: $(grep -E '^Lines:' "$T/f2b.txt")"
	grep -A3 'Failregex: 2 total' "$T/f2b.txt" >/dev/null || fail "fail2ban: 2 failregex hits expected"
else
	fail "fail2ban-regex missing (Debian package fail2ban)"
fi

# A trusted source is never banned.
stop_server
before=$(grep -c 'guard: banned' "$LOG")
start_server --ban-after 2 --trusted 127.0.0.2/32
py <<'PY' || fail "trusted checks"
from sipclient import *
a = SipClient('127.0.0.1', env_port(), 'udp', local_host='127.0.0.2', timeout=1.0)
for i in range(6):
    r = Registrar(a, user='alice', password='guess').register(['<%s>' % a.contact_uri()], 600)
    expect(r is not None and r.status == 401, 'trusted source still answered (%d)' % i, r)
PY
[ "$(grep -c 'guard: banned' "$LOG")" = "$before" ] || fail "a trusted source was banned"
pass
