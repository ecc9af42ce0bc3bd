#!/usr/bin/env python3
"""attack_flood.py - UDP flood and legitimate-client load for test_42_flood.sh.

  attack_flood.py flood HOST PORT --src 127.0.0.2 --count 50000 --rate 5000 \
        --wrong-from 6.0 --out flood.json
      Pre-builds COUNT datagrams (junk bytes, truncated/garbled SIP, well-formed
      unauthenticated REGISTERs for known and unknown users and, from
      --wrong-from seconds on, REGISTERs with wrong Digest credentials for the
      legitimate users), then sends them from one address with sendto() in a
      tight loop paced to RATE/s.  Answers are drained and counted (by status)
      between sends.  Writes what it achieved as JSON.

  attack_flood.py legit HOST PORT --users alice:secret,bob:secret \
        --duration 11 --rate 50 --out legit.json
      Registers repeatedly with correct Digest (MD5) over UDP from 127.0.0.1,
      round robin over the users, paced to RATE registrations/s: each attempt
      is a full exchange (401 challenge, then the authenticated REGISTER,
      retransmitted like Timer A, 4 s bound).  Writes attempts, successes,
      failures and latencies as JSON.

Standard library only; loops are bounded in count and time.
"""
import argparse
import errno
import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipclient import (Message, Registrar, SipClient, authorization,  # noqa: E402
                       new_branch, rand_token)

DOMAIN = 'example.com'


def reg_unauth(src, sport, user, rnd):
    cid = rand_token(16)
    return ('REGISTER sip:%s SIP/2.0\r\n'
            'Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n'
            'Max-Forwards: 70\r\n'
            'From: <sip:%s@%s>;tag=%s\r\n'
            'To: <sip:%s@%s>\r\n'
            'Call-ID: %s@flood\r\n'
            'CSeq: %d REGISTER\r\n'
            'Contact: <sip:%s@%s:%d>\r\n'
            'Expires: 600\r\n'
            'Content-Length: 0\r\n\r\n' % (
                DOMAIN, src, sport, new_branch(), user, DOMAIN, rand_token(8), user, DOMAIN,
                cid, rnd.randint(1, 1 << 30), user, src, rnd.randint(1024, 65535))).encode()


def reg_wrong(src, sport, user, nonce, opaque, rnd):
    """A REGISTER answering a real challenge with a wrong password."""
    class Ch:  # minimal stand-in for sipclient.Challenge
        def __init__(self):
            self.params = {'realm': DOMAIN, 'nonce': nonce, 'qop': 'auth'}
            if opaque is not None:
                self.params['opaque'] = opaque
            self.algorithm = 'MD5'

        def get(self, k, d=None):
            return self.params.get(k, d)
    auth = authorization(Ch(), user, 'guess-%d' % rnd.randint(0, 999999), 'REGISTER',
                         'sip:' + DOMAIN, nc=rnd.randint(1, 1000))
    msg = reg_unauth(src, sport, user, rnd).decode()
    return msg.replace('Content-Length: 0', auth + '\r\nContent-Length: 0').encode()


def junk(src, sport, rnd):
    kind = rnd.randrange(8)
    if kind == 0:       # random bytes
        return bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1400)))
    if kind == 1:       # printable garbage lines
        return ('\r\n'.join(rand_token(rnd.randint(1, 80)) for _ in range(rnd.randint(1, 20)))
                + '\r\n\r\n').encode()
    base = reg_unauth(src, sport, rand_token(6), rnd)
    if kind == 2:       # truncated SIP
        return base[:rnd.randint(1, len(base) - 1)]
    if kind == 3:       # bad version
        return base.replace(b'SIP/2.0\r\n', b'SIP/7.3\r\n', 1)
    if kind == 4:       # garbled header names / values
        b = bytearray(base)
        for _ in range(rnd.randint(1, 30)):
            b[rnd.randrange(len(b))] = rnd.choice(b':;<>"\x00\r\n ,=@')
        return bytes(b)
    if kind == 5:       # one huge header (over 16 KiB would not fit a datagram)
        return base.replace(b'Expires: 600', b'X-Pad: ' + b'a' * rnd.randint(1000, 8000), 1)
    if kind == 6:       # missing mandatory headers
        lines = base.split(b'\r\n')
        del lines[rnd.randint(1, 6)]
        return b'\r\n'.join(lines)
    # a stray response (a registrar drops them)
    return ('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP %s:%d;branch=%s\r\nCall-ID: x\r\n'
            'CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n' % (src, sport, new_branch())).encode()


