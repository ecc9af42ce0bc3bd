#!/bin/bash
# UDP retransmissions (same branch) get the same response and are processed
# once: a retransmitted REGISTER arriving after a later REGISTER changed the
# bindings gets the old response and does not redo its change.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
py <<'PY' || fail "retransmission checks"
from sipclient import *
import time
c = client()
reg = Registrar(c, alg='SHA-256')
ct = 'sip:alice@127.0.0.1:6301'
# unauthenticated: the same 401 (same nonce) twice
m = reg.register_msg(['<%s>' % ct], 600)
c.send(m)
r1 = c.recv()
c.send(m)
r2 = c.recv()
expect(r1 is not None and r2 is not None, 'two responses to the retransmitted 401 request')
expect(r1.status == 401 and r2.raw == r1.raw, 'retransmitted request -> identical 401', r2)
reg.last_challenge = reg.pick_challenge(r1)
reg.nc = 0
# authenticated: adds ct
m = reg.register_msg(['<%s>' % ct], 600, auth=reg.auth_header())
c.send(m)
a1 = c.recv()
expect(a1 is not None and a1.status == 200, 'authenticated REGISTER -> 200', a1)
time.sleep(1.2)
c.send(m)
a2 = c.recv()
expect(a2 is not None and a2.raw == a1.raw, 'retransmission -> byte-identical 200', a2)
b = [x for x in bindings('alice@example.com') if x['contact'].startswith(ct)]
expect(len(b) == 1, 'one binding')
# a new transaction removes the binding
c2reg = Registrar(c, alg='SHA-256')
r = c2reg.register(['<%s>' % ct], 0)
expect(r is not None and r.status == 200, 'removal -> 200', r)
expect(not contact_in(ct, bindings()), 'removed')
# the old request retransmitted again: same old response, binding NOT re-added
c.send(m)
a3 = c.recv()
expect(a3 is not None and a3.raw == a1.raw, 'late retransmission -> the original 200', a3)
time.sleep(0.3)
expect(not contact_in(ct, bindings()), 'late retransmission must not be processed again')
# a burst of 5 copies of one new request: copies arriving while the request
# is being processed may be absorbed (RFC 3261 17.2.2, Trying state), but
# every answer is the same 200 and a later retransmission gets it again
c3 = client()
reg3 = Registrar(c3, alg='MD5')
r = reg3.register(['<sip:alice@127.0.0.1:6302>'], 600)
expect(r is not None and r.status == 200, 'register 6302', r)
m = reg3.register_msg(['<sip:alice@127.0.0.1:6303>'], 600, auth=reg3.auth_header())
for _ in range(5):
    c3.send(m)
got = []
while True:
    g = c3.recv(timeout=1.5)
    if g is None:
        break
    got.append(g)
expect(1 <= len(got) <= 5, 'one to five answers to five copies: %s' % got)
expect(len(set(g.raw for g in got)) == 1 and got[0].status == 200, 'all answers the same 200', got[0])
c3.send(m)
g = c3.recv(timeout=2)
expect(g is not None and g.raw == got[0].raw, 'later retransmission of the burst -> the same 200', g)
PY
pass
