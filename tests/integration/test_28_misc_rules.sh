#!/bin/bash
# Rules the other tests leave out: 415 for a body that must be handled (other
# bodies ignored), CANCEL (200 when it matches a transaction, 481 otherwise),
# ACK absorbed, Max-Forwards: 0 processed normally, sip: and sips: AORs
# sharing bindings, 513 over UDP, OPTIONS' Allow/Accept/Supported, and a
# second server refused on a port already in use.
. "$(dirname "$0")/lib.sh"
add_user alice secret
start_server
py <<'PY' || fail "misc rules"
from sipclient import *
c = client()
reg = Registrar(c)
# OPTIONS: Allow, Accept and an empty Supported (nothing extra is built)
r = c.request(c.build('OPTIONS', 'sip:example.com', [], from_uri='sip:probe@example.com'))
expect(r is not None and r.status == 200, 'OPTIONS -> 200', r)
expect('REGISTER' in (r.hdr('allow') or '') and r.hdr('accept') is not None
       and r.hdr('supported') is not None, 'OPTIONS has Allow, Accept, Supported', r)
# a body that must be handled -> 415; an ordinary body is ignored (-> 401 challenge)
m = reg.register_msg(['<sip:alice@127.0.0.1:6801>'], 600,
                     extra=['Content-Type: application/x-foo', 'Content-Encoding: gzip'])
m = m.replace(b'Content-Length: 0\r\n\r\n', b'Content-Length: 4\r\n\r\nabcd')
r = c.request(m)
expect(r is not None and r.status == 415, 'Content-Encoding: gzip body -> 415', r)
m = reg.register_msg(['<sip:alice@127.0.0.1:6801>'], 600,
                     extra=['Content-Type: text/plain', 'Content-Disposition: render;handling=required'])
m = m.replace(b'Content-Length: 0\r\n\r\n', b'Content-Length: 4\r\n\r\nabcd')
r = c.request(m)
expect(r is not None and r.status == 415, 'Content-Disposition handling=required -> 415', r)
m = reg.register_msg(['<sip:alice@127.0.0.1:6801>'], 600, extra=['Content-Type: text/plain'])
m = m.replace(b'Content-Length: 0\r\n\r\n', b'Content-Length: 4\r\n\r\nabcd')
r = c.request(m)
expect(r is not None and r.status == 401, 'an optional body is ignored -> 401', r)
# CANCEL: 481 without a transaction; 200 for one we answered
m = c.build('CANCEL', 'sip:example.com', [], from_uri='sip:alice@example.com', branch='z9hG4bKnone1')
r = c.request(m)
expect(r is not None and r.status == 481, 'CANCEL without transaction -> 481', r)
reg_msg = reg.register_msg(['<sip:alice@127.0.0.1:6802>'], 600, branch='z9hG4bKcanme1', cseq=7)
r = c.request(reg_msg)
expect(r is not None and r.status == 401, 'REGISTER to cancel -> 401', r)
m = c.build('CANCEL', 'sip:example.com', [], from_uri='sip:alice@example.com',
            branch='z9hG4bKcanme1', cseq=7)
r = c.request(m)
expect(r is not None and r.status == 200, 'CANCEL matching a transaction -> 200', r)
# ACK: absorbed, never answered
c.send(c.build('ACK', 'sip:example.com', [], from_uri='sip:alice@example.com', branch='z9hG4bKack1'))
expect(c.recv(timeout=1) is None, 'ACK gets no response')
# Max-Forwards: 0 is processed normally by the endpoint
m = c.build('OPTIONS', 'sip:example.com', [], from_uri='sip:probe@example.com').replace(
    b'Max-Forwards: 70', b'Max-Forwards: 0')
r = c.request(m)
expect(r is not None and r.status == 200, 'Max-Forwards: 0 -> processed (200)', r)
# sip: and sips: AORs share one set of bindings
r = reg.register(['<sip:alice@127.0.0.1:6803>'], 600)
expect(r is not None and r.status == 200, 'register sip:alice', r)
sreg = Registrar(c)
sreg.aor = 'sips:alice@example.com'
r = sreg.register(None, None)
expect(r is not None and r.status == 200 and contact_in('sip:alice@127.0.0.1:6803', r.contacts()),
       'a query for sips:alice lists the sip:alice binding', r)
# UDP request over the size limit -> 513
m = c.build('OPTIONS', 'sip:example.com', ['X-Pad: ' + 'x' * 20000], from_uri='sip:probe@example.com')
r = c.request(m)
expect(r is not None and r.status == 513, 'UDP request over --max-message-size -> 513', r)
PY
# a second server on the same port is refused with a clear error
out=$("$SIPREG" serve --db "$T/other.db" --listen "udp:127.0.0.1:$PORT" 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "a second server on udp:127.0.0.1:$PORT started"
echo "$out" | grep -q "Address already in use" || fail "no clear error for a busy port: $out"
pass
