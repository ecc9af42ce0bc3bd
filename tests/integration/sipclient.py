#!/usr/bin/env python3
"""sipclient.py - a tiny raw-socket SIP client for sipreg's integration tests.

Standard library only.  Speaks UDP and TCP over IPv4 or IPv6, builds
REGISTER/OPTIONS/other requests byte for byte, answers digest challenges
(MD5 and SHA-256, qop=auth), and parses responses (compact header names,
multiple and comma-separated header values, Contact expires parameters).

Used two ways:
  * imported by the test scripts (python3 heredocs in test_*.sh), and
  * as a command line tool:  sipclient.py options|register|query|raw ...
    (see main() at the bottom).
"""
import hashlib
import os
import random
import re
import socket
import sys
import time

COMPACT = {
    'v': 'via', 'f': 'from', 't': 'to', 'i': 'call-id', 'm': 'contact',
    'l': 'content-length', 'c': 'content-type', 'k': 'supported',
    'e': 'content-encoding', 's': 'subject', 'o': 'event',
}


def rand_token(n=10):
    return ''.join(random.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(n))


def new_branch():
    return 'z9hG4bK' + rand_token(16)


def hostport(host, port):
    return ('[%s]' % host if ':' in host else host) + ':%d' % port


# --------------------------------------------------------------- parsing

def split_list(value):
    """Split a header value on commas outside quotes and <>."""
    out, cur, q, ang, esc = [], [], False, False, False
    for ch in value:
        if esc:
            cur.append(ch)
            esc = False
            continue
        if q and ch == '\\':
            cur.append(ch)
            esc = True
            continue
        if ch == '"':
            q = not q
        elif not q and ch == '<':
            ang = True
        elif not q and ch == '>':
            ang = False
        if ch == ',' and not q and not ang:
            out.append(''.join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if ''.join(cur).strip():
        out.append(''.join(cur).strip())
    return out


def parse_params(s):
    """Parse 'a=b, c="d, e", f' (digest params) into a dict (lower-case keys)."""
    d = {}
    for m in re.finditer(r'\s*([A-Za-z0-9_\-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?\s*,?', s):
        k = m.group(1).lower()
        v = m.group(2)
        if v is None:
            v = ''
        elif v.startswith('"'):
            v = re.sub(r'\\(.)', r'\1', v[1:-1])
        d[k] = v
    return d


class Challenge:
    def __init__(self, raw):
        self.raw = raw
        scheme, _, rest = raw.strip().partition(' ')
        self.scheme = scheme
        self.params = parse_params(rest)

    def get(self, k, default=None):
        return self.params.get(k.lower(), default)

    @property
    def algorithm(self):
        return self.params.get('algorithm', 'MD5')

    @property
    def stale(self):
        return self.params.get('stale', '').lower() == 'true'

    def __repr__(self):
        return 'Challenge(%r)' % self.raw


class Contact:
    def __init__(self, raw):
        self.raw = raw.strip()
        m = re.match(r'^\s*(?:"(?:[^"\\]|\\.)*"\s*|[^<"]*?)?<([^>]*)>(.*)$', self.raw)
        if m:
            self.uri, params = m.group(1), m.group(2)
        else:
            # addr-spec: params after the URI belong to the header
            self.uri, _, params = self.raw.partition(';')
            params = ';' + params if params else ''
        self.params = {}
        for p in params.split(';'):
            p = p.strip()
            if not p:
                continue
            k, _, v = p.partition('=')
            self.params[k.strip().lower()] = v.strip().strip('"')

    @property
    def expires(self):
        v = self.params.get('expires')
        return int(v) if v is not None and v.isdigit() else None

    def __repr__(self):
        return 'Contact(%r, expires=%r)' % (self.uri, self.expires)


class Message:
    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b'\r\n\r\n')
        lines = head.decode('utf-8', 'replace').split('\r\n')
        # unfold
        ul = []
        for ln in lines:
            if ln[:1] in (' ', '\t') and ul:
                ul[-1] += ' ' + ln.strip()
            else:
                ul.append(ln)
        self.start = ul[0]
        self.headers = []
        for ln in ul[1:]:
            if ':' in ln:
                n, _, v = ln.partition(':')
                self.headers.append((n.strip(), v.strip()))
        parts = self.start.split(' ', 2)
        self.is_response = parts[0].upper().startswith('SIP/')
        if self.is_response:
            self.version = parts[0]
            self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            self.reason = parts[2] if len(parts) > 2 else ''
        else:
            self.method, self.ruri = parts[0], parts[1] if len(parts) > 1 else ''
            self.version = parts[2] if len(parts) > 2 else ''
            self.status = 0

    @staticmethod
    def _norm(name):
        n = name.strip().lower()
        return COMPACT.get(n, n)

    def hdrs(self, name):
        """All values of header 'name' (one entry per header line)."""
        n = self._norm(name)
        return [v for (k, v) in self.headers if self._norm(k) == n]

    def hdr(self, name, default=None):
        v = self.hdrs(name)
        return v[0] if v else default

    def hdr_count(self, name):
        return len(self.hdrs(name))

    def list_values(self, name):
        """All comma-separated elements over every header line of 'name'."""
        out = []
        for v in self.hdrs(name):
            out.extend(split_list(v))
        return out

    def contacts(self):
        return [Contact(c) for c in self.list_values('contact') if c.strip() != '*']

    def challenges(self, name='WWW-Authenticate'):
        # one challenge per header line (Digest challenges contain commas)
        return [Challenge(v) for v in self.hdrs(name)]

    def __repr__(self):
        return 'Message(%r)' % self.start

    def text(self):
        return self.raw.decode('utf-8', 'replace')


