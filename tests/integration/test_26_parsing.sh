#!/bin/bash
# RFC 3261 message-syntax latitude a registrar must accept (cf. RFC 4475):
# case-insensitive header names, compact forms, folded header lines, extra
# whitespace, display names and parameters on Contact/To/From, a Contact
# as a bare addr-spec, q-values; and the stored contact is the one sent.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
py <<'PY' || fail "parsing latitude"
from sipclient import *
c = client()
reg = Registrar(c, alg='MD5')
# get a challenge first
r = c.request(reg.register_msg(['<sip:alice@127.0.0.1:7101>'], 600))
expect(r is not None and r.status == 401, 'challenge', r)
reg.last_challenge = reg.pick_challenge(r)
def send(lines, name):
    raw = ('\r\n'.join(lines) + '\r\n\r\n').encode()
    r = c.request(raw)
    expect(r is not None, '%s: no response' % name)
    return r
def auth():
    return reg.auth_header()
cid = 'parse-' + rand_token()
lines = ['REGISTER sip:example.com SIP/2.0',
         'via:   SIP/2.0/UDP   127.0.0.1:%d ;branch=%s ;rport' % (c.local_port, new_branch()),
         'MAX-FORWARDS: 70',
         'from: "Alice Example" <sip:alice@example.com>;tag=p1',
         't: Alice <sip:alice@example.com>',
         'CALL-ID: ' + cid,
         'cseq:   10    REGISTER',
         'contact: "Alice\'s phone" <sip:alice@127.0.0.1:7101;transport=udp>;q=0.7;expires=700',
         'm: sip:alice@127.0.0.1:7102',
         'Subject: a folded',
         '  header line',
         'expires:',
         ' 800',
         auth(),
         'l: 0']
r = send(lines, 'mixed-case/compact/folded REGISTER')
expect(r.status == 200, 'mixed-case, compact and folded headers -> 200', r)
got = {x.uri: x for x in r.contacts()}
expect('sip:alice@127.0.0.1:7101;transport=udp' in got, 'name-addr contact stored as sent: %s' % list(got), r)
expect('sip:alice@127.0.0.1:7102' in got, 'addr-spec contact stored: %s' % list(got), r)
e1 = got['sip:alice@127.0.0.1:7101;transport=udp'].expires
e2 = got['sip:alice@127.0.0.1:7102'].expires
expect(e1 is not None and 690 <= e1 <= 700, 'contact expires=700 param wins (got %s)' % e1, r)
expect(e2 is not None and 790 <= e2 <= 800, 'folded Expires: 800 applies to the other (got %s)' % e2, r)
b = bindings('alice@example.com')
expect(contact_in('sip:alice@127.0.0.1:7101;transport=udp', b) and contact_in('sip:alice@127.0.0.1:7102', b),
       'both in the store: %s' % [x['line'] for x in b])
# host names are case-insensitive: REGISTER sip:EXAMPLE.COM is for the served
# domain example.com, whose realm is "example.com"; the digest uri is the
# Request-URI as sent
def upper_reg(cseq, auth_line):
    return ['REGISTER sip:EXAMPLE.COM SIP/2.0',
            'Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport' % (c.local_port, new_branch()),
            'Max-Forwards: 70',
            'From: <sip:alice@example.com>;tag=p1',
            'To: <sip:alice@example.com>',
            'Call-ID: ' + cid,
            'CSeq: %d REGISTER' % cseq,
            'Contact: <sip:alice@127.0.0.1:7102>',
            'Expires: 0'] + ([auth_line] if auth_line else []) + ['Content-Length: 0']
r = send(upper_reg(11, None), 'REGISTER sip:EXAMPLE.COM')
expect(r.status == 401, 'REGISTER sip:EXAMPLE.COM (served domain, other case) -> 401, not 404', r)
ch = reg.pick_challenge(r)
r = send(upper_reg(12, authorization(ch, 'alice', 'secret', 'REGISTER', 'sip:EXAMPLE.COM')),
         'authenticated REGISTER sip:EXAMPLE.COM')
expect(r.status == 200, 'answering the challenge to REGISTER sip:EXAMPLE.COM (realm=%r) as a client would -> 200' % ch.get('realm'), r)
expect(ch.get('realm') == 'example.com', 'realm is the served domain "example.com", got %r' % ch.get('realm'))
expect(not contact_in('sip:alice@127.0.0.1:7102', r.contacts()), 'removed 7102', r)
expect(contact_in('sip:alice@127.0.0.1:7101;transport=udp', r.contacts()), '7101 kept', r)
PY
pass
