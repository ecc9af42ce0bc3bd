#!/usr/bin/env python3
"""gen_scenarios.py - writes the SIPp scenarios in this directory (*.xml).

The XML files are committed and are what the tests run; edit this generator
and re-run it (python3 gen_scenarios.py) to change them consistently."""
import os, re
OUT = os.path.dirname(os.path.abspath(__file__))
CT = 'Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>'
UA = 'User-Agent: SIPp/sipreg-tests'

def req(cseq, extra=(), contact=CT, auth=False, method='REGISTER', ruri='sip:[domain]',
        version='SIP/2.0', drop=(), body=None):
    lines = ['%s %s %s' % (method, ruri, version),
             'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport',
             'Max-Forwards: 70',
             'From: <sip:[service]@[domain]>;tag=[pid]SIPpTag[call_number]',
             'To: <sip:[service]@[domain]>',
             'Call-ID: [call_id]',
             'CSeq: %d %s' % (cseq, method)]
    lines = [l for l in lines if l.split(':')[0] not in drop]
    if contact:
        lines.append(contact)
    lines += list(extra)
    if auth:
        lines.append('[authentication]')
    lines.append(UA)
    if body:
        lines.append('Content-Type: application/sdp')
    lines.append('Content-Length: [len]')
    text = '\n'.join('      ' + l for l in lines) + '\n'
    if body:
        text += '\n' + '\n'.join('      ' + l for l in body) + '\n'
    return '''  <send retrans="500">
    <![CDATA[

%s
    ]]>
  </send>
''' % text

def ereg(var, regexp, header, inverse=False):
    # header None: search the whole message (SIPp's hdr search sees only the
    # first header line of that name, and a 200 may list contacts in several)
    regexp = regexp.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')
    regexp = regexp.replace(r'\r', '&#13;').replace(r'\n', '&#10;')
    where = 'search_in="msg"' if header is None else 'search_in="hdr" header="%s:"' % header
    return '      <ereg regexp="%s" %s %s="true" assign_to="%s"/>\n' % (
        regexp, where, 'check_it_inverse' if inverse else 'check_it', var)

def recv(code, actions='', auth=False):
    s = '  <recv response="100" optional="true"/>\n'
    a = ' auth="true"' if auth else ''
    if actions:
        s += '  <recv response="%s"%s>\n    <action>\n%s    </action>\n  </recv>\n' % (code, a, actions)
    else:
        s += '  <recv response="%s"%s/>\n' % (code, a)
    return s

n = [0]
def v(prefix='v', k=1):
    n[0] += 1
    return ','.join('%s%d_%d' % (prefix, n[0], i) for i in range(k))

def ch401():
    return recv(401, ereg(v('chal'), r'Digest .*realm="?example\.com', 'WWW-Authenticate'), auth=True)

def ourct(exp_re=r'(59[0-9]|600)', inverse=False):
    return ereg(v("ct", 1 if inverse else 4),
                r'<sip:[a-z]+@127\.0\.0\.1:[0-9]+;transport=[A-Za-z]+> *;([^,[:cntrl:]]*;)?expires=' + exp_re + r'([^0-9]|$)',
                None, inverse)

def scenario(name, comment, body, note=''):
    refs = ','.join(x for m in re.findall(r'assign_to="([^"]+)"', body) for x in m.split(','))
    x = '''<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!--
  %s
  Driven by tests/integration/lib.sh run_sipp:
    sipp 127.0.0.1:PORT -sf %s.xml -m 1 -key domain example.com -s alice -au alice -ap secret%s
-->
<scenario name="%s">
%s''' % (comment, name, note, name, body)
    if refs:
        x += '  <Reference variables="%s"/>\n' % refs
    x += '</scenario>\n'
    open(os.path.join(OUT, name + '.xml'), 'w').write(x)

E = lambda s: ['Expires: %d' % s]

def register(c1, exp=600, contact=CT, check200=None):
    s = req(c1, E(exp) if exp is not None else (), contact) + ch401() + \
        req(c1 + 1, E(exp) if exp is not None else (), contact, auth=True)
    return s + recv(200, check200 if check200 is not None else ourct())

scenario('register', 'REGISTER -> 401 (digest challenge for realm example.com) -> authenticated\n  REGISTER -> 200 listing our Contact with ;expires= about 600, plus a Date header.',
         req(1, E(600)) + ch401() + req(2, E(600), auth=True) +
         recv(200, ourct() + ereg(v('date'), '.+', 'Date')))

scenario('refresh', 'Register (expires 600), then refresh the binding on the same Call-ID with\n  higher CSeqs and Expires: 1200: the 200 lists the contact with expires about 1200.',
         register(1) + register(3, 1200, check200=ourct(r'(119[0-9]|1200)')))

scenario('remove', 'Register, then REGISTER Expires: 0 for the same contact: 200 not listing it.',
         register(1) + register(3, 0, check200=ourct(r'[0-9]+', inverse=True)))

