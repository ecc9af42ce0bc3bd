#!/bin/bash
# RFC 3581: with ;rport the response goes to the packet's source ip:port (not
# the Via sent-by port) and the Via gets rport=<port>;received=<ip>.
. "$(dirname "$0")/lib.sh"
start_server
py <<'PY' || fail "rport checks"
from sipclient import *
import socket
c = client()
# a Via claiming port 9 (discard): only rport gets the answer back to us
msg = c.build('OPTIONS', 'sip:example.com', [], from_uri='sip:probe@example.com')
msg = msg.replace(('127.0.0.1:%d;' % c.local_port).encode(), b'127.0.0.1:9;', 1)
r = c.request(msg)
expect(r is not None, 'response reached the source port despite Via port 9 (rport)')
via = r.hdrs('via')[0]
expect(re.search(r';rport=%d\b' % c.local_port, via), 'Via has rport=%d: %s' % (c.local_port, via), r)
expect(';received=127.0.0.1' in via, 'Via has received=127.0.0.1: %s' % via, r)
# every Via is echoed, in order
msg = c.build('OPTIONS', 'sip:example.com', [], from_uri='sip:probe@example.com')
msg = msg.replace(b'\r\nMax-Forwards', b'\r\nVia: SIP/2.0/UDP 127.0.0.2:5099;branch=z9hG4bKproxy1\r\nMax-Forwards', 1)
r = c.request(msg)
vias = r.list_values('via') if r else []
expect(r is not None and len(vias) == 2 and 'z9hG4bKproxy1' in vias[1], 'both Vias echoed in order: %s' % vias, r)
# REGISTER too
reg = Registrar(c)
m = reg.register_msg(['<sip:alice@127.0.0.1:6601>'], 600).replace(
    ('127.0.0.1:%d;' % c.local_port).encode(), b'127.0.0.1:9;', 1)
r = c.request(m)
expect(r is not None and r.status == 401, 'REGISTER with rport answered at the source', r)
PY
pass
