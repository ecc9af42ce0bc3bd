#!/bin/bash
# Wrong password -> 401 again and no binding; unknown user likewise.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
run_sipp wrong_password.xml -ap wrong
run_sipp wrong_password.xml -s mallory -au mallory -ap whatever
bindings >"$T/b.txt"
assert_no_grep 'sip:' "$T/b.txt" "no binding may exist after failed authentication"
py <<'PY' || fail "python wrong password checks"
from sipclient import *
c = client()
for alg in ('SHA-256', 'MD5'):
    reg = Registrar(c, password='not-the-password', alg=alg)
    r = reg.register(['<%s>' % c.contact_uri()], 600)
    expect(r is not None and r.status == 401, 'wrong password with %s -> 401' % alg, r)
    expect(not any(ch.stale for ch in r.challenges()), 'a wrong password is not stale', r)
# same shape of challenge for unknown and known users (no user enumeration)
ra = Registrar(c, user='alice').register_msg(['<%s>' % c.contact_uri()], 600)
rk = c.request(ra)
rb = Registrar(c, user='nosuchuser').register_msg(['<%s>' % c.contact_uri()], 600)
ru = c.request(rb)
expect(rk.status == 401 and ru.status == 401, 'both challenged', ru)
expect(len(rk.challenges()) == len(ru.challenges()), 'same number of challenges for unknown user', ru)
expect(bindings() == [], 'no binding after wrong passwords')
PY
pass