def get_challenge(host, port, src):
    c = SipClient(host, port, 'udp', local_host=src, timeout=3)
    try:
        reg = Registrar(c, user='alice', password='x', alg='MD5')
        r = c.request(reg.register_msg(['<%s>' % c.contact_uri()], 600), timeout=3)
        if r is None or r.status != 401:
            return None, None
        ch = reg.pick_challenge(r)
        return ch.get('nonce'), ch.get('opaque')
    finally:
        c.close()


def flood(a):
    rnd = random.Random(a.seed)
    known = [u.split(':')[0] for u in a.known.split(',') if u]
    victims = [u.split(':')[0] for u in a.victims.split(',') if u]
    nonce = opaque = None
    if a.wrong_from is not None:
        nonce, opaque = get_challenge(a.host, a.port, a.src)
        if nonce is None:
            print('flood: could not get a challenge for the wrong-credential share', file=sys.stderr)
            return 2
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.src, 0))
    sport = s.getsockname()[1]
    s.setblocking(False)
    dst = (a.host, a.port)
    # pre-build: a kind per packet, fixed by position so the mix is the same every run
    t0 = time.time()
    junks = [junk(a.src, sport, rnd) for _ in range(3000)]
    unauth = [reg_unauth(a.src, sport,
                         rnd.choice(known) if rnd.random() < 0.5 else 'nobody%d' % rnd.randint(0, 9999),
                         rnd) for _ in range(a.count // 2 + 1)]
    wrong = []
    if nonce is not None:
        wrong = [reg_wrong(a.src, sport, rnd.choice(victims), nonce, opaque, rnd)
                 for _ in range(2000)]
    wrong_at = int(a.wrong_from * a.rate) if a.wrong_from is not None else a.count + 1
    plan, kinds = [], []
    ui = wi = 0
    for i in range(a.count):
        x = rnd.random()
        if i >= wrong_at and x < a.wrong_share:
            plan.append(wrong[wi % len(wrong)])
            kinds.append('wrong')
            wi += 1
        elif x < 0.5:
            plan.append(unauth[ui % len(unauth)])
            kinds.append('register')
            ui += 1
        else:
            plan.append(junks[rnd.randrange(len(junks))])
            kinds.append('junk')
    build_s = time.time() - t0
    sent = {'junk': 0, 'register': 0, 'wrong': 0}
    eagain = 0
    answers = {}
    answers_per_s = {}
    nbytes = 0
    period = 1.0 / a.rate
    start = time.time()
    hard_stop = start + a.count / a.rate * 2 + 5     # bounded even if we fall behind

    def drain(now):
        for _ in range(256):
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            parts = data.split(b' ', 2)
            st = parts[1].decode('ascii', 'replace') if len(parts) > 1 else '?'
            answers[st] = answers.get(st, 0) + 1
            sec = str(int(now - start))
            answers_per_s[sec] = answers_per_s.get(sec, 0) + 1

    i = 0
    n = len(plan)
    while i < n:
        now = time.time()
        if now > hard_stop:
            break
        due = start + i * period
        if now < due:
            drain(now)
            left = due - time.time()
            if left > 0.0005:
                time.sleep(min(left, 0.002))
            continue
        # send what is due (in a burst of at most 100 when behind)
        for _ in range(100):
            if i >= n or start + i * period > now:
                break
            try:
                s.sendto(plan[i], dst)
                sent[kinds[i]] += 1
                nbytes += len(plan[i])
            except (BlockingIOError, InterruptedError):
                eagain += 1
            except OSError as e:
                if e.errno in (errno.ENOBUFS, errno.EAGAIN):
                    eagain += 1
                else:
                    raise
            i += 1
    end = time.time()
    tail = end + 0.5
    while time.time() < tail:
        drain(time.time())
        time.sleep(0.01)
    total = sum(sent.values())
    res = {'planned': a.count, 'sent': total, 'sent_by_kind': sent, 'send_errors': eagain,
           'bytes': nbytes, 'seconds': round(end - start, 3),
           'rate': round(total / max(end - start, 1e-9), 1), 'build_seconds': round(build_s, 2),
           'answers': answers, 'answers_per_second': answers_per_s,
           'wrong_from_packet': wrong_at if nonce is not None else None}
    with open(a.out, 'w') as f:
        json.dump(res, f, indent=1)
    print('flood: %s' % json.dumps(res))
    return 0


def transact(c, msg, cseq, deadline, sends):
    """Send a request and wait for the final response with this CSeq (late
    answers to earlier requests are skipped); retransmit like Timer A."""
    c.send(msg)
    sends[0] += 1
    t = 0.5
    next_tx = time.time() + t
    while True:
        now = time.time()
        if now >= deadline:
            return None
        m = c.recv(timeout=max(0.0, min(next_tx, deadline) - now))
        if m is not None:
            cs = (m.hdr('cseq') or '').split()
            if m.is_response and m.status >= 200 and cs and cs[0] == str(cseq) \
                    and m.hdr('call-id') == c.call_id:
                return m
            continue
        if time.time() >= next_tx and time.time() < deadline:
            c.send(msg)
            sends[0] += 1
            sends[1] += 1
            t = min(t * 2, 4.0)
            next_tx = time.time() + t


def legit(a):
    users = [tuple(u.split(':', 1)) for u in a.users.split(',') if u]
    regs = []
    for u, pw in users:
        c = SipClient(a.host, a.port, 'udp', local_host=a.src, timeout=4)
        regs.append((c, Registrar(c, user=u, password=pw, alg='MD5')))
    attempts = ok = 0
    fails = []
    lat = []
    sends = [0, 0]          # requests sent, of which retransmissions
    start = time.time()
    end = start + a.duration
    period = 1.0 / a.rate
    k = 0
    while time.time() < end and attempts < a.max_attempts:
        due = start + attempts * period
        now = time.time()
        if now < due:
            time.sleep(due - now)
        c, reg = regs[k % len(regs)]
        k += 1
        attempts += 1
        t = time.time()
        deadline = t + 4.0
        contact = '<sip:%s@127.0.0.1:%d>' % (reg.user, 30000 + k % 10)
        r = None
        why = None
        try:
            c.cseq += 1
            r1 = transact(c, reg.register_msg([contact], 600, cseq=c.cseq), c.cseq, deadline, sends)
            ch = reg.pick_challenge(r1) if r1 is not None and r1.status == 401 else None
            if ch is None:
                why = 'challenge: %s' % ('timeout' if r1 is None else '%d %s' % (r1.status, r1.reason))
            else:
                c.cseq += 1
                msg = reg.register_msg([contact], 600, cseq=c.cseq,
                                       auth=reg.auth_header(ch, nc=1))
                r = transact(c, msg, c.cseq, deadline, sends)
        except OSError as e:
            why = 'oserror %s' % e
        dt = time.time() - t
        if r is not None and r.status == 200 and any(ct.uri.startswith(contact[1:-1]) for ct in r.contacts()):
            ok += 1
            lat.append(dt)
        else:
            fails.append('%s after %.2fs at t=%.2fs cseq=%d user=%s' % (why or ('timeout' if r is None else '%d %s' % (r.status, r.reason)), dt, t - start, c.cseq, reg.user))
    for c, _ in regs:
        c.close()
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) if lat else None
    res = {'attempts': attempts, 'ok': ok, 'failures': fails[:20], 'nfail': len(fails),
           'requests_sent': sends[0], 'retransmissions': sends[1],
           'seconds': round(time.time() - start, 2),
           'latency_ms': {'p50': pct(0.5), 'p90': pct(0.9), 'p99': pct(0.99),
                          'max': round(lat[-1] * 1000, 2) if lat else None}}
    with open(a.out, 'w') as f:
        json.dump(res, f, indent=1)
    print('legit: %s' % json.dumps(res))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['flood', 'legit'])
    ap.add_argument('host')
    ap.add_argument('port', type=int)
    ap.add_argument('--src', default=None, help='source address (flood: 127.0.0.2, legit: 127.0.0.1)')
    ap.add_argument('--count', type=int, default=50000)
    ap.add_argument('--rate', type=float, default=5000)
    ap.add_argument('--known', default='alice,bob,carol,dave')
    ap.add_argument('--victims', default='alice,bob')
    ap.add_argument('--wrong-from', type=float, default=None,
                    help='seconds into the flood when wrong credentials start')
    ap.add_argument('--wrong-share', type=float, default=0.1)
    ap.add_argument('--users', default='alice:secret')
    ap.add_argument('--duration', type=float, default=11)
    ap.add_argument('--max-attempts', type=int, default=2000)
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    if a.src is None:
        a.src = '127.0.0.2' if a.mode == 'flood' else '127.0.0.1'
    return flood(a) if a.mode == 'flood' else legit(a)


if __name__ == '__main__':
    sys.exit(main())