# --------------------------------------------------------------- digest

def hash_hex(alg, s):
    a = alg.upper()
    if a in ('MD5', 'MD5-SESS'):
        return hashlib.md5(s.encode()).hexdigest()
    if a in ('SHA-256', 'SHA-256-SESS'):
        return hashlib.sha256(s.encode()).hexdigest()
    raise ValueError('unsupported algorithm ' + alg)


def digest_response(alg, user, realm, password, method, uri, nonce, nc='00000001',
                    cnonce=None, qop='auth'):
    ha1 = hash_hex(alg, '%s:%s:%s' % (user, realm, password))
    ha2 = hash_hex(alg, '%s:%s' % (method, uri))
    if qop:
        return hash_hex(alg, '%s:%s:%s:%s:%s:%s' % (ha1, nonce, nc, cnonce, qop, ha2))
    return hash_hex(alg, '%s:%s:%s' % (ha1, nonce, ha2))


def authorization(ch, user, password, method, uri, nc=1, cnonce=None, alg=None,
                  response=None, header='Authorization'):
    """Build an Authorization header line answering Challenge ch."""
    alg = alg or ch.algorithm
    realm = ch.get('realm', '')
    nonce = ch.get('nonce', '')
    qops = [q.strip() for q in ch.get('qop', '').split(',') if q.strip()]
    qop = 'auth' if 'auth' in qops else (None if not qops else qops[0])
    cnonce = cnonce or rand_token(12)
    ncs = '%08x' % nc if isinstance(nc, int) else nc
    if response is None:
        response = digest_response(alg, user, realm, password, method, uri, nonce,
                                   ncs, cnonce, qop)
    parts = ['username="%s"' % user, 'realm="%s"' % realm, 'nonce="%s"' % nonce,
             'uri="%s"' % uri, 'response="%s"' % response, 'algorithm=%s' % alg]
    if qop:
        parts += ['cnonce="%s"' % cnonce, 'qop=%s' % qop, 'nc=%s' % ncs]
    if ch.get('opaque') is not None:
        parts.append('opaque="%s"' % ch.get('opaque'))
    return '%s: Digest %s' % (header, ', '.join(parts))