CT2 = 'Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>, <sip:[service]@127.0.0.1:5999>'
scenario('wildcard', 'Register two contacts (one Contact header, comma-separated), then\n  Contact: * with Expires: 0: the 200 lists no contact at all.',
         register(1, 600, CT2, check200=ourct() + ereg(v('second'), r'<sip:alice@127\.0\.0\.1:5999>', None)) +
         register(3, 0, 'Contact: *', check200=ereg(v('none'), r'(Contact|[[:space:]]m) *:[^[:cntrl:]]*sip', None, inverse=True)))

scenario('query', 'Register, then REGISTER without Contact (a query): 200 listing the binding\n  with its remaining expires, and a Date header.',
         register(1) + register(3, None, None, check200=ourct(r'(5[89][0-9]|600)') + ereg(v('date'), '.+', 'Date')))

scenario('too_brief', 'REGISTER with Expires: 30 (below the default min-expires 60): 423 with Min-Expires: 60.',
         req(1, E(30)) + ch401() + req(2, E(30), auth=True) +
         recv(423, ereg(v('min'), r'^ *60 *$', 'Min-Expires')))

scenario('wrong_password', 'REGISTER, then an Authorization computed with a wrong password: a new 401.',
         req(1, E(600)) + ch401() + req(2, E(600), auth=True) +
         recv(401, ereg(v('again'), r'Digest .*nonce=', 'WWW-Authenticate')), ' (with -ap wrong given after)')

scenario('stale', 'Server started with nonce-ttl 2 (option nonce-ttl).  Register (401, 200), wait (-d MS, e.g. -d 3000), REGISTER\n  again answering the OLD challenge: 401 with stale=true; answering that new\n  challenge gives 200.',
         register(1) + '  <pause/>\n' + req(3, E(600), auth=True) +
         recv(401, ereg(v('stale'), r'stale *= *"?(true|TRUE|True)', 'WWW-Authenticate'), auth=True) +
         req(4, E(600), auth=True) + recv(200, ourct()))

scenario('options', 'OPTIONS to the server: 200 with an Allow header listing REGISTER and OPTIONS.',
         req(1, ['Accept: application/sdp'], None, method='OPTIONS', ruri='sip:[remote_ip]:[remote_port]') +
         recv(200, ereg(v('allow'), r'REGISTER', 'Allow') + ereg(v('allow'), r'OPTIONS', 'Allow')))

ACK = '''  <send>
    <![CDATA[

      ACK sip:[service]@[domain] SIP/2.0
      [last_Via:]
      Max-Forwards: 70
      From: <sip:[service]@[domain]>;tag=[pid]SIPpTag[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0

    ]]>
  </send>
'''
SDP = ['v=0', 'o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]', 's=-',
       'c=IN IP[media_ip_type] [media_ip]', 't=0 0', 'm=audio [media_port] RTP/AVP 0',
       'a=rtpmap:0 PCMU/8000']
scenario('invite_405', 'INVITE to a registrar: 405 Method Not Allowed with Allow; then the ACK.',
         req(1, [], CT, method='INVITE', ruri='sip:[service]@[domain]', body=SDP) +
         '  <recv response="100" optional="true"/>\n  <recv response="180" optional="true"/>\n' +
         recv(405, ereg(v('allow'), r'REGISTER', 'Allow')).replace('  <recv response="100" optional="true"/>\n', '', 1) + ACK)

scenario('message_405', 'MESSAGE to a registrar: 405 Method Not Allowed with an Allow header.',
         req(1, ['Content-Type: text/plain'], None, method='MESSAGE', ruri='sip:[service]@[domain]') +
         recv(405, ereg(v('allow'), r'REGISTER', 'Allow')))

scenario('missing_from', 'REGISTER without a From header: 400 Bad Request.',
         req(1, E(600), drop=('From',)) + recv(400))

scenario('bad_version', 'REGISTER with SIP/3.0 in the request line: 505 Version Not Supported.',
         req(1, E(600), version='SIP/3.0') + recv(505))

scenario('require_420', 'REGISTER with Require: x-sipreg-nonexistent: 420 Bad Extension listing it in Unsupported.',
         req(1, E(600) + ['Require: x-sipreg-nonexistent']) +
         recv(420, ereg(v('unsup'), r'x-sipreg-nonexistent', 'Unsupported')))

# load: one AOR, one distinct contact per call
scenario('register_many', 'Load: each call registers alice with its own contact\n  sip:alice-N@127.0.0.1 (N = call number): 401 -> 200 listing that contact.',
         req(1, E(600), 'Contact: <sip:[service]-[call_number]@[local_ip]:[local_port];transport=[transport]>') +
         ch401() +
         req(2, E(600), 'Contact: <sip:[service]-[call_number]@[local_ip]:[local_port];transport=[transport]>', auth=True) +
         recv(200, ereg(v('ct'), r'<sip:alice-[0-9]+@127\.0\.0\.1:[0-9]+;transport=[A-Za-z]+> *;([^,[:cntrl:]]*;)?expires=[0-9]+', None)),
         ' plus -m N -r RATE (server with a high max-contacts)')
