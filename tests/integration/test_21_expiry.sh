#!/bin/bash
# Bindings expire: with --min-expires 1 a 2 s binding is gone after 3.5 s
# (not listed by a query, nor by 'sipreg bindings').
. "$(dirname "$0")/lib.sh"
start_server --min-expires 1
add_user alice secret
py <<'PY' || fail "expiry checks"
from sipclient import *
import time
c = client()
reg = Registrar(c)
r = reg.register(['<sip:alice@127.0.0.1:6801>;expires=2', '<sip:alice@127.0.0.1:6802>;expires=600'], None)
expect(r is not None and r.status == 200, 'register 2 s + 600 s', r)
e = {x.uri: x.expires for x in r.contacts()}
expect(e.get('sip:alice@127.0.0.1:6801') in (1, 2), 'short binding listed with expires 1..2: %s' % e, r)
expect(contact_in('sip:alice@127.0.0.1:6801', bindings()), 'short binding stored')
time.sleep(3.5)
q = reg.register(None, None)
expect(q is not None and q.status == 200, 'query', q)
expect(not contact_in('sip:alice@127.0.0.1:6801', q.contacts()), 'expired binding not listed in 200', q)
expect(contact_in('sip:alice@127.0.0.1:6802', q.contacts()), 'live binding still listed', q)
expect(not contact_in('sip:alice@127.0.0.1:6801', bindings()), "expired binding not shown by 'sipreg bindings'")
PY
pass