# --------------------------------------------------------------- transport

class SipClient:
    """One local socket (UDP) or connection (TCP) talking to one server."""

    def __init__(self, server_host='127.0.0.1', server_port=5060, transport='udp',
                 local_host=None, timeout=3.0):
        self.transport = transport.lower()
        self.server = (server_host, int(server_port))
        fam = socket.AF_INET6 if ':' in server_host else socket.AF_INET
        self.family = fam
        self.local_host = local_host or ('::1' if fam == socket.AF_INET6 else '127.0.0.1')
        self.timeout = timeout
        if self.transport == 'udp':
            self.sock = socket.socket(fam, socket.SOCK_DGRAM)
            self.sock.bind((self.local_host, 0))
        else:
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
            self.sock.bind((self.local_host, 0))
            self.sock.settimeout(timeout)
            self.sock.connect(self.server)
        self.local_port = self.sock.getsockname()[1]
        self.rbuf = b''
        self.call_id = rand_token(16) + '@test'
        self.cseq = 0
        self.from_tag = rand_token(8)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # --- raw I/O
    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.transport == 'udp':
            self.sock.sendto(data, self.server)
        else:
            self.sock.sendall(data)

    def _recv_tcp_msg(self, deadline):
        while True:
            # skip keepalive CRLFs
            while self.rbuf.startswith(b'\r\n'):
                self.rbuf = self.rbuf[2:]
            i = self.rbuf.find(b'\r\n\r\n')
            if i >= 0:
                head = self.rbuf[:i].decode('utf-8', 'replace')
                m = re.search(r'(?im)^(?:content-length|l)\s*:\s*(\d+)', head)
                cl = int(m.group(1)) if m else 0
                total = i + 4 + cl
                if len(self.rbuf) >= total:
                    msg, self.rbuf = self.rbuf[:total], self.rbuf[total:]
                    return msg
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.rbuf += chunk

    def recv_raw(self, timeout=None):
        """Next message as bytes, or None on timeout."""
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        if self.transport == 'udp':
            while True:
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.sock.settimeout(left)
                try:
                    data, _ = self.sock.recvfrom(65536)
                    return data
                except socket.timeout:
                    return None
        return self._recv_tcp_msg(deadline)

    def recv(self, timeout=None, final_only=True):
        """Next (final, unless final_only=False) response as a Message, or None."""
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        while True:
            raw = self.recv_raw(max(0.0, deadline - time.time()))
            if raw is None:
                return None
            m = Message(raw)
            if final_only and m.is_response and 100 <= m.status < 200:
                continue
            return m

    def request(self, data, timeout=None, retransmit=True):
        """Send and wait for a final response; over UDP retransmit like Timer A."""
        self.send(data)
        if self.transport != 'udp' or not retransmit:
            return self.recv(timeout)
        deadline = time.time() + (self.timeout if timeout is None else timeout)
        t = 0.5
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            m = self.recv(min(t, left))
            if m is not None:
                return m
            if time.time() >= deadline:
                return None
            self.send(data)
            t = min(t * 2, 4.0)

    # --- message building
    def via(self, branch=None, rport=True):
        return 'Via: SIP/2.0/%s %s;branch=%s%s' % (
            self.transport.upper(), hostport(self.local_host, self.local_port),
            branch or new_branch(), ';rport' if rport else '')

    def build(self, method, ruri, headers, body=b'', branch=None, cseq=None,
              call_id=None, from_uri=None, to_uri=None, from_tag=None, ua='sipreg-test',
              extra=()):
        """Build a request.  headers: list of full header lines added after the basics.
        Pass a header name with value None in 'extra' is not supported: build by hand."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        lines = ['%s %s SIP/2.0' % (method, ruri),
                 self.via(branch),
                 'Max-Forwards: 70',
                 'From: <%s>;tag=%s' % (from_uri, from_tag or self.from_tag),
                 'To: <%s>' % (to_uri or from_uri),
                 'Call-ID: %s' % (call_id or self.call_id),
                 'CSeq: %d %s' % (cseq, method)]
        if ua:
            lines.append('User-Agent: %s' % ua)
        lines += list(headers) + list(extra)
        if isinstance(body, str):
            body = body.encode()
        lines.append('Content-Length: %d' % len(body))
        return ('\r\n'.join(lines) + '\r\n\r\n').encode() + body

    def contact_uri(self, user='alice', port=None, params=''):
        return 'sip:%s@%s%s' % (user, hostport(self.local_host, port or self.local_port), params)


class Registrar:
    """Convenience: REGISTER flows for one user against one server."""

    def __init__(self, client, user='alice', password='secret', domain='example.com',
                 ua='sipreg-test', alg=None):
        self.c = client
        self.user = user
        self.password = password
        self.domain = domain
        self.ua = ua
        self.alg = alg            # preferred algorithm when several are offered
        self.ruri = 'sip:%s' % domain
        self.aor = 'sip:%s@%s' % (user, domain)
        self.last_challenge = None
        self.last_request = None
        self.nc = 0

    def register_msg(self, contacts=None, expires=None, auth=None, cseq=None, branch=None,
                     call_id=None, extra=(), aor=None):
        h = []
        for ct in (contacts or []):
            h.append('Contact: %s' % ct)
        if expires is not None:
            h.append('Expires: %d' % expires)
        if auth:
            h.append(auth)
        return self.c.build('REGISTER', self.ruri, h, cseq=cseq, branch=branch,
                            call_id=call_id, from_uri=aor or self.aor, ua=self.ua,
                            extra=extra)

    def pick_challenge(self, resp):
        chs = [c for c in resp.challenges() if c.scheme.lower() == 'digest']
        if not chs:
            return None
        if self.alg:
            for c in chs:
                if c.algorithm.upper() == self.alg.upper():
                    return c
            return None
        return chs[0]

    def auth_header(self, ch=None, method='REGISTER', nc=None, **kw):
        ch = ch or self.last_challenge
        if nc is None:
            self.nc += 1
            nc = self.nc
        return authorization(ch, self.user, self.password, method, self.ruri, nc=nc, **kw)

    def register(self, contacts=None, expires=None, extra=(), aor=None, timeout=None):
        """REGISTER, answer one 401 if it comes; returns the final Message (or None)."""
        msg = self.register_msg(contacts, expires, extra=extra, aor=aor)
        self.last_request = msg
        r = self.c.request(msg, timeout)
        if r is None or r.status != 401:
            return r
        ch = self.pick_challenge(r)
        if ch is None:
            return r
        self.last_challenge = ch
        self.nc = 0
        msg = self.register_msg(contacts, expires, auth=self.auth_header(ch), extra=extra,
                                aor=aor)
        self.last_request = msg
        return self.c.request(msg, timeout)


def options(host, port, transport='udp', timeout=2.0, ua='sipreg-test'):
    c = SipClient(host, port, transport, timeout=timeout)
    try:
        msg = c.build('OPTIONS', 'sip:%s' % hostport(host, port), ['Accept: application/sdp'],
                      from_uri='sip:probe@example.com', to_uri='sip:%s' % hostport(host, port),
                      ua=ua)
        return c.request(msg, timeout)
    finally:
        c.close()


# --------------------------------------------------------------- test helpers

class TestFailure(Exception):
    pass


def expect(cond, msg, resp=None):
    """Assert for the test scripts: on failure print msg (and the response) and exit 1."""
    if not cond:
        sys.stderr.write('FAIL: %s\n' % msg)
        if resp is not None:
            sys.stderr.write('--- response:\n%s\n---\n' % (
                resp.text() if isinstance(resp, Message) else resp))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


def env_port():
    return int(os.environ['PORT'])


def client(transport='udp', host='127.0.0.1', port=None, timeout=3.0):
    return SipClient(host, port or env_port(), transport, timeout=timeout)


def bindings(aor=None):
    """Parse `sipreg bindings [AOR] --db DB` into a list of dicts:
    {'aor':..., 'contact': uri without <>, 'expires': int or None, 'line': raw}."""
    import subprocess
    cmd = [os.environ['SIPREG'], 'bindings']
    if aor:
        cmd.append(aor)
    cmd += ['--db', os.environ['DB']]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    if out.returncode != 0:
        raise TestFailure('sipreg bindings failed: %s' % out.stderr)
    res = []
    for ln in out.stdout.splitlines():
        f = ln.split()
        if len(f) < 2:
            continue
        m = re.search(r'\sexpires=(\d+)', ln)
        rest = ln.split(None, 1)[1].strip()
        if m:
            rest = rest[:rest.find(' expires=')] if ' expires=' in rest else rest
        lt = rest.find('<')
        if lt >= 0 and '>' in rest[lt:]:
            contact = rest[lt + 1:rest.index('>', lt)]     # name-addr, display name allowed
        else:
            contact = rest.split()[0]
        res.append({'aor': f[0], 'contact': contact,
                    'expires': int(m.group(1)) if m else None, 'line': ln})
    return res


def contact_in(uri, contacts):
    """Is 'uri' (text) among the Contact objects / binding dicts given?"""
    for c in contacts:
        u = c.uri if isinstance(c, Contact) else c['contact']
        u = u.strip('<>')
        if u == uri or u.startswith(uri + ';') or u.startswith(uri + '>'):
            return True
    return False


# --------------------------------------------------------------- CLI

def _hp(s):
    if s.startswith('['):
        h, _, p = s[1:].partition(']:')
        return h, int(p)
    h, _, p = s.rpartition(':')
    return h, int(p)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog='sipclient.py')
    ap.add_argument('cmd', choices=['options', 'wait', 'register', 'query', 'unregister'])
    ap.add_argument('server', help='HOST:PORT or [V6]:PORT')
    ap.add_argument('-t', '--transport', default='udp')
    ap.add_argument('-u', '--user', default='alice')
    ap.add_argument('-p', '--password', default='secret')
    ap.add_argument('-d', '--domain', default='example.com')
    ap.add_argument('-c', '--contact', action='append', default=[])
    ap.add_argument('-e', '--expires', type=int)
    ap.add_argument('-a', '--alg', help='algorithm to pick from the challenges')
    ap.add_argument('--ua', default='sipreg-test')
    ap.add_argument('--timeout', type=float, default=3.0)
    a = ap.parse_args(argv)
    host, port = _hp(a.server)
    if a.cmd == 'wait':
        deadline = time.time() + a.timeout
        while time.time() < deadline:
            try:
                r = options(host, port, a.transport, timeout=0.5)
            except OSError:
                r = None
            if r is not None and r.status == 200:
                return 0
            time.sleep(0.1)
        return 1
    if a.cmd == 'options':
        r = options(host, port, a.transport, a.timeout, a.ua)
        if r is None:
            print('timeout')
            return 1
        sys.stdout.write(r.text())
        return 0 if r.status == 200 else 1
    c = SipClient(host, port, a.transport, timeout=a.timeout)
    reg = Registrar(c, a.user, a.password, a.domain, a.ua, a.alg)
    if a.cmd == 'register':
        cts = ['<%s>' % x if not x.startswith('<') and x != '*' else x for x in a.contact]
        if not cts:
            cts = ['<%s>' % c.contact_uri(a.user)]
        r = reg.register(cts, a.expires)
    elif a.cmd == 'unregister':
        r = reg.register(['*'], 0)
    else:
        r = reg.register(None, None)
    c.close()
    if r is None:
        print('timeout')
        return 1
    print('status %d %s' % (r.status, r.reason))
    for ct in r.contacts():
        print('contact %s expires=%s' % (ct.uri, ct.expires))
    return 0 if r.status == 200 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
