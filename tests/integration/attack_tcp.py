#!/usr/bin/env python3
"""attack_tcp.py - TCP connection attacks for test_44_tcp_many.sh.

Every mode takes the server's HOST PORT PID (PID to read VmRSS and count its
descriptors from /proc), prints its figures as 'FIGURES ...' lines, writes
them as JSON with --out, and exits 1 on a failed check.

  many      N idle connections spread over 127.0.0.2..127.0.0.20; RSS and fds
            before, with them open, after closing; a client on 127.0.0.1
            registers over TCP and UDP while they are open; then M
            connections each holding a partial message of B bytes (what a
            slow sender costs), RSS again.
  persource with --tcp-max-per-source L: L connections from 127.0.0.2 stay,
            the next is closed at once, 127.0.0.3 still connects and
            registers, and closing one of the L makes room again.
  slow      slowloris: one connection dribbles a REGISTER a byte every
            0.5 s, another sends half a header and goes silent; when does
            the server close each?
  evict     with --workers 1 --tcp-max-connections L: a connection carrying
            a binding plus L-1 idle ones fill the server; a new one is
            closed at once; once all are quiet for over 10 s, a new client
            connects and registers, the oldest idle connection (not the one
            with the binding) is the one closed, and so on.

Standard library only; every loop is bounded in count and time.
"""
import argparse
import json
import os
import random
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipclient import Registrar, SipClient  # noqa: E402

FAILS = []
FIG = {}


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print('CHECK FAILED: ' + msg, flush=True)
    return cond


def fig(key, value, text=None):
    FIG[key] = value
    print('FIGURES %s' % (text if text is not None else '%s: %s' % (key, value)), flush=True)


def vmrss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for ln in f:
            if ln.startswith('VmRSS:'):
                return int(ln.split()[1])
    return -1


def nfds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def settle_rss(pid, secs=1.0):
    """RSS once it stops moving (the server frees closed connections on its tick)."""
    end = time.time() + secs
    last = vmrss_kib(pid)
    while time.time() < end:
        time.sleep(0.25)
        cur = vmrss_kib(pid)
        if cur == last:
            break
        last = cur
    return last


