#!/bin/bash
# TCP: a message split over several segments, pipelined messages in one
# segment, bodies with Content-Length, CRLF keep-alives, compact header forms,
# a full registration on one connection, and a bad Content-Length.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
py <<'PY' || fail "TCP framing checks"
from sipclient import *
import time, socket
c = client('tcp')
reg = Registrar(c)
m = reg.register_msg(['<sip:alice@127.0.0.1:6701;transport=tcp>'], 600)
# 1. partial: 3 pieces with pauses
for part in (m[:17], m[17:90], m[90:]):
    c.send(part)
    time.sleep(0.3)
r = c.recv()
expect(r is not None and r.status == 401, 'split REGISTER -> 401', r)
reg.last_challenge = reg.pick_challenge(r)
# 2. pipelined: OPTIONS + MESSAGE(body) + authenticated REGISTER in one write
o = c.build('OPTIONS', 'sip:example.com', [], from_uri='sip:probe@example.com', call_id='pipe-1')
b = c.build('MESSAGE', 'sip:alice@example.com', ['Content-Type: text/plain'], body='hello\r\n\r\nworld',
            from_uri='sip:probe@example.com', call_id='pipe-2')
a = reg.register_msg(['<sip:alice@127.0.0.1:6701;transport=tcp>'], 600, auth=reg.auth_header())
c.send(b'\r\n\r\n' + o + b + a)
got = [c.recv(timeout=3) for _ in range(3)]
expect(all(g is not None for g in got), 'three pipelined answers: %s' % got)
expect([g.hdr('call-id') for g in got[:2]] == ['pipe-1', 'pipe-2'], 'answers in order', got[0])
expect(got[0].status == 200 and got[1].status == 405 and got[2].status == 200,
       'OPTIONS 200, MESSAGE 405, REGISTER 200: %s' % [g.status for g in got], got[2])
expect(contact_in('sip:alice@127.0.0.1:6701;transport=tcp', got[2].contacts()), 'TCP contact listed', got[2])
# 3. compact header forms on the same connection
cmp = ('REGISTER sip:example.com SIP/2.0\r\n'
       'v: SIP/2.0/TCP 127.0.0.1:%d;branch=%s;rport\r\n'
       'f: <sip:alice@example.com>;tag=x1\r\n'
       't: <sip:alice@example.com>\r\n'
       'i: compact-%s\r\n'
       'CSeq: 1 REGISTER\r\n'
       'm: <sip:alice@127.0.0.1:6702;transport=tcp>\r\n'
       'Expires: 600\r\n'
       'l: 0\r\n\r\n') % (c.local_port, new_branch(), rand_token())
c.send(cmp)
r = c.recv()
expect(r is not None and r.status == 401, 'compact-form REGISTER -> 401', r)
# 4. the connection is still usable; then a huge Content-Length must not hang the server
r = c.request(c.build('OPTIONS', 'sip:example.com', [], from_uri='sip:probe@example.com'))
expect(r is not None and r.status == 200, 'connection still usable', r)
c.close()
d = client('tcp')
bad = d.build('OPTIONS', 'sip:example.com', [], from_uri='sip:probe@example.com').replace(
    b'Content-Length: 0', b'Content-Length: 99999999')
d.send(bad)
r = d.recv(timeout=2)
expect(r is not None and r.status == 513, 'TCP message over the size limit -> 513 before the close', r)
d.close()
e = client('tcp')
e.send(b'OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKnocl\r\n'
       b'From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: nocl\r\n'
       b'CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n')
r = e.recv(timeout=2)
expect(r is not None and r.status == 400, 'TCP message without Content-Length -> 400, then close', r)
expect(e.recv(timeout=2) is None, 'connection closed after the framing error')
e.close()
r = options('127.0.0.1', env_port(), 'tcp')
expect(r is not None and r.status == 200, 'server alive over TCP', r)
r = options('127.0.0.1', env_port(), 'udp')
expect(r is not None and r.status == 200, 'server alive over UDP', r)
PY
pass
