#!/bin/bash
# alice may not register bob's AOR (403); a Request-URI domain the server
# does not serve -> 404; several --domain values are each served.
. "$(dirname "$0")/lib.sh"
start_server --domain example.org
add_user alice secret
add_user bob bobpass
add_user carol carolpass example.org
py <<'PY' || fail "403/404 checks"
from sipclient import *
c = client()
# alice's credentials, bob's AOR in To
reg = Registrar(c, user='alice', password='secret')
r = reg.register(['<sip:alice@127.0.0.1:6501>'], 600, aor='sip:bob@example.com')
expect(r is not None and r.status == 403, "alice registering bob's AOR -> 403", r)
expect(bindings('bob@example.com') == [], 'no binding for bob')
# bob himself is fine
r = Registrar(client(), user='bob', password='bobpass').register(['<sip:bob@127.0.0.1:6502>'], 600)
expect(r is not None and r.status == 200, 'bob -> 200', r)
# domain not served
c2 = client()
reg2 = Registrar(c2, domain='not-served.example.net')
r = c2.request(reg2.register_msg(['<sip:alice@127.0.0.1:6503>'], 600))
expect(r is not None and r.status == 404, 'REGISTER sip:not-served.example.net -> 404', r)
# the second domain is served, with its own realm
c3 = client()
reg3 = Registrar(c3, user='carol', password='carolpass', domain='example.org')
r = c3.request(reg3.register_msg(['<sip:carol@127.0.0.1:6504>'], 600))
expect(r is not None and r.status == 401, 'example.org challenged', r)
expect(all(ch.get('realm') == 'example.org' for ch in r.challenges()), 'realm="example.org"', r)
r = reg3.register(['<sip:carol@127.0.0.1:6504>'], 600)
expect(r is not None and r.status == 200, 'carol@example.org -> 200', r)
# alice@example.com is not a user of example.org
r = Registrar(client(), user='alice', password='secret', domain='example.org').register(['<sip:alice@127.0.0.1:6505>'], 600)
expect(r is not None and r.status in (401, 403), 'alice@example.org (no such user) not registered', r)
expect(bindings('alice@example.org') == [], 'no alice@example.org binding')
PY
pass
