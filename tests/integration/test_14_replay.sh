#!/bin/bash
# A replayed Authorization (same nonce, nc, cnonce) never gets a 200: the
# exact request with a new Via branch, or the header moved onto another
# REGISTER -> 401 stale=true and the bindings do not change.  A proper
# next nonce-count on the same nonce is accepted.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
py <<'PY' || fail "replay checks"
from sipclient import *
import re, time
for alg in ('SHA-256', 'MD5'):
    c = client()
    reg = Registrar(c, alg=alg)
    port = 6100 if alg == 'MD5' else 6200
    ct = 'sip:alice@127.0.0.1:%d' % port
    r = reg.register(['<%s>' % ct], 600)
    expect(r is not None and r.status == 200, '%s register' % alg, r)
    orig = reg.last_request
    auth = [l for l in orig.decode().split('\r\n') if l.startswith('Authorization:')][0]
    before = bindings('alice@example.com')
    time.sleep(1.1)
    # 1. exact replay, new branch
    replay = re.sub(rb'branch=[^;\r\n]+', b'branch=' + new_branch().encode(), orig)
    expect(replay != orig, 'branch replaced')
    r = c.request(replay)
    expect(r is not None and r.status != 200, '%s exact replay must not get 200' % alg, r)
    expect(r.status == 401, '%s exact replay -> 401' % alg, r)
    expect(any(ch.stale for ch in r.challenges()), '%s replay -> stale=true' % alg, r)
    # 2. the Authorization header moved onto a REGISTER that removes the binding
    m = reg.register_msg(['<%s>' % ct], 0, auth=auth)
    r = c.request(m)
    expect(r is not None and r.status == 401, '%s replayed header with Expires: 0 -> 401' % alg, r)
    # 3. ... onto a REGISTER adding an attacker's contact
    m = reg.register_msg(['<sip:mallory@127.0.0.1:6666>'], 3600, auth=auth)
    r = c.request(m)
    expect(r is not None and r.status == 401, '%s replayed header with new contact -> 401' % alg, r)
    after = bindings('alice@example.com')
    expect(contact_in(ct, after), '%s binding still present' % alg)
    expect(not contact_in('sip:mallory@127.0.0.1:6666', after), '%s no attacker binding' % alg)
    eb = [b['expires'] for b in before if b['contact'].startswith(ct)]
    ea = [b['expires'] for b in after if b['contact'].startswith(ct)]
    expect(ea and eb and ea[0] <= eb[0], '%s expiry not refreshed by the replay (%s -> %s)' % (alg, eb, ea))
    # 4. the same nonce with the next nc and a new cnonce is legitimate
    reg.nc = 1
    m = reg.register_msg(['<%s>' % ct], 600, auth=reg.auth_header(nc=2))
    r = c.request(m)
    expect(r is not None and r.status == 200, '%s same nonce, nc=2 -> 200' % alg, r)
    # 5. ... but replaying THAT one fails too
    r = c.request(re.sub(rb'branch=[^;\r\n]+', b'branch=' + new_branch().encode(), m))
    expect(r is not None and r.status == 401 and any(ch.stale for ch in r.challenges()),
           '%s replay of nc=2 -> 401 stale' % alg, r)
    c.close()
PY
pass
