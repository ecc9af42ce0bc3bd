#!/bin/bash
# A nonce issued before a restart is not accepted after it (the nonce key is
# per process): a correctly computed digest on it gets 401, never a 200,
# and the fresh challenge then works.  Bindings survive the restart.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
py <<'PY' || fail "before restart"
from sipclient import *
import json
c = client()
reg = Registrar(c, alg='SHA-256')
r = reg.register(['<sip:alice@127.0.0.1:7201>'], 600)
expect(r is not None and r.status == 200, 'register', r)
json.dump({'raw': reg.last_challenge.raw}, open(os.environ['T'] + '/challenge.json', 'w'))
PY
stop_server TERM || fail "SIGTERM: non-zero exit status"
restart_server
py <<'PY' || fail "after restart"
from sipclient import *
import json
ch = Challenge(json.load(open(os.environ['T'] + '/challenge.json'))['raw'])
c = client()
reg = Registrar(c, alg='SHA-256')
m = reg.register_msg(['<sip:alice@127.0.0.1:7202>'], 600,
                     auth=authorization(ch, 'alice', 'secret', 'REGISTER', 'sip:example.com', nc=2))
r = c.request(m)
expect(r is not None and r.status == 401, 'digest on a nonce from the previous process -> 401', r)
expect(not contact_in('sip:alice@127.0.0.1:7202', bindings()), 'no binding from the old nonce')
reg.last_challenge = reg.pick_challenge(r)
reg.nc = 0
r = c.request(reg.register_msg(['<sip:alice@127.0.0.1:7202>'], 600, auth=reg.auth_header()))
expect(r is not None and r.status == 200, 'the new challenge works', r)
expect(contact_in('sip:alice@127.0.0.1:7201', r.contacts()), 'binding from before the restart still listed', r)
PY
pass
