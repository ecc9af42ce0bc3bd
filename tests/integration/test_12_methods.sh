#!/bin/bash
# Non-REGISTER methods and malformed requests: 405/501 + Allow, 400, 505, 420 + Unsupported.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
run_sipp invite_405.xml
run_sipp message_405.xml
run_sipp message_405.xml -t t1
run_sipp missing_from.xml
run_sipp bad_version.xml
run_sipp require_420.xml
py <<'PY' || fail "python malformed-request checks"
from sipclient import *
c = client()
def send(raw, name, want):
    raw = raw.replace('\n', '\r\n').encode()
    r = c.request(raw, timeout=3)
    expect(r is not None, '%s: no response' % name)
    expect(r.status == want, '%s -> %d' % (name, want), r)
    return r
base = ('REGISTER sip:example.com SIP/2.0\n'
        'Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%%s;rport\n'
        'Max-Forwards: 70\n'
        'From: <sip:alice@example.com>;tag=abc\n'
        'To: <sip:alice@example.com>\n'
        'Call-ID: %%s\n'
        'CSeq: 1 REGISTER\n'
        'Content-Length: 0\n\n') % c.local_port
def mk(drop=None, replace=None):
    s = base % (new_branch(), rand_token())
    lines = s.split('\n')
    if drop:
        lines = [l for l in lines if not l.lower().startswith(drop.lower() + ':')]
    s = '\n'.join(lines)
    if replace:
        s = s.replace(*replace)
    return s
send(mk(drop='To'), 'missing To', 400)
send(mk(drop='CSeq'), 'missing CSeq', 400)
send(mk(drop='Call-ID'), 'missing Call-ID', 400)
send(mk(replace=('CSeq: 1 REGISTER', 'CSeq: 1 INVITE')), 'CSeq method mismatch', 400)
send(mk(replace=('CSeq: 1 REGISTER', 'CSeq: x REGISTER')), 'non-numeric CSeq', 400)
send(mk(replace=('SIP/2.0\n', 'SIP/2.1\n')), 'SIP/2.1', 505)
r = send(mk(replace=('Max-Forwards: 70\n', 'Max-Forwards: 70\nRequire: foo, bar\n')), 'Require foo, bar', 420)
uns = ','.join(r.hdrs('unsupported'))
expect('foo' in uns and 'bar' in uns, 'Unsupported lists foo and bar', r)
o = c.build('OPTIONS', 'sip:example.com', ['Require: x-nope'], from_uri='sip:probe@example.com')
r = c.request(o)
expect(r is not None and r.status == 420 and 'x-nope' in ','.join(r.hdrs('unsupported')),
       'OPTIONS with Require: x-nope -> 420 Unsupported: x-nope', r)
# known methods a registrar does not allow: 405; a method SIP does not define: 501 (§21.5.2)
for m, want in (('SUBSCRIBE', 405), ('PUBLISH', 405), ('BYE', 405), ('NOTIFY', 405), ('FOOBAR', 501)):
    s = mk().replace('REGISTER sip:', m + ' sip:').replace('CSeq: 1 REGISTER', 'CSeq: 1 ' + m)
    r = send(s, m, want)
    expect('REGISTER' in ','.join(r.hdrs('allow')).upper(), '%s %d carries Allow' % (m, want), r)
# garbage and oversized datagrams must not kill the server
c.send(b'\x00\x01garbage\r\n\r\n')
c.send(b'NOT SIP AT ALL')
big = mk().replace('Max-Forwards: 70\n', 'Max-Forwards: 70\n' + ''.join('X-Pad-%d: %s\n' % (i, 'y' * 200) for i in range(150)))
r = c.request(big.replace('\n', '\r\n').encode(), timeout=1.5, retransmit=False)
expect(r is None or r.status in (400, 413, 513), '30 kB UDP request -> 513/400 or dropped', r)
r = options('127.0.0.1', env_port())
expect(r is not None and r.status == 200, 'server alive after garbage', r)
PY
pass
