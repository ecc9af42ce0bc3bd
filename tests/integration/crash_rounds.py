#!/usr/bin/env python3
"""crash_rounds.py - the load, the kill and the checks of test_40_crash_rounds.

    crash_rounds.py init             write the initial model ($T/crash_state.json)
    crash_rounds.py round N          check the restarted server against the model,
                                     then load it and SIGKILL it ($SERVER_PID) at a
                                     random moment
    crash_rounds.py check            check only (after the last restart)

The model, per contact (one AOR, one Contact URI): its last acknowledged state
(absent, or present with an absolute expiry known to a few seconds) and the
requests sent for it after that acknowledgement that got no final answer
("pending": each may or may not have been applied).  Each contact belongs to
exactly one client thread, which sends its requests one at a time, and the
server applies requests for one AOR in arrival order, so after a crash a
contact must be in its acknowledged state or in the outcome of one of its
pending requests; a later acknowledgement supersedes everything before it.
A REGISTER naming two contacts is applied entirely or not at all: their
observed states must not disagree on whether it was applied.

After each restart the observed state (from `sipreg bindings --db` and from
a REGISTER query of every AOR to the server itself) is checked, then becomes
the new acknowledged state: the store is the truth from then on.

Environment: PORT, DB, T, SIPREG, SERVER_PID (round), CRASH_SEED.
"""
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from sipclient import SipClient, Registrar, Message, new_branch

NUSERS = 40          # AORs u00..u39@example.com, password pw00..pw39
SLOTS = 6            # contacts per AOR: slots 0-1, 2-3, 4-5 belong to 3 threads
NTHREADS = 8
TCP_THREADS = {5, 6, 7}
TOL = 3              # seconds of slack on an absolute expiry
EXPIRES = list(range(600, 3601, 300))

T = os.environ['T']
STATE = os.path.join(T, 'crash_state.json')
DOMAIN = os.environ.get('DOMAIN', 'example.com')


def fail(msg):
    sys.stderr.write('FAIL: %s\n' % msg)
    sys.stderr.flush()
    os._exit(1)


def log(msg):
    sys.stderr.write('[crash] %s\n' % msg)
    sys.stderr.flush()


def user(a):
    return 'u%02d' % a


def ckey(a, s):
    return '%s/%d' % (user(a), s)


