#!/bin/bash
# IPv6 loopback: udp:[::1] and tcp:[::1] listeners, a [::1] contact.
. "$(dirname "$0")/lib.sh"
if ! "$PY" -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' 2>/dev/null; then
	log "no IPv6 loopback here: skipped"
	pass
fi
PORT_HOSTS="127.0.0.1 ::1" LISTEN_EXTRA="--listen udp:[::1]:@PORT@ --listen tcp:[::1]:@PORT@" start_server
add_user alice secret
wait_server ::1 "$PORT" udp || fail "no OPTIONS answer on udp:[::1]:$PORT"
wait_server ::1 "$PORT" tcp || fail "no OPTIONS answer on tcp:[::1]:$PORT"
py <<'PY' || fail "IPv6 checks"
from sipclient import *
for tr in ('udp', 'tcp'):
    c = client(tr, host='::1')
    reg = Registrar(c)
    ct = 'sip:alice@[::1]:%d;transport=%s' % (c.local_port, tr)
    r = reg.register(['<%s>' % ct], 600)
    expect(r is not None and r.status == 200, 'REGISTER over %s/[::1] -> 200' % tr, r)
    expect(contact_in(ct, r.contacts()), '[::1] contact listed: %s' % r.contacts(), r)
    via = r.hdrs('via')[0]
    expect('received=::1' in via or 'received=[::1]' in via or 'rport=' in via, 'Via received/rport on IPv6: %s' % via, r)
    expect(contact_in(ct, bindings('alice@example.com')), '[::1] binding stored')
PY
pass
