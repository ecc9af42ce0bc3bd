#!/usr/bin/env python3
"""torture.py - send the RFC 4475 / RFC 5118 torture messages to a running
sipreg, unchanged, and compare its answers with expected.txt.  Driven by
run.sh, which starts (and between groups restarts) the server.

    torture.py groups EXPECTED              how many server runs the plan needs
    torture.py run EXPECTED --group N --port P [--server-pid PID] [--no-ipv6]

expected.txt, one message a line ('#' starts a comment):

    FILE  TRANSPORTS  EXPECT  REASON...

FILE is relative to expected.txt's folder.  TRANSPORTS is a comma list of
udp, tcp (IPv4 loopback), udp6, tcp6 (IPv6 loopback); a stream transport is
tried before the datagram one (see plan()).  EXPECT is the status code the
server must answer with, or "drop" for no answer at all.  "+close" after it:
over a stream the server must then close the connection (a framing error,
RFC 4475 §3.1.2.3, §3.3.9); without it the connection must stay usable.
"NNN:now=MMM" marks a known deviation whose fix lies outside the parser: the
server answers MMM today (XFAIL, not a failure) and should answer NNN (XPASS
then fails, so that the marker gets removed).

How an answer is collected.  The message goes out byte for byte.  Over UDP
the socket is bound to the port the top Via's sent-by names (5060 when it
names none), on the loopback address: the server answers to the source
address and that port (RFC 3261 §18.2.2, without rport) or to the source
port (RFC 3581, with rport), and both are this socket.  The Via hosts
themselves (192.0.2.x, example.com, ...) are never contacted: the server
stamps received= and answers the source address.  Then a probe OPTIONS
goes out on the same socket (or TCP connection): the server handles one
4-tuple's datagrams, and one connection's messages, in order on one worker,
so once the probe's 200 is back every answer to the torture message has
been seen.  No answer before the probe's means "dropped", without waiting
for a timeout.  Over TCP an answer comes on the connection; a connection
the server closes (framing error) ends the collection too.
"""
import argparse
import os
import random
import re
import socket
import sys
import time

PROBE_TIMEOUT = 3.0
STREAMS = ('tcp', 'tcp6')
FAMILY = {'udp': socket.AF_INET, 'tcp': socket.AF_INET,
          'udp6': socket.AF_INET6, 'tcp6': socket.AF_INET6}
LOOPBACK = {socket.AF_INET: '127.0.0.1', socket.AF_INET6: '::1'}


# ------------------------------------------------------------ expectations

class Case:
    def __init__(self, base, lineno, line):
        parts = line.split(None, 3)
        if len(parts) < 4:
            sys.exit('expected.txt:%d: want FILE TRANSPORTS EXPECT REASON' % lineno)
        self.file, tr, expect, self.reason = parts
        self.path = os.path.join(base, self.file)
        self.transports = tr.split(',')
        for t in self.transports:
            if t not in FAMILY:
                sys.exit('expected.txt:%d: unknown transport %r' % (lineno, t))
        self.want, _, now = expect.partition(':now=')
        self.now = now or None
        self.close = self.want.endswith('+close')
        self.want = self.want[:-len('+close')] if self.close else self.want
        for v in (self.want, self.now):
            if v is not None and v != 'drop' and not re.fullmatch(r'[1-6]\d\d', v):
                sys.exit('expected.txt:%d: bad expectation %r' % (lineno, expect))
        with open(self.path, 'rb') as f:
            self.data = f.read()


def load(path):
    base = os.path.dirname(os.path.abspath(path))
    cases = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if line and not line.startswith('#'):
                cases.append(Case(base, n, line))
    return cases


# ------------------------------------------------------- message inspection

def head_lines(data):
    """Start line and unfolded header lines (text, latin-1)."""
    text = data.decode('latin-1')
    m = re.search(r'\r?\n\r?\n', text)
    head = text[:m.start()] if m else text
    head = re.sub(r'\r?\n[ \t]+', ' ', head)
    lines = re.split(r'\r?\n', head.lstrip('\r\n'))
    return lines[0], lines[1:]


def header_values(lines, *names):
    out = []
    for ln in lines:
        name, sep, value = ln.partition(':')
        if sep and name.strip().lower() in names:
            out.append(value.strip())
    return out


VIA_RE = re.compile(r'SIP\s*/\s*[^/\s]+\s*/\s*([^\s;,]+)\s+(\[[^\]]*\]|[^\s;:,]+)\s*(?::\s*(\d+))?([^,]*)',
                    re.I)


def top_via(lines):
    """(host, port or None, branch or None) of the top Via, or None."""
    vias = header_values(lines, 'via', 'v')
    if not vias:
        return None
    m = VIA_RE.match(vias[0])
    if not m:
        return None
    branch = re.search(r';\s*branch\s*=\s*([^\s;,]+)', m.group(4), re.I)
    return (m.group(2).strip('[]'), int(m.group(3)) if m.group(3) else None,
            branch.group(1) if branch else None)


