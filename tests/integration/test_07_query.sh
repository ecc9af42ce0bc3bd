#!/bin/bash
# REGISTER without Contact is a query: 200 listing bindings, nothing changed.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
add_user bob bobpw
bindings >"$T/before.txt"
run_sipp query.xml
bindings >"$T/after.txt"
[ "$(grep -c 'sip:alice@127.0.0.1' "$T/after.txt")" -eq 1 ] || fail "query must not add or remove: $(cat "$T/after.txt")"
py <<'PY' || fail "python query checks"
from sipclient import *
import time
c = client()
reg = Registrar(c)
cts = ['<sip:alice@127.0.0.1:5301>', '<sip:alice@127.0.0.1:5302>']
r = reg.register(cts, 900)
expect(r is not None and r.status == 200, 'register 2 contacts', r)
before = bindings('alice@example.com')
time.sleep(1.2)
q = reg.register(None, None)
expect(q is not None and q.status == 200, 'query -> 200', q)
got = q.contacts()
for u in ('sip:alice@127.0.0.1:5301', 'sip:alice@127.0.0.1:5302'):
    expect(contact_in(u, got), 'query lists %s' % u, q)
for ct in got:
    expect(ct.expires is not None, 'every listed contact has ;expires=', q)
e = [ct.expires for ct in got if ct.uri.endswith(':5301')][0]
expect(880 <= e <= 899, 'remaining expiry counts down (got %d, want 880..899)' % e, q)
expect(q.hdr('date') is not None, '200 carries Date', q)
expect(re.match(r'^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$',
               q.hdr('date')), 'Date is an RFC 1123 GMT date: %r' % q.hdr('date'), q)
expect('tag=' in (q.hdr('to') or ''), '200 To carries a tag', q)
after = bindings('alice@example.com')
expect(len(after) == len(before), 'query changed the number of bindings %d -> %d' % (len(before), len(after)))
# a query with Expires: 0 but no Contact is still a query
q = reg.register(None, 0)
expect(q is not None and q.status == 200, 'Expires: 0 without Contact -> 200 query', q)
expect(len(bindings('alice@example.com')) == len(before), 'Expires: 0 without Contact removed bindings')
# removing what is not there is fine too
c2 = client()
reg2 = Registrar(c2, user='bob', password='bobpw')
r = reg2.register(['*'], 0)
expect(r is not None and r.status == 200 and not r.contacts(), 'Contact: * for an AOR without bindings -> 200, no Contact', r)
r = reg2.register(['<sip:bob@127.0.0.1:5309>'], 0)
expect(r is not None and r.status == 200 and not r.contacts(), 'Expires: 0 for an unknown contact -> 200, no Contact', r)
PY
pass
