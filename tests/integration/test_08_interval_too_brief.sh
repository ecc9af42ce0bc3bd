#!/bin/bash
# Expires below min-expires -> 423 with Min-Expires; nothing stored.  Above
# max-expires is clamped; no Expires uses default-expires.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
run_sipp too_brief.xml
bindings >"$T/b.txt"
assert_no_grep 'alice@' "$T/b.txt" "423 must not create a binding"
stop_server
start_server --min-expires 120 --max-expires 1000 --default-expires 700
py <<'PY' || fail "expiry bounds"
from sipclient import *
c = client()
reg = Registrar(c)
ct = c.contact_uri()
r = reg.register(['<%s>' % ct], 100)
expect(r is not None and r.status == 423, 'Expires 100 with --min-expires 120 -> 423', r)
expect((r.hdr('min-expires') or '').strip() == '120', 'Min-Expires: 120', r)
# contact parameter expires takes precedence over the header
r = reg.register(['<%s>;expires=30' % ct], 600)
expect(r is not None and r.status == 423, 'contact ;expires=30 -> 423 even with Expires: 600', r)
r = reg.register(['<%s>' % ct], 5000)
expect(r is not None and r.status == 200, 'Expires 5000 -> 200', r)
e = [x.expires for x in r.contacts() if x.uri == ct]
expect(e and 990 <= e[0] <= 1000, 'clamped to max-expires 1000 (got %r)' % e, r)
r = reg.register(['<%s>' % ct], 99999999999)
e = [x.expires for x in r.contacts() if x.uri == ct] if r is not None else None
expect(r is not None and r.status == 200 and e and 990 <= e[0] <= 1000,
       'Expires: 99999999999 (beyond 32 bits) -> clamped to 1000 (got %r)' % e, r)
c2 = client()
reg2 = Registrar(c2)
r = reg2.register(['<%s>' % c2.contact_uri()], None)
expect(r is not None and r.status == 200, 'no Expires -> 200', r)
e = [x.expires for x in r.contacts() if x.uri == c2.contact_uri()]
expect(e and 690 <= e[0] <= 700, 'default-expires 700 used (got %r)' % e, r)
PY
pass