def txn_key(data):
    """The server transaction a request would match (RFC 3261 §17.2.3:
    branch, sent-by, method), or None when it can match no other message."""
    start, lines = head_lines(data)
    via = top_via(lines)
    method = start.split(' ', 1)[0]
    if method.upper().startswith('SIP/'):
        return None  # a response: the server keeps no transaction for it
    if via is None or via[2] is None or not via[2].startswith('z9hG4bK') or len(via[2]) <= 7:
        return None  # RFC 2543 matching takes Call-ID, CSeq... : unique here
    return (via[2], via[0], via[1], method)


def reply_port(data):
    _, lines = head_lines(data)
    via = top_via(lines)
    return via[1] if via and via[1] else 5060


def call_ids(data):
    _, lines = head_lines(data)
    return set(header_values(lines, 'call-id', 'i'))


# ------------------------------------------------------------------ probes

def probe(transport, host, port):
    n = random.randrange(1 << 30)
    cid = 'torture-probe-%d' % n
    hp = '[%s]:%d' % (host, port) if ':' in host else '%s:%d' % (host, port)
    msg = ('OPTIONS sip:probe@example.com SIP/2.0\r\n'
           'Via: SIP/2.0/%s %s;branch=z9hG4bK-probe-%d;rport\r\n'
           'Max-Forwards: 70\r\n'
           'From: <sip:probe@example.com>;tag=p%d\r\n'
           'To: <sip:probe@example.com>\r\n'
           'Call-ID: %s\r\n'
           'CSeq: 1 OPTIONS\r\n'
           'Content-Length: 0\r\n\r\n') % (transport.rstrip('6').upper(), hp, n, n, cid)
    return cid, msg.encode()


class Resp:
    def __init__(self, raw):
        self.raw = raw
        start, self.lines = head_lines(raw)
        self.start = start
        m = re.match(r'SIP/2\.0 (\d{3}) ?(.*)', start)
        self.status = int(m.group(1)) if m else None
        self.phrase = m.group(2) if m else start
        self.call_id = (header_values(self.lines, 'call-id', 'i') or [None])[0]

    def hdrs(self, *names):
        return header_values(self.lines, *names)


def split_stream(buf):
    """Complete messages at the head of a TCP byte stream, and the rest."""
    out = []
    while True:
        buf = buf.lstrip(b'\r\n')
        m = re.search(rb'\r?\n\r?\n', buf)
        if not m:
            return out, buf
        cl = re.search(rb'(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)', buf[:m.start()])
        end = m.end() + (int(cl.group(1)) if cl else 0)
        if len(buf) < end:
            return out, buf
        out.append(buf[:end])
        buf = buf[end:]


def exchange_udp(case, transport, port):
    fam = FAMILY[transport]
    host = LOOPBACK[fam]
    rport = reply_port(case.data)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.bind((host, rport))
    except OSError as e:
        s.close()
        return None, 'cannot bind %s port %d for the answer: %s' % (host, rport, e)
    try:
        s.sendto(case.data, (host, port))
        cid, pmsg = probe(transport, host, rport)
        s.sendto(pmsg, (host, port))
        got, deadline = [], time.monotonic() + PROBE_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, 'no answer to the probe OPTIONS within %.0f s' % PROBE_TIMEOUT
            s.settimeout(left)
            try:
                data, _ = s.recvfrom(65536)
            except socket.timeout:
                continue
            r = Resp(data)
            if r.call_id == cid:
                return (got, None), None
            got.append(r)
    finally:
        s.close()


def exchange_tcp(case, transport, port):
    fam = FAMILY[transport]
    host = LOOPBACK[fam]
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(PROBE_TIMEOUT)
    try:
        s.connect((host, port))
        s.sendall(case.data)
        cid, pmsg = probe(transport, host, s.getsockname()[1])
        try:
            s.sendall(pmsg)
        except OSError:
            pass  # closed after a framing error: what came before counts
        got, buf, deadline = [], b'', time.monotonic() + PROBE_TIMEOUT
        while True:
            msgs, buf = split_stream(buf)
            for m in msgs:
                r = Resp(m)
                if r.call_id == cid:
                    return (got, False), None
                got.append(r)
            left = deadline - time.monotonic()
            if left <= 0:
                return None, 'no answer to the probe OPTIONS within %.0f s' % PROBE_TIMEOUT
            s.settimeout(left)
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                data = b''
            if not data:
                return (got, True), None  # the server closed the connection
            buf += data
    except OSError as e:
        return None, 'TCP exchange failed: %s' % e
    finally:
        s.close()


# ------------------------------------------------------------------ checks

TAG_RE = re.compile(r';\s*tag\s*=', re.I)


