#!/bin/bash
# Same Call-ID with a lower (or equal) CSeq -> 400, binding unchanged; another
# Call-ID may use any CSeq.  (Raw python client: SIPp refuses to match a
# response to a lower CSeq within one call.)
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
py <<'PY' || fail "CSeq ordering checks"
from sipclient import *
c = client()
reg = Registrar(c, alg='MD5')
ct = '<sip:alice@127.0.0.1:5501>'
c.cseq = 100
r = reg.register([ct], 600)
expect(r is not None and r.status == 200, 'register at CSeq 102', r)
top = c.cseq
def attempt(cs, expires):
    m = reg.register_msg([ct], expires, cseq=cs, auth=reg.auth_header())
    r = c.request(m)
    if r is not None and r.status == 401:     # re-challenged: answer with the same CSeq
        reg.last_challenge = reg.pick_challenge(r)
        reg.nc = 0
        r = c.request(reg.register_msg([ct], expires, cseq=cs, auth=reg.auth_header()))
    return r
for cs, exp in ((top, 0), (50, 0), (top - 1, 1800)):
    r = attempt(cs, exp)
    expect(r is not None and r.status == 400,
           'CSeq %d (<= %d) on the same Call-ID, Expires %d -> 400' % (cs, top, exp), r)
    b = [x for x in bindings('alice@example.com') if x['contact'].startswith('sip:alice@127.0.0.1:5501')]
    expect(len(b) == 1, 'binding still there after CSeq %d' % cs)
    expect(b[0]['expires'] is None or b[0]['expires'] <= 600, 'expiry unchanged after CSeq %d: %s' % (cs, b[0]['line']))
# a higher CSeq on the same Call-ID works
r = attempt(top + 5, 1200)
expect(r is not None and r.status == 200, 'higher CSeq -> 200', r)
# a different Call-ID with a low CSeq is fine (new registration session)
c2 = client()
c2.cseq = 1
reg2 = Registrar(c2)
r = reg2.register([ct], 0)
expect(r is not None and r.status == 200, 'other Call-ID, CSeq 3, Expires 0 -> 200', r)
expect(not contact_in('sip:alice@127.0.0.1:5501', bindings()), 'removed through the other Call-ID')
PY
pass
