#!/bin/bash
# TCP idle timeout: a connection with no traffic is closed after
# --tcp-idle-timeout, except one through which a live binding registered
# (the phone behind a NAT can only be reached through it).
. "$(dirname "$0")/lib.sh"
add_user alice secret
start_server --tcp-idle-timeout 2
py <<'PY' || fail "tcp idle timeout"
from sipclient import *
import time
idle = client('tcp')
r = idle.request(idle.build('OPTIONS', 'sip:example.com', [], from_uri='sip:probe@example.com'))
expect(r is not None and r.status == 200, 'OPTIONS over the idle connection', r)
bound = client('tcp')
reg = Registrar(bound)
r = reg.register(['<sip:alice@127.0.0.1:6901;transport=tcp>'], 60)
expect(r is not None and r.status == 200, 'REGISTER over TCP', r)
time.sleep(5)
# the idle one is gone: the server closed it (EOF), or sending fails
closed = False
try:
    idle.sock.settimeout(1)
    closed = idle.sock.recv(1) == b''
except OSError:
    closed = True
expect(closed, 'idle connection without a binding closed after --tcp-idle-timeout')
r = bound.request(bound.build('OPTIONS', 'sip:example.com', [], from_uri='sip:alice@example.com'))
expect(r is not None and r.status == 200, 'connection carrying a live binding kept open', r)
PY
pass
