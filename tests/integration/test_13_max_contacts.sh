#!/bin/bash
# --max-contacts 3: a 4th binding replaces the least recently refreshed one;
# one REGISTER carrying more than 3 contacts -> 403 and nothing changes.
. "$(dirname "$0")/lib.sh"
start_server --max-contacts 3
add_user alice secret
py <<'PY' || fail "max-contacts checks"
from sipclient import *
import time
c = client()
reg = Registrar(c)
def ct(n):
    return 'sip:alice@127.0.0.1:%d' % (6000 + n)
def have():
    return sorted(b['contact'].split(';')[0] for b in bindings('alice@example.com'))
for n in (1, 2, 3):
    r = reg.register(['<%s>' % ct(n)], 600)
    expect(r is not None and r.status == 200, 'register contact %d' % n, r)
    time.sleep(1.1)
expect(have() == [ct(1), ct(2), ct(3)], 'three bindings: %s' % have())
# refresh 1: now 2 is the least recently refreshed
r = reg.register(['<%s>' % ct(1)], 600)
expect(r is not None and r.status == 200, 'refresh contact 1', r)
time.sleep(1.1)
r = reg.register(['<%s>' % ct(4)], 600)
expect(r is not None and r.status == 200, 'a 4th contact -> 200 (oldest replaced)', r)
listed = sorted(x.uri for x in r.contacts())
expect(listed == [ct(1), ct(3), ct(4)], '200 lists 1,3,4 (2 replaced); got %s' % listed, r)
expect(have() == [ct(1), ct(3), ct(4)], 'store holds 1,3,4; got %s' % have())
# four contacts in one request (separate Contact headers) -> 403, nothing changes
r = reg.register(['<%s>' % ct(n) for n in (5, 6, 7, 8)], 600)
expect(r is not None and r.status == 403, '4 contacts in one REGISTER -> 403', r)
# ... and comma-separated in one header
r = reg.register(['<%s>, <%s>, <%s>, <%s>' % tuple(ct(n) for n in (5, 6, 7, 8))], 600)
expect(r is not None and r.status == 403, '4 comma-separated contacts -> 403', r)
expect(have() == [ct(1), ct(3), ct(4)], 'unchanged after 403; got %s' % have())
# exactly 3 new ones in one request (mixed forms): all three old ones go
r = reg.register(['<%s>, <%s>' % (ct(5), ct(6)), '<%s>;expires=900' % ct(7)], 600)
expect(r is not None and r.status == 200, '3 contacts in one REGISTER -> 200', r)
expect(have() == [ct(5), ct(6), ct(7)], 'store holds 5,6,7; got %s' % have())
exp7 = [x.expires for x in r.contacts() if x.uri == ct(7)]
expect(exp7 and 890 <= exp7[0] <= 900, 'per-contact expires=900 honoured: %s' % exp7, r)
# another AOR is not affected by alice's limit
PY
pass
