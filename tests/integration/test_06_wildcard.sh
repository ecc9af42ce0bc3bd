#!/bin/bash
# Contact: * with Expires: 0 removes every binding of the AOR (not others').
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
add_user bob secret
# bob keeps a binding that alice's wildcard must not touch
run_sipp register.xml -s bob -au bob
run_sipp wildcard.xml
bindings >"$T/b.txt"
assert_no_grep 'alice@' "$T/b.txt" "alice's bindings should all be gone"
assert_grep 'sip:bob@127\.0\.0\.1' "$T/b.txt" "bob's binding must survive alice's Contact: *"
py <<'PY' || fail "wildcard edge cases"
from sipclient import *
c = client()
reg = Registrar(c)
r = reg.register(['<%s>' % c.contact_uri()], 600)
expect(r is not None and r.status == 200, 'register', r)
# Contact: * with a non-zero Expires is invalid (RFC 3261 10.3 step 6)
r = reg.register(['*'], 600)
expect(r is not None and r.status == 400, 'Contact: * with Expires: 600 -> 400', r)
# Contact: * together with another contact is invalid too
r = reg.register(['*', '<sip:alice@127.0.0.1:5998>'], 0)
expect(r is not None and r.status == 400, 'Contact: * plus another contact -> 400', r)
expect(contact_in(c.contact_uri(), bindings('alice@example.com')), 'binding untouched by the bad requests')
PY
pass