def rule_problems(case, r):
    """What RFC 3261 demands of an answer with this status, beyond its code."""
    bad = []
    ids = call_ids(case.data)
    if len(ids) == 1 and r.call_id not in ids:
        bad.append('Call-ID %r is not the request\'s' % r.call_id)
    if r.status in (405, 501) and not r.hdrs('allow'):
        bad.append('no Allow header (§8.2.1)')
    if r.status == 420 and not r.hdrs('unsupported'):
        bad.append('no Unsupported header (§8.2.2.3)')
    if r.status == 401 and not r.hdrs('www-authenticate'):
        bad.append('no WWW-Authenticate header (§20.44)')
    if r.status == 400 and r.phrase.strip().lower() in ('', 'bad request'):
        bad.append('reason phrase does not say what was wrong')
    # a 400 may be about the To itself, which then cannot take a tag
    _, lines = head_lines(case.data)
    tos = header_values(lines, 'to', 't')
    if r.status != 400 and len(tos) == 1 and not TAG_RE.search(tos[0]) and \
            not any(TAG_RE.search(v) for v in r.hdrs('to', 't')):
        bad.append('no To tag in a final answer (§8.2.6.2)')
    return bad


def judge(case, got, closed):
    """(verdict, text): verdict PASS, FAIL, XFAIL or XPASS.  closed: None
    on UDP, else whether the server closed the TCP connection."""
    answers = [r for r in got if r.status is not None]
    if len(answers) > 1:
        return 'FAIL', 'more than one answer: %s' % ' | '.join(r.start for r in answers)
    actual = str(answers[0].status) if answers else 'drop'
    text = answers[0].start if answers else 'no answer'
    problems = rule_problems(case, answers[0]) if answers else []
    if closed is not None:
        text += ', connection closed' if closed else ''
        if closed != case.close:
            problems.append('the server %s the connection' % ('closed' if closed else 'kept'))
    if actual == case.want and not problems:
        return ('XPASS', '%s (expected.txt still says :now=%s: remove it)' % (text, case.now)) \
            if case.now else ('PASS', text)
    if case.now and actual == case.now:
        return 'XFAIL', '%s (should be %s)' % (text, case.want)
    if actual == case.want:
        return 'FAIL', '%s: %s' % (text, '; '.join(problems))
    return 'FAIL', '%s, want %s' % (text, case.want)


# -------------------------------------------------------------------- plan

def units(cases, ipv6):
    """(case, transport) in sending order: every stream send first.  A TCP
    transaction is forgotten as soon as it is answered, while a UDP one
    lingers (Timer J, 32 s) and would take a later request with the same
    branch, sent-by and method, over either transport, for a
    retransmission."""
    out = []
    for c in cases:
        for t in dict.fromkeys(t if ipv6 else t.rstrip('6') for t in c.transports):
            out.append((c, t))
    return sorted(out, key=lambda u: u[1] not in STREAMS)


def plan(cases, ipv6=True):
    """Split the datagram sends into groups, one server run each, so that
    no two requests in a run match the same server transaction: RFC 4475
    and 5118 reuse Via branches (escnull and regescrt, unkscm and novelsc,
    the §4.1/4.3/4.4 REGISTERs...), and the second would rightly be taken
    for a retransmission of the first and get its stored answer."""
    groups = []
    for c, t in units(cases, ipv6):
        key = txn_key(c.data) if t not in STREAMS else None
        for g in groups:
            if key is None or key not in g['keys']:
                break
        else:
            g = {'keys': set(), 'units': []}
            groups.append(g)
        if key is not None:
            g['keys'].add(key)
        g['units'].append((c, t))
    return groups


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    # a zombie is gone too: its parent (run.sh) has not reaped it yet
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('cmd', choices=('groups', 'run'))
    ap.add_argument('expected')
    ap.add_argument('--group', type=int, default=0)
    ap.add_argument('--port', type=int)
    ap.add_argument('--server-pid', type=int)
    ap.add_argument('--no-ipv6', action='store_true')
    a = ap.parse_args()
    cases = load(a.expected)
    groups = plan(cases, not a.no_ipv6)
    if a.cmd == 'groups':
        print(len(groups))
        return 0
    counts = {}
    for c, t in groups[a.group]['units']:
        ex = exchange_tcp if t in STREAMS else exchange_udp
        res, err = ex(c, t, a.port)
        if err:
            verdict, text = ('SKIP' if err.startswith('cannot bind') else 'FAIL'), err
        else:
            verdict, text = judge(c, *res)
        counts[verdict] = counts.get(verdict, 0) + 1
        print('%-5s %-4s %-42s %s' % (verdict, t, c.file, text), flush=True)
        if os.environ.get('TORTURE_VERBOSE') == '1':
            for r in (res[0] if res else []):
                print('\n'.join('      | ' + ln for ln in r.raw.decode('latin-1').splitlines()))
        if verdict not in ('PASS', 'XFAIL'):
            print('      expected %s%s: %s' % (c.want, ' (now %s)' % c.now if c.now else '', c.reason),
                  flush=True)
        if a.server_pid and not alive(a.server_pid):
            print('FAIL  the server is gone after %s over %s: the rest of group %d is not run'
                  % (c.file, t, a.group), flush=True)
            counts['FAIL'] = counts.get('FAIL', 0) + 1
            break
    print('group %d: %s' % (a.group, ', '.join('%d %s' % (n, v) for v, n in sorted(counts.items()))))
    return 1 if counts.get('FAIL') or counts.get('XPASS') else 0


if __name__ == '__main__':
    sys.exit(main())