def connect(host, port, src, timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((host, port))
    s.setblocking(False)
    return s


def closed_by_peer(socks):
    """Which sockets have been closed by the server (EOF or reset) now."""
    p = select.poll()
    fd2s = {}
    for s in socks:
        p.register(s.fileno(), select.POLLIN | select.POLLRDHUP if hasattr(select, 'POLLRDHUP') else select.POLLIN)
        fd2s[s.fileno()] = s
    dead = []
    for fd, ev in p.poll(0):
        s = fd2s[fd]
        try:
            data = s.recv(65536, socket.MSG_PEEK)
            if data == b'':
                dead.append(s)
        except BlockingIOError:
            pass
        except OSError:
            dead.append(s)
    return dead


def wait_closed(s, timeout):
    """Seconds until the server closes s (EOF/RST), or None if still open."""
    t0 = time.time()
    s.setblocking(True)
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(65536)
            if d == b'':
                return time.time() - t0
            if time.time() - t0 > timeout:
                return None
    except socket.timeout:
        return None
    except OSError:
        return time.time() - t0
    finally:
        s.setblocking(False)


def options_over(host, port, sock, timeout=3.0):
    """OPTIONS over an existing raw TCP socket; the status or None."""
    branch = 'z9hG4bK%016x' % random.getrandbits(64)
    lp = sock.getsockname()
    msg = ('OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP %s:%d;branch=%s\r\n'
           'Max-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag=t%d\r\nTo: <sip:example.com>\r\n'
           'Call-ID: %s@probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
           % (lp[0], lp[1], branch, random.getrandbits(20), branch)).encode()
    sock.setblocking(True)
    sock.settimeout(timeout)
    try:
        sock.sendall(msg)
        buf = b''
        while b'\r\n\r\n' not in buf:
            d = sock.recv(65536)
            if not d:
                return None
            buf += d
        return int(buf.split(b' ', 2)[1])
    except (OSError, ValueError, IndexError):
        return None
    finally:
        sock.setblocking(False)


def legit_register(host, port, transport, user, password, src='127.0.0.1', cport=None, timeout=4):
    c = SipClient(host, port, transport, local_host=src, timeout=timeout)
    reg = Registrar(c, user, password, alg='MD5')
    ct = '<sip:%s@%s:%d;transport=%s>' % (user, src, cport or 40000 + random.randint(0, 999), transport)
    t0 = time.time()
    r = reg.register([ct], 600)
    return c, r, time.time() - t0


# ---------------------------------------------------------------- modes

def mode_many(a):
    pid = a.pid
    srcs = ['127.0.0.%d' % i for i in range(2, 21)]
    rss0, fd0 = settle_rss(pid), nfds(pid)
    socks = []
    t0 = time.time()
    errors = {}
    deadline = t0 + 30
    i = 0
    while len(socks) < a.n and time.time() < deadline and i < a.n * 2:
        src = srcs[i % len(srcs)]
        i += 1
        try:
            socks.append(connect(a.host, a.port, src))
        except OSError as e:
            errors[e.strerror] = errors.get(e.strerror, 0) + 1
    t_open = time.time() - t0
    fig('opened', len(socks), 'opened %d TCP connections from %d source addresses in %.2f s '
        '(%d connect errors %s)' % (len(socks), len(srcs), t_open, sum(errors.values()), errors or ''))
    check(len(socks) == a.n, 'opened %d of %d connections' % (len(socks), a.n))
    time.sleep(1.0)
    dead = closed_by_peer(socks)
    check(not dead, '%d of the idle connections were closed by the server' % len(dead))
    rss1, fd1 = settle_rss(pid, 2.0), nfds(pid)
    per = (rss1 - rss0) * 1024.0 / max(1, len(socks))
    fig('rss', {'before_kib': rss0, 'open_kib': rss1, 'per_conn_bytes': round(per)},
        'server VmRSS %d KiB before, %d KiB with %d idle connections open (+%d KiB, %.0f bytes = '
        '%.2f KiB per connection); server fds %d -> %d'
        % (rss0, rss1, len(socks), rss1 - rss0, per, per / 1024, fd0, fd1))
    check(fd1 - fd0 >= len(socks) - 5, 'the server holds only %d more descriptors for %d connections'
          % (fd1 - fd0, len(socks)))
    check(per <= a.max_bytes_per_conn, 'RSS grew %.0f bytes per idle connection (limit %d)'
          % (per, a.max_bytes_per_conn))
    # a sample of the idle connections is really served
    sample = random.sample(socks, 5)
    st = [options_over(a.host, a.port, s) for s in sample]
    check(st == [200] * 5, 'OPTIONS over 5 of the idle connections: %s' % st)
    # legitimate client over TCP and UDP while they are all open
    for tr in ('tcp', 'udp'):
        c, r, dt = legit_register(a.host, a.port, tr, 'alice', 'secret')
        ok = r is not None and r.status == 200
        fig('legit_' + tr, ok, 'legitimate REGISTER over %s with %d connections open: %s in %.1f ms'
            % (tr.upper(), len(socks), r.status if r else 'timeout', dt * 1000))
        check(ok, 'legitimate REGISTER over %s failed: %s' % (tr, r.start if r else 'timeout'))
        c.close()
    t0 = time.time()
    for s in socks:
        s.close()
    socks = []
    time.sleep(1.0)
    fd2 = nfds(pid)
    for _ in range(20):
        if fd2 <= fd0 + 5:
            break
        time.sleep(0.25)
        fd2 = nfds(pid)
    rss2 = settle_rss(pid, 2.0)
    fig('rss_after', rss2, 'after closing them: VmRSS %d KiB, server fds %d' % (rss2, fd2))
    check(fd2 <= fd0 + 5, 'server still holds %d descriptors after the clients closed (before: %d)'
          % (fd2, fd0))
    check(rss2 <= rss1 + 1024, 'RSS grew after closing: %d -> %d KiB' % (rss1, rss2))
    # connections holding a partial message: what a slow sender costs
    if a.partial_n:
        rss3 = settle_rss(pid)
        part = ('REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2:5060;branch=z9hG4bKp\r\n'
                'X-Pad: ' + 'p' * a.partial_bytes)[:a.partial_bytes].encode()
        psocks = []
        for i in range(a.partial_n):
            try:
                s = connect(a.host, a.port, srcs[i % len(srcs)])
                s.setblocking(True)
                s.sendall(part)
                s.setblocking(False)
                psocks.append(s)
            except OSError as e:
                errors[e.strerror] = errors.get(e.strerror, 0) + 1
                break
        time.sleep(1.0)
        rss4 = settle_rss(pid, 2.0)
        dead = closed_by_peer(psocks)
        pper = (rss4 - rss3) * 1024.0 / max(1, len(psocks))
        fig('partial', {'n': len(psocks), 'bytes': a.partial_bytes, 'per_conn_bytes': round(pper)},
            '%d connections each holding a %d-byte unfinished message: VmRSS %d -> %d KiB '
            '(%.1f KiB per connection; %d closed by the server within 1 s)'
            % (len(psocks), a.partial_bytes, rss3, rss4, pper / 1024, len(dead)))
        check(pper <= a.partial_bytes * 1.25 + a.max_bytes_per_conn,
              'a connection with a %d-byte partial message costs %.0f bytes' % (a.partial_bytes, pper))
        for s in psocks:
            s.close()
    return 0


def mode_persource(a):
    L = a.limit
    socks = [connect(a.host, a.port, '127.0.0.2') for _ in range(L)]
    time.sleep(0.5)
    dead = closed_by_peer(socks)
    check(not dead, '%d of the first %d connections from 127.0.0.2 were closed' % (len(dead), L))
    extra = connect(a.host, a.port, '127.0.0.2')
    t = wait_closed(extra, 2.0)
    fig('over_limit_closed_s', t, 'connection %d from 127.0.0.2: %s' % (
        L + 1, 'closed by the server after %.3f s' % t if t is not None else 'still open after 2 s'))
    check(t is not None, 'connection %d from 127.0.0.2 was not closed' % (L + 1))
    dead = closed_by_peer(socks)
    check(not dead, 'the %d earlier connections must stay open (%d closed)' % (L, len(dead)))
    other = connect(a.host, a.port, '127.0.0.3')
    st = options_over(a.host, a.port, other)
    fig('other_source', st, 'a connection from 127.0.0.3 meanwhile: OPTIONS -> %s' % st)
    check(st == 200, 'OPTIONS from 127.0.0.3 while 127.0.0.2 is at its limit: %s' % st)
    c, r, dt = legit_register(a.host, a.port, 'tcp', 'alice', 'secret', src='127.0.0.3')
    check(r is not None and r.status == 200, 'REGISTER over TCP from 127.0.0.3: %s'
          % (r.start if r else 'timeout'))
    fig('other_source_register', r.status if r else None,
        'REGISTER over TCP from 127.0.0.3: %s' % (r.status if r else 'timeout'))
    c.close()
    # closing one of the L makes room for exactly one
    socks.pop().close()
    time.sleep(0.3)
    again = connect(a.host, a.port, '127.0.0.2')
    st = options_over(a.host, a.port, again)
    fig('room_again', st, 'after closing one of them, a new connection from 127.0.0.2: OPTIONS -> %s' % st)
    check(st == 200, 'after closing one, a new connection from 127.0.0.2 should be served: %s' % st)
    extra2 = connect(a.host, a.port, '127.0.0.2')
    t = wait_closed(extra2, 2.0)
    check(t is not None, 'and the one after it closed again')
    for s in socks + [again, other]:
        s.close()
    return 0


def mode_slow(a):
    reg = ('REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.6:5060;branch=z9hG4bKslow\r\n'
           'Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=slow\r\nTo: <sip:alice@example.com>\r\n'
           'Call-ID: slowloris@x\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@127.0.0.6:5060;transport=tcp>\r\n'
           'Content-Length: 0\r\n\r\n').encode()
    drip = connect(a.host, a.port, '127.0.0.6')
    silent = connect(a.host, a.port, '127.0.0.7')
    silent.setblocking(True)
    silent.sendall(reg[:60])
    silent.setblocking(False)
    t0 = time.time()
    i = 0
    drip_closed = silent_closed = None
    end = t0 + a.max_seconds
    next_drip = t0
    while time.time() < end and (drip_closed is None or silent_closed is None):
        now = time.time()
        if drip_closed is None and now >= next_drip:
            try:
                drip.send(reg[i % (len(reg) - 4):i % (len(reg) - 4) + 1])  # never completes
                i += 1
            except OSError:
                drip_closed = now - t0
            next_drip += a.drip_interval
        for s, which in ((drip, 'drip'), (silent, 'silent')):
            if (which == 'drip' and drip_closed is not None) or (which == 'silent' and silent_closed is not None):
                continue
            if closed_by_peer([s]):
                if which == 'drip':
                    drip_closed = time.time() - t0
                else:
                    silent_closed = time.time() - t0
        time.sleep(0.05)
    fig('dribbler_closed_s', drip_closed,
        'slowloris dribbling 1 byte every %.1f s: %s' % (
            a.drip_interval, 'closed by the server after %.1f s and %d bytes' % (drip_closed, i)
            if drip_closed is not None else 'still open after %.0f s (%d bytes)' % (a.max_seconds, i)))
    fig('silent_partial_closed_s', silent_closed,
        'half a header then silence: %s' % ('closed after %.1f s' % silent_closed
                                            if silent_closed is not None
                                            else 'still open after %.0f s' % a.max_seconds))
    check(drip_closed is not None and a.header_timeout - 0.5 <= drip_closed <= a.header_timeout + 2.5,
          'the dribbler should be closed about %d s after its first byte (header timeout): %s'
          % (a.header_timeout, drip_closed))
    check(silent_closed is not None and a.header_timeout - 0.5 <= silent_closed <= a.header_timeout + 2.5,
          'a silent partial message should be closed by the header timeout: %s' % silent_closed)
    drip.close()
    silent.close()
    return 0


def mode_evict(a):
    L = a.limit
    # connection 0 carries a live binding: never evicted
    bound = SipClient(a.host, a.port, 'tcp', local_host='127.0.0.2', timeout=4)
    r = Registrar(bound, 'alice', 'secret', alg='MD5').register(
        ['<sip:alice@127.0.0.2:%d;transport=tcp>' % bound.local_port], 600)
    check(r is not None and r.status == 200, 'REGISTER on the first connection: %s' % (r.start if r else 'timeout'))
    idle = []
    for i in range(L - 1):
        idle.append(connect(a.host, a.port, '127.0.0.%d' % (3 + i % 3)))
    t_full = time.time()
    time.sleep(0.5)
    dead = closed_by_peer(idle)
    check(not dead, '%d of %d idle connections closed before the limit was reached' % (len(dead), L - 1))
    # full, nobody quiet for 10 s yet: a new connection is closed at once
    new = connect(a.host, a.port, '127.0.0.9')
    t = wait_closed(new, 2.0)
    fig('refused_when_full_s', t, 'connection %d while the %d are all recent: %s' % (
        L + 1, L, 'closed after %.3f s' % t if t is not None else 'still open after 2 s'))
    check(t is not None, 'a connection over --tcp-max-connections should be closed while none is quiet')
    # wait until every connection has been quiet for over 10 s
    wait = 10.0 + 1.0 - (time.time() - t_full)
    if wait > 0:
        time.sleep(wait)
    c, r, dt = legit_register(a.host, a.port, 'tcp', 'bob', 'secret', src='127.0.0.1')
    fig('evict_register', r.status if r else None,
        'after %.0f s of quiet: new client on 127.0.0.1 connects and REGISTERs over TCP: %s in %.1f ms'
        % (time.time() - t_full, r.status if r else 'timeout', dt * 1000))
    check(r is not None and r.status == 200, 'new client could not register over TCP once the idle '
          'connections were quiet: %s' % (r.start if r else 'timeout'))
    time.sleep(0.3)
    dead = closed_by_peer(idle)
    fig('evicted', len(dead), 'evicted to make room: %d idle connection(s), the oldest idle one: %s'
        % (len(dead), dead == [idle[0]]))
    check(dead == [idle[0]], 'exactly the least recently active idle connection should have been closed '
          '(closed: %d, oldest among them: %s)' % (len(dead), idle[0] in dead))
    st = options_over(a.host, a.port, bound.sock)
    check(st == 200, 'the connection carrying a binding must survive eviction: OPTIONS -> %s' % st)
    fig('bound_survives', st, 'the oldest connection (carrying a binding) still served: OPTIONS -> %s' % st)
    # and once more: the next newcomer takes the next oldest idle one
    c2, r2, dt2 = legit_register(a.host, a.port, 'tcp', 'carol', 'secret', src='127.0.0.1')
    check(r2 is not None and r2.status == 200, 'second newcomer: %s' % (r2.start if r2 else 'timeout'))
    time.sleep(0.3)
    dead = closed_by_peer(idle)
    fig('evicted_second', len(dead), 'a second newcomer (REGISTER %s): evicted in all %d, the two oldest idle ones: %s'
        % (r2.status if r2 else 'timeout', len(dead), set(dead) == {idle[0], idle[1]}))
    check(set(dead) == {idle[0], idle[1]}, 'second eviction should take the next oldest (closed %d)' % len(dead))
    for s in idle:
        s.close()
    c.close()
    c2.close()
    bound.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['many', 'persource', 'slow', 'evict'])
    ap.add_argument('host')
    ap.add_argument('port', type=int)
    ap.add_argument('pid', type=int)
    ap.add_argument('--n', type=int, default=10000)
    ap.add_argument('--max-bytes-per-conn', type=int, default=2048)
    ap.add_argument('--partial-n', type=int, default=0)
    ap.add_argument('--partial-bytes', type=int, default=15000)
    ap.add_argument('--limit', type=int, default=20)
    ap.add_argument('--drip-interval', type=float, default=0.5)
    ap.add_argument('--header-timeout', type=float, default=10)
    ap.add_argument('--idle-timeout', type=float, default=16)
    ap.add_argument('--max-seconds', type=float, default=20)
    ap.add_argument('--out')
    a = ap.parse_args()
    rc = {'many': mode_many, 'persource': mode_persource, 'slow': mode_slow,
          'evict': mode_evict}[a.mode](a)
    if a.out:
        with open(a.out, 'w') as f:
            json.dump({'figures': FIG, 'failures': FAILS}, f, indent=1)
    if FAILS:
        print('%d check(s) failed:\n  %s' % (len(FAILS), '\n  '.join(FAILS)))
        return 1
    return rc


if __name__ == '__main__':
    sys.exit(main())