def owner(a, s):
    return (a + s // 2) % NTHREADS


def contact_uri(a, s):
    # loopback only; the port only makes the URI unique
    return 'sip:%s@127.0.0.1:%d' % (user(a), 20000 + a * 10 + s)


def init():
    st = {'cseq': [1000] * NTHREADS, 'contacts': {}, 'next_rid': 1,
          'stats': {'acked': 0, 'unknown': 0, 'applied_unknown': 0, 'rounds': 0}}
    for a in range(NUSERS):
        for s in range(SLOTS):
            st['contacts'][ckey(a, s)] = {
                'aor': '%s@%s' % (user(a), DOMAIN), 'uri': contact_uri(a, s),
                'call_id': 'crash-%s-%d@127.0.0.1' % (user(a), s),
                'acked': None,    # None: absent; [lo, hi]: present, expiry in that range
                'pending': [],    # [rid, None or [lo, hi]] sent after the last ack, unanswered
            }
    save(st)


def load():
    with open(STATE) as f:
        return json.load(f)


def save(st):
    tmp = STATE + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(st, f)
    os.replace(tmp, STATE)


# ------------------------------------------------------------------ checking

def cli_bindings():
    """{(aor, uri): [lo, hi]} from the store, via `sipreg bindings --db`."""
    t0 = int(time.time())
    p = subprocess.run([os.environ['SIPREG'], 'bindings', '--db', os.environ['DB']],
                       capture_output=True, text=True, timeout=30)
    t1 = int(time.time()) + 1
    if p.returncode != 0:
        fail('sipreg bindings failed (%d): %s' % (p.returncode, p.stderr.strip()))
    out = {}
    for ln in p.stdout.splitlines():
        m = re.match(r'^(\S+) <([^>]*)>.* expires=(-?\d+) ', ln)
        if not m:
            fail('unexpected line from sipreg bindings: %r' % ln)
        key = (m.group(1), m.group(2))
        if key in out:
            fail('binding listed twice: %r' % ln)
        left = int(m.group(3))
        out[key] = [t0 + left, t1 + left]
    return out


class Auth:
    """Digest for one thread: reuse a challenge with increasing nc until the
    server asks again (challenges are not per user)."""

    def __init__(self):
        self.ch = None
        self.nc = 0

    def header(self, a):
        if self.ch is None:
            return None
        self.nc += 1
        r = Registrar(None, user=user(a), password='pw%02d' % a, domain=DOMAIN)
        return r.auth_header(self.ch, nc=self.nc)

    def take(self, resp):
        chs = [c for c in resp.challenges() if c.scheme.lower() == 'digest']
        if chs:
            self.ch, self.nc = chs[0], 0


def build_register(cl, a, contacts, expires_hdr, call_id, cseq, auth):
    h = ['Contact: %s' % c for c in contacts]
    if expires_hdr is not None:
        h.append('Expires: %d' % expires_hdr)
    if auth:
        h.append(auth)
    aor = 'sip:%s@%s' % (user(a), DOMAIN)
    return cl.build('REGISTER', 'sip:%s' % DOMAIN, h, cseq=cseq, call_id=call_id,
                    from_uri=aor, ua='sipreg-crash-test', branch=new_branch())


def transact(cl, msg, call_id, cseq, killed, budget):
    """Send msg; return its final response, or None when none came (server
    killed, or budget seconds passed).  Responses to other requests are
    skipped.  UDP retransmits like Timer A."""
    udp = cl.transport == 'udp'
    start = time.time()
    try:
        cl.send(msg)
    except OSError:
        return None
    nxt, ival = start + 0.5, 0.5
    while True:
        dead = killed.is_set()
        try:
            raw = cl.recv_raw(0.05 if dead else 0.1)
        except OSError:
            raw = None
        if raw is not None:
            m = Message(raw)
            if (m.is_response and m.status >= 200 and m.hdr('call-id') == call_id and
                    (m.hdr('cseq') or '').split()[0:1] == [str(cseq)]):
                return m
            continue
        if dead or time.time() - start > budget:
            return None
        if not udp and raw is None and cl.rbuf == b'' and _tcp_closed(cl):
            killed.wait(0.05)
            continue
        if udp and time.time() >= nxt:
            try:
                cl.send(msg)
            except OSError:
                pass
            ival = min(ival * 2, 4.0)
            nxt = time.time() + ival


def _tcp_closed(cl):
    try:
        cl.sock.setblocking(False)
        try:
            d = cl.sock.recv(65536, socket.MSG_PEEK)
            return d == b''
        except BlockingIOError:
            return False
        finally:
            cl.sock.setblocking(True)
    except OSError:
        return True


def query_all(st, port):
    """REGISTER without Contact for every AOR: {(aor, uri): [lo, hi]}."""
    cl = SipClient('127.0.0.1', port, 'udp', timeout=5)
    auth = Auth()
    out = {}
    never = threading.Event()
    cseq = 1
    for a in range(NUSERS):
        for _ in range(3):
            cseq += 1
            cid = 'crash-query-%d@127.0.0.1' % a
            t0 = int(time.time())
            msg = build_register(cl, a, [], None, cid, cseq, auth.header(a))
            r = transact(cl, msg, cid, cseq, never, 5)
            t1 = int(time.time()) + 1
            if r is None:
                fail('no answer to a query for %s' % user(a))
            if r.status == 401:
                auth.take(r)
                continue
            if r.status != 200:
                fail('query for %s answered %d %s' % (user(a), r.status, r.reason))
            for c in r.contacts():
                e = c.expires
                if e is None:
                    fail('query for %s: contact without expires: %r' % (user(a), c.raw))
                key = ('%s@%s' % (user(a), DOMAIN), c.uri)
                if key in out:
                    fail('query for %s lists %s twice' % (user(a), c.uri))
                out[key] = [t0 + e, t1 + e]
            break
        else:
            fail('query for %s kept being challenged' % user(a))
    cl.close()
    return out


def overlap(x, y):
    return x[0] - TOL <= y[1] and y[0] - TOL <= x[1]


def check(st, port, label):
    """Compare the store and the server with the model; adopt what is there."""
    store = cli_bindings()
    server = query_all(st, port)
    known = {(c['aor'], c['uri']) for c in st['contacts'].values()}
    for key in store:
        if key not in known:
            fail('%s: the store holds a binding nobody registered: %s %s' % (label, *key))
    # the server's memory (loaded at start) and the store agree
    if set(store) != set(server):
        fail('%s: the server lists %d bindings, the store %d; only in the store: %s; only'
             ' in the server: %s' % (label, len(server), len(store),
                                     sorted(set(store) - set(server))[:5],
                                     sorted(set(server) - set(store))[:5]))
    for key in store:
        if not overlap(store[key], server[key]):
            fail('%s: %s %s expires at %s in the store but %s in the server'
                 % (label, key[0], key[1], store[key], server[key]))
    errors = []
    verdict = {}        # rid -> set of (contact, applied?) that are unambiguous
    lost_acks = 0
    for k, c in st['contacts'].items():
        obs = store.get((c['aor'], c['uri']))

        def matches(state):
            if state is None:
                return obs is None
            return obs is not None and overlap(state, obs)

        acked_ok = matches(c['acked'])
        pend_ok = [rid for rid, state in c['pending'] if matches(state)]
        if not acked_ok and not pend_ok:
            lost_acks += 1
            errors.append('%s %s: acknowledged %s, %d unanswered request(s) %s after it; found %s'
                          % (c['aor'], c['uri'],
                             'absent' if c['acked'] is None else 'expiring in %s' % c['acked'],
                             len(c['pending']), [p[1] for p in c['pending']],
                             'absent' if obs is None else 'expiring in %s' % obs))
        # for atomicity: which pending requests are known applied / not applied
        for rid, state in c['pending']:
            applied = rid in pend_ok
            other = acked_ok or any(r != rid for r in pend_ok)
            if applied and not other:
                verdict.setdefault(rid, set()).add((k, True))
            elif not applied and other:
                # not applied, unless a later pending one overwrote it; only
                # conclusive for the last pending request of this contact
                if rid == c['pending'][-1][0]:
                    verdict.setdefault(rid, set()).add((k, False))
    for rid, v in verdict.items():
        if {x[1] for x in v} == {True, False}:
            errors.append('REGISTER #%d was applied to some of its contacts only: %s'
                          % (rid, sorted(v)))
    if errors:
        fail('%s: %d problem(s) after kill -9 and restart:\n  %s'
             % (label, len(errors), '\n  '.join(errors[:20])))
    # adopt the observed state; count how the unanswered requests ended
    napplied = nunknown = 0
    for c in st['contacts'].values():
        obs = store.get((c['aor'], c['uri']))
        if c['pending']:
            nunknown += 1
            if not ((c['acked'] is None and obs is None) or
                    (c['acked'] is not None and obs is not None and overlap(c['acked'], obs))):
                napplied += 1
        c['acked'] = obs
        c['pending'] = []
    st['stats']['applied_unknown'] += napplied
    log('%s: store and server agree on %d bindings; every acknowledged change is there;'
        ' %d contact(s) had unanswered requests, %d of them applied'
        % (label, len(store), nunknown, napplied))


# ------------------------------------------------------------------ load

class Client(threading.Thread):
    def __init__(self, st, idx, port, killed, stopped, seed):
        super().__init__(daemon=True)
        self.st, self.idx, self.port = st, idx, port
        self.killed, self.stopped = killed, stopped
        self.rng = random.Random(seed)
        self.mine = {}          # aor index -> [slot, ...]
        for a in range(NUSERS):
            for s in range(SLOTS):
                if owner(a, s) == idx:
                    self.mine.setdefault(a, []).append(s)
        self.acked = self.unknown = self.sent = 0
        self.unexpected = []
        self.lock = st['_lock']

    def next_cseq(self):
        with self.lock:
            self.st['cseq'][self.idx] += 1
            return self.st['cseq'][self.idx]

    def new_rid(self):
        with self.lock:
            rid = self.st['next_rid']
            self.st['next_rid'] += 1
            return rid

    def plan(self):
        """Pick contacts of one AOR and what to do with each: an expiry in
        seconds, or 0 to remove."""
        a = self.rng.choice(sorted(self.mine))
        slots = self.mine[a]
        if len(slots) > 1 and self.rng.random() < 0.25:
            chosen = list(slots)
        else:
            chosen = [self.rng.choice(slots)]
        ops = []
        for s in chosen:
            c = self.st['contacts'][ckey(a, s)]
            present = c['acked'] is not None or c['pending']
            if not present or self.rng.random() < 0.6:
                ops.append((s, self.rng.choice(EXPIRES)))      # register or refresh
            else:
                ops.append((s, 0))                              # remove
        return a, ops

    def run(self):
        try:
            self._run()
        except Exception as e:   # noqa: BLE001 - report, do not hang
            self.unexpected.append('thread %d crashed: %r' % (self.idx, e))

    def _run(self):
        tr = 'tcp' if self.idx in TCP_THREADS else 'udp'
        try:
            cl = SipClient('127.0.0.1', self.port, tr, timeout=3)
        except OSError as e:
            if not self.killed.is_set():
                self.unexpected.append('thread %d: cannot connect: %s' % (self.idx, e))
            return
        auth = Auth()
        while not self.stopped.is_set() and not self.killed.is_set():
            a, ops = self.plan()
            same = len({e for _, e in ops}) == 1
            if same:
                # one Expires header for all
                contacts = ['<%s>' % self.st['contacts'][ckey(a, s)]['uri'] for s, _ in ops]
                hdr = ops[0][1]
            else:
                contacts = ['<%s>;expires=%d' % (self.st['contacts'][ckey(a, s)]['uri'], e)
                            for s, e in ops]
                hdr = None
            call_id = self.st['contacts'][ckey(a, ops[0][0])]['call_id']
            for attempt in range(3):
                cseq = self.next_cseq()
                rid = self.new_rid()
                msg = build_register(cl, a, contacts, hdr, call_id, cseq, auth.header(a))
                t0 = time.time()
                # recorded before sending: from now on it may be applied
                with self.lock:
                    for s, e in ops:
                        self.st['contacts'][ckey(a, s)]['pending'].append(
                            [rid, None if e == 0 else [int(t0) + e - 1, None]])
                self.sent += 1
                r = transact(cl, msg, call_id, cseq, self.killed, 4.0)
                t1 = time.time()
                with self.lock:
                    for s, e in ops:
                        c = self.st['contacts'][ckey(a, s)]
                        p = [x for x in c['pending'] if x[0] == rid][0]
                        if p[1] is not None:
                            p[1][1] = int(t1) + e + 1
                        if r is None:
                            continue
                        if r.status == 200:
                            c['acked'] = p[1]
                            c['pending'] = []
                        else:
                            # a final error: nothing of it was applied
                            c['pending'].remove(p)
                if r is None:
                    self.unknown += 1
                    break
                if r.status == 401:
                    auth.take(r)
                    continue
                if r.status == 200:
                    self.acked += 1
                    self.check_200(a, ops, r)
                else:
                    self.unexpected.append('%s: %d %s' % (user(a), r.status, r.reason))
                break
        cl.close()

    def check_200(self, a, ops, r):
        listed = {c.uri: c.expires for c in r.contacts()}
        for s, e in ops:
            uri = self.st['contacts'][ckey(a, s)]['uri']
            if e == 0 and uri in listed:
                self.unexpected.append('%s: 200 to a removal still lists %s' % (user(a), uri))
            if e and (uri not in listed or abs(listed[uri] - e) > 2):
                self.unexpected.append('%s: 200 lists %s with expires %s, asked %d'
                                       % (user(a), uri, listed.get(uri), e))


def round_(n):
    st = load()
    port = int(os.environ['PORT'])
    pid = int(os.environ['SERVER_PID'])
    seed = int(os.environ.get('CRASH_SEED', '0')) * 1000 + n
    rng = random.Random(seed)
    t_check = time.time()
    if n > 1:
        check(st, port, 'round %d (after restart)' % n)
    t_check = time.time() - t_check
    st['_lock'] = threading.Lock()
    killed, stopped = threading.Event(), threading.Event()
    ths = [Client(st, i, port, killed, stopped, seed * 100 + i) for i in range(NTHREADS)]
    t0 = time.time()
    for t in ths:
        t.start()
    delay = rng.uniform(0.3, 1.5)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    killed.set()
    # what was sent back before the kill still counts: transact() drains it
    for t in ths:
        t.join(10)
        if t.is_alive():
            fail('client thread %d did not stop' % t.idx)
    del st['_lock']
    acked = sum(t.acked for t in ths)
    unknown = sum(t.unknown for t in ths)
    sent = sum(t.sent for t in ths)
    problems = [u for t in ths for u in t.unexpected]
    st['stats']['acked'] += acked
    st['stats']['unknown'] += unknown
    st['stats']['rounds'] += 1
    save(st)
    log('round %d: check %.2fs; load %.2fs then kill -9: %d requests, %d answered 200,'
        ' %d unanswered' % (n, t_check, time.time() - t0, sent, acked, unknown))
    if problems:
        fail('round %d: unexpected answers: %s' % (n, problems[:10]))


def main():
    cmd = sys.argv[1]
    if cmd == 'init':
        init()
    elif cmd == 'round':
        round_(int(sys.argv[2]))
    elif cmd == 'check':
        st = load()
        check(st, int(os.environ['PORT']), 'final check')
        save(st)
        s = st['stats']
        log('%d rounds: %d REGISTERs answered 200, %d unanswered at a kill (%d of those'
            ' contacts found changed)' % (s['rounds'], s['acked'], s['unknown'],
                                          s['applied_unknown']))
        if s['acked'] < 20 * s['rounds']:
            fail('too little load to prove anything: %d acknowledged in %d rounds'
                 % (s['acked'], s['rounds']))
    else:
        fail('unknown command %s' % cmd)


if __name__ == '__main__':
    main()
