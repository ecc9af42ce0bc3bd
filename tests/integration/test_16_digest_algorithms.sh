#!/bin/bash
# Challenges: one WWW-Authenticate per algorithm, SHA-256 first by default,
# MD5 first without User-Agent, MD5 only for baresip/SIPp/JsSIP/SIP.js;
# each has realm, qop="auth", nonce, opaque, algorithm.  SHA-256 and MD5
# digests (RFC 7616 / 8760) both register; --digest-algorithms restricts.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
py <<'PY' || fail "digest algorithm checks (default)"
from sipclient import *
c = client()
def challenge(ua):
    reg = Registrar(c, ua=ua)
    r = c.request(reg.register_msg(['<%s>' % c.contact_uri()], 600))
    expect(r is not None and r.status == 401, 'unauthenticated REGISTER (UA %r) -> 401' % ua, r)
    chs = r.challenges()
    for ch in chs:
        expect(ch.scheme.lower() == 'digest', 'Digest scheme', r)
        expect(ch.get('realm') == 'example.com', 'realm="example.com"', r)
        expect('auth' in [q.strip() for q in (ch.get('qop') or '').split(',')], 'qop="auth"', r)
        expect(ch.get('nonce'), 'nonce present', r)
        expect(ch.get('opaque') is not None, 'opaque present', r)
        expect('algorithm' in ch.params, 'algorithm present', r)
        expect(re.search(r'qop\s*=\s*"', ch.raw), 'qop value quoted (RFC 3261 syntax)', r)
    return r, [ch.algorithm.upper() for ch in chs]
import re
r, algs = challenge('sipreg-test/1.0')
expect(algs == ['SHA-256', 'MD5'], 'generic UA: SHA-256 then MD5, got %s' % algs, r)
r, algs = challenge(None)
expect(algs == ['MD5', 'SHA-256'], 'no User-Agent: MD5 then SHA-256, got %s' % algs, r)
for ua in ('baresip v1.0.0 (x86_64/linux)', 'sipp', 'SIPp/3.6', 'JsSIP 3.10.0', 'SIP.js/0.21.2'):
    r, algs = challenge(ua)
    expect(algs == ['MD5'], 'UA %r: MD5 only, got %s' % (ua, algs), r)
r, algs = challenge('Linphone/5.1.65')
expect(algs[0] == 'SHA-256', 'linphone gets SHA-256 first', r)
# both algorithms authenticate
for alg, port in (('SHA-256', 6401), ('MD5', 6402)):
    cc = client()
    reg = Registrar(cc, alg=alg)
    r = reg.register(['<sip:alice@127.0.0.1:%d>' % port], 600)
    expect(r is not None and r.status == 200, '%s digest -> 200' % alg, r)
    au = [l for l in reg.last_request.decode().split('\r\n') if l.startswith('Authorization')][0]
    expect('algorithm=%s' % alg in au, 'sent algorithm=%s' % alg)
# an MD5 response to a SHA-256 challenge's nonce is rejected
cc = client()
reg = Registrar(cc, alg='SHA-256')
r = cc.request(reg.register_msg(['<sip:alice@127.0.0.1:6403>'], 600))
ch = reg.pick_challenge(r)
m = reg.register_msg(['<sip:alice@127.0.0.1:6403>'], 600,
                     auth=authorization(ch, 'alice', 'secret', 'REGISTER', 'sip:example.com', alg='MD5'))
r = cc.request(m)
expect(r is not None and r.status != 200, 'MD5 digest on a SHA-256 nonce must not succeed', r)
# qop-less (RFC 2069) and a wrong realm are refused
r = cc.request(reg.register_msg(['<sip:alice@127.0.0.1:6404>'], 600))
ch = reg.pick_challenge(r)
bad = Challenge(ch.raw.replace('example.com', 'evil.example.org'))
m = reg.register_msg(['<sip:alice@127.0.0.1:6404>'], 600,
                     auth=authorization(bad, 'alice', 'secret', 'REGISTER', 'sip:example.com'))
r = cc.request(m)
expect(r is not None and r.status != 200, 'wrong realm must not succeed', r)
# The digest uri is not compared with the Request-URI (README: SIPp puts
# the server's address there); the response is still bound to our fresh
# nonce, its single-use nc, the realm and the method.
r = cc.request(reg.register_msg(['<sip:alice@127.0.0.1:6405>'], 600))
ch = reg.pick_challenge(r)
m = reg.register_msg(['<sip:alice@127.0.0.1:6405>'], 600,
                     auth=authorization(ch, 'alice', 'secret', 'REGISTER', 'sip:127.0.0.1:5060'))
r = cc.request(m)
expect(r is not None and r.status == 200, 'digest with uri=<server address> (as SIPp sends) -> 200', r)
# qop=auth without cnonce / nc is malformed
r = cc.request(reg.register_msg(['<sip:alice@127.0.0.1:6406>'], 600))
ch = reg.pick_challenge(r)
au = authorization(ch, 'alice', 'secret', 'REGISTER', 'sip:example.com')
no_nc = re.sub(r', nc=[0-9a-f]+', '', au)
r = cc.request(reg.register_msg(['<sip:alice@127.0.0.1:6406>'], 600, auth=no_nc))
expect(r is not None and r.status in (400, 401, 403), 'qop=auth without nc -> 400/401', r)
no_cnonce = re.sub(r', cnonce="[^"]*"', '', au)
r = cc.request(reg.register_msg(['<sip:alice@127.0.0.1:6406>'], 600, auth=no_cnonce))
expect(r is not None and r.status in (400, 401, 403), 'qop=auth without cnonce -> 400/401', r)
for u in (6403, 6404, 6406):
    expect(not contact_in('sip:alice@127.0.0.1:%d' % u, bindings()), 'no binding from refused digest (%d)' % u)
PY
stop_server
start_server --digest-algorithms MD5
py <<'PY' || fail "--digest-algorithms MD5"
from sipclient import *
c = client()
r = c.request(Registrar(c).register_msg(['<%s>' % c.contact_uri()], 600))
algs = [ch.algorithm.upper() for ch in r.challenges()]
expect(r.status == 401 and algs == ['MD5'], '--digest-algorithms MD5: only MD5 offered, got %s' % algs, r)
r = Registrar(c, alg='MD5').register(['<%s>' % c.contact_uri()], 600)
expect(r is not None and r.status == 200, 'MD5 -> 200', r)
PY
stop_server
start_server --digest-algorithms SHA-256
py <<'PY' || fail "--digest-algorithms SHA-256"
from sipclient import *
c = client()
r = c.request(Registrar(c, ua='Linphone/5').register_msg(['<%s>' % c.contact_uri()], 600))
algs = [ch.algorithm.upper() for ch in r.challenges()]
expect(r.status == 401 and algs == ['SHA-256'], '--digest-algorithms SHA-256: only SHA-256 offered, got %s' % algs, r)
r = Registrar(c, alg='SHA-256').register(['<%s>' % c.contact_uri()], 600)
expect(r is not None and r.status == 200, 'SHA-256 -> 200', r)
PY
pass
