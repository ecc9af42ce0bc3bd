#!/usr/bin/env python3
"""attack_timing.py - can a client tell known users from unknown ones?
Used by test_43_enumeration.sh.

  attack_timing.py HOST PORT --known u1001,u1002 --unknown u9001,u9002 \
        --n 3000 [--src 127.0.0.5] [--out timing.json]

1. Shape: for a known and an unknown user, a credential-less REGISTER and a
   REGISTER with a wrong password (answering a real MD5 challenge) are sent
   byte for byte alike but for the username (names of equal length).  The
   answers must be identical -- status line, every header in order, body --
   once the per-request values are masked: the nonces, the To tag (derived
   from Call-ID/From tag/branch), the Via branch, Call-ID and From tag we
   chose, and the username itself.  A wrong password must never be stale.

2. Timing: N wrong-password REGISTERs per class (known, unknown), in one
   randomly shuffled, interleaved order, each timed from sendto() to the
   answer (perf_counter_ns), one at a time.  A third class -- other known
   users, the same cost as the first by construction -- gives an A/A control
   that measures what noise alone does on this machine at this moment.
   Reported: medians, 10%-trimmed means, the Mann-Whitney U test (normal
   approximation with ties) and the Hodges-Lehmann shift estimate, with a
   bootstrap confidence interval, for known-vs-unknown and for the control.

   Verdict (exit status 1 on a leak).  With thousands of samples on the
   loopback, Mann-Whitney finds differences far below a microsecond (even
   the control, two classes of known users, sometimes reaches p < 1e-4), so
   a p-value alone is no verdict; and a fixed number of microseconds is
   none either (the same code is 1.6x slower under ASan).  A leak is
   reported when the known/unknown shift (Hodges-Lehmann) is significant
   (p < --alpha, 0.001) and larger than both
     - the noise: |control shift| + 3 x the control's 95% CI half-width
       (typically 0.2-0.5 us here), and
     - --max-rel (4%) of the median response time (~38 us on this machine,
       ~61 us under ASan): the scale at which implementation slips show.
   Calibration on this machine (2 cores, loopback, builds of the same tree
   with one change each): a variant that returns early for unknown users
   (skipping the fake-HA1 HMAC and the digest) makes them 2.1 us = 5.6%
   faster; one that does an extra store lookup for them makes them 3.1 us =
   7.8% slower.  The current server's residual is 0.45-0.9 us = 1.2-2.3%
   (2.7% under ASan), known users being slower: the store finds a row and
   reads its HA1 columns for them, nothing for unknown ones.  It is printed
   as a NOTE, with the samples per class an attacker needs to see it at
   p = 0.001 (n x (3.29/z)^2: ~100-900 on the loopback); --max-rel 0 fails
   on it.
"""
import argparse
import hashlib
import json
import math
import os
import random
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipclient import Message, rand_token  # noqa: E402

DOMAIN = 'example.com'


def build(user, src, sport, branch, callid, ftag, cseq, auth=None):
    lines = ['REGISTER sip:%s SIP/2.0' % DOMAIN,
             'Via: SIP/2.0/UDP %s:%d;branch=%s;rport' % (src, sport, branch),
             'Max-Forwards: 70',
             'From: <sip:%s@%s>;tag=%s' % (user, DOMAIN, ftag),
             'To: <sip:%s@%s>' % (user, DOMAIN),
             'Call-ID: %s' % callid,
             'CSeq: %d REGISTER' % cseq,
             'User-Agent: timing-probe',
             'Contact: <sip:%s@%s:%d>' % (user, src, sport),
             'Expires: 600']
    if auth:
        lines.append(auth)
    lines.append('Content-Length: 0')
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def wrong_auth(user, nonce, opaque, nc, cnonce):
    """A well-formed MD5 answer computed with a wrong password (same cost)."""
    uri = 'sip:' + DOMAIN
    ha1 = md5('%s:%s:%s' % (user, DOMAIN, 'wrong-password'))
    ha2 = md5('REGISTER:%s' % uri)
    ncs = '%08x' % nc
    resp = md5('%s:%s:%s:%s:auth:%s' % (ha1, nonce, ncs, cnonce, ha2))
    a = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
         'response="%s", algorithm=MD5, cnonce="%s", qop=auth, nc=%s'
         % (user, DOMAIN, nonce, uri, resp, cnonce, ncs))
    if opaque is not None:
        a += ', opaque="%s"' % opaque
    return a


class Prober:
    def __init__(self, host, port, src):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((src, 0))
        self.s.connect((host, port))
        self.src = src
        self.sport = self.s.getsockname()[1]
        self.n = 0
        self.lost = 0

    def ids(self):
        self.n += 1
        # fixed-length values so that every request has the same size
        return ('z9hG4bK%016x' % random.getrandbits(64), '%020d@probe' % random.getrandbits(64),
                '%010x' % random.getrandbits(40), self.n)

    def exchange(self, data, cseq, timeout=1.0):
        """Send once, wait for the answer with this CSeq; (ns, raw) or (None, None)."""
        want = ('CSeq: %d REGISTER' % cseq).encode()
        t0 = time.perf_counter_ns()
        self.s.send(data)
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                self.lost += 1
                return None, None
            self.s.settimeout(left)
            try:
                raw = self.s.recv(65536)
            except socket.timeout:
                self.lost += 1
                return None, None
            t1 = time.perf_counter_ns()
            if want in raw:
                return t1 - t0, raw

    def request(self, user, auth_fn=None, timeout=1.0):
        branch, callid, ftag, cseq = self.ids()
        auth = auth_fn() if auth_fn else None
        data = build(user, self.src, self.sport, branch, callid, ftag, cseq, auth)
        ns, raw = self.exchange(data, cseq, timeout)
        return ns, raw, (branch, callid, ftag, user)


def masked(raw, mine):
    """The answer with what legitimately differs replaced by placeholders."""
    branch, callid, ftag, user = mine
    t = raw.decode('utf-8', 'replace')
    t = t.replace(branch, '<BRANCH>').replace(callid, '<CALLID>').replace(ftag, '<FTAG>')
    t = re.sub(r'sip:%s@' % re.escape(user), 'sip:<USER>@', t)
    t = re.sub(r'nonce="[^"]*"', 'nonce="<NONCE>"', t)
    t = re.sub(r'(To:[^\r\n]*;tag=)[^;\r\n]*', r'\1<TOTAG>', t)
    t = re.sub(r'rport=\d+', 'rport=<PORT>', t)
    t = re.sub(r'(CSeq:\s*)\d+', r'\1<CSEQ>', t)
    return t


def challenge(raw):
    m = Message(raw)
    for v in m.hdrs('WWW-Authenticate'):
        if 'algorithm=MD5' in v:
            nonce = re.search(r'nonce="([^"]*)"', v).group(1)
            op = re.search(r'opaque="([^"]*)"', v)
            return nonce, op.group(1) if op else None
    return None, None


# ---------------------------------------------------------------- statistics

def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def trimmed_mean(xs, frac=0.1):
    s = sorted(xs)
    k = int(len(s) * frac)
    s = s[k:len(s) - k]
    return sum(s) / len(s)


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U test, normal approximation with tie correction."""
    n1, n2 = len(a), len(b)
    allv = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(allv)
    ties = 0.0
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1][0] == allv[i][0]:
            j += 1
        r = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[k] = r
        t = j - i + 1
        ties += t ** 3 - t
        i = j + 1
    r1 = sum(r for r, (_, g) in zip(ranks, allv) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    mu = n1 * n2 / 2
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    z = (u1 - mu) / sigma if sigma else 0.0
    p = math.erfc(abs(z) / math.sqrt(2))
    return u1, z, p


def hodges_lehmann(a, b, pairs=200000, rnd=None):
    """Median of pairwise differences a_i - b_j (sampled when large)."""
    rnd = rnd or random.Random(1)
    if len(a) * len(b) <= pairs:
        d = [x - y for x in a for y in b]
    else:
        d = [rnd.choice(a) - rnd.choice(b) for _ in range(pairs)]
    return median(d)


def bootstrap_ci(a, b, rounds=200, rnd=None):
    """95% CI of the difference of medians, by resampling each class."""
    rnd = rnd or random.Random(2)
    ds = []
    for _ in range(rounds):
        ra = [a[rnd.randrange(len(a))] for _ in range(len(a))]
        rb = [b[rnd.randrange(len(b))] for _ in range(len(b))]
        ds.append(median(ra) - median(rb))
    ds.sort()
    return ds[int(0.025 * rounds)], ds[int(0.975 * rounds) - 1]


def compare(name, a, b):
    u, z, p = mann_whitney(a, b)
    hl = hodges_lehmann(a, b)
    lo, hi = bootstrap_ci(a, b)
    r = {'name': name, 'n': [len(a), len(b)],
         'median_us': [round(median(a), 2), round(median(b), 2)],
         'trimmed_mean_us': [round(trimmed_mean(a), 2), round(trimmed_mean(b), 2)],
         'median_diff_us': round(median(a) - median(b), 2),
         'median_diff_ci95_us': [round(lo, 2), round(hi, 2)],
         'hodges_lehmann_us': round(hl, 2), 'mw_z': round(z, 2), 'mw_p': p}
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('host')
    ap.add_argument('port', type=int)
    ap.add_argument('--known', required=True, help='comma list: first half timed, rest = control')
    ap.add_argument('--unknown', required=True)
    ap.add_argument('--src', default='127.0.0.5')
    ap.add_argument('--n', type=int, default=10000, help='timed requests per class')
    ap.add_argument('--warmup', type=int, default=300)
    ap.add_argument('--alpha', type=float, default=0.001)
    ap.add_argument('--max-rel', type=float, default=0.04,
                    help='threshold as a fraction of the median response time')
    ap.add_argument('--max-seconds', type=float, default=40)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--out')
    a = ap.parse_args()
    if a.seed is not None:
        random.seed(a.seed)
    known = a.known.split(',')
    unknown = a.unknown.split(',')
    assert len({len(u) for u in known + unknown}) == 1, 'usernames must have one length'
    ka, kb = known[:max(1, len(known) // 2)], known[max(1, len(known) // 2):] or known
    pr = Prober(a.host, a.port, a.src)
    problems = []

    # ---- 1. shape: credential-less, then wrong password
    ns, raw_k, mine_k = pr.request(known[0])
    ns, raw_u, mine_u = pr.request(unknown[0])
    if raw_k is None or raw_u is None:
        print('no answer to a credential-less REGISTER')
        return 2
    mk, mu = masked(raw_k, mine_k), masked(raw_u, mine_u)
    print('credential-less REGISTER, known %s: %s | unknown %s: %s' % (
        known[0], raw_k.split(b'\r\n')[0].decode(), unknown[0], raw_u.split(b'\r\n')[0].decode()))
    if mk != mu:
        problems.append('first 401 differs between known and unknown:\n--- known\n%s\n--- unknown\n%s' % (mk, mu))
    if len(raw_k) != len(raw_u):
        problems.append('first 401 sizes differ: %d vs %d' % (len(raw_k), len(raw_u)))
    nonce, opaque = challenge(raw_k)
    if nonce is None:
        print('no MD5 challenge in:\n' + raw_k.decode())
        return 2
    nc = [0]

    def auth_for(user):
        def f():
            nc[0] += 1
            return wrong_auth(user, nonce, opaque, nc[0], '%012x' % random.getrandbits(48))
        return f
    _, wk, wmk = pr.request(known[0], auth_for(known[0]))
    _, wu, wmu = pr.request(unknown[0], auth_for(unknown[0]))
    if wk is None or wu is None:
        print('no answer to a wrong-password REGISTER')
        return 2
    print('wrong password, known: %s | unknown: %s' % (
        wk.split(b'\r\n')[0].decode(), wu.split(b'\r\n')[0].decode()))
    if masked(wk, wmk) != masked(wu, wmu):
        problems.append('wrong-password answers differ:\n--- known\n%s\n--- unknown\n%s'
                        % (masked(wk, wmk), masked(wu, wmu)))
    if len(wk) != len(wu):
        problems.append('wrong-password answer sizes differ: %d vs %d' % (len(wk), len(wu)))
    for raw in (wk, wu):
        if not raw.startswith(b'SIP/2.0 401 ') or b'stale=true' in raw.lower():
            problems.append('wrong password not answered by a plain 401: %r' % raw[:200])
    shape = {'first_401': mk, 'wrong_password_401': masked(wk, wmk)}

    # ---- 2. timing: warm-up, then shuffled, interleaved classes
    for i in range(a.warmup):
        u = random.choice(known + unknown)
        pr.request(u, auth_for(u))
    order = ['K'] * a.n + ['U'] * a.n + ['C'] * a.n
    random.shuffle(order)
    times = {'K': [], 'U': [], 'C': []}
    statuses = {}
    start = time.time()
    for cls in order:
        if time.time() - start > a.max_seconds:
            break
        u = random.choice(ka if cls == 'K' else unknown if cls == 'U' else kb)
        ns, raw, _ = pr.request(u, auth_for(u))
        if ns is None:
            continue
        st = raw.split(b'\r\n')[0].decode()
        statuses[st] = statuses.get(st, 0) + 1
        times[cls].append(ns / 1000.0)
    took = time.time() - start
    if set(statuses) != {'SIP/2.0 401 Unauthorized'}:
        problems.append('timed requests got answers other than 401: %s' % statuses)
    K, U, C = times['K'], times['U'], times['C']
    if min(len(K), len(U), len(C)) < a.n // 2:
        print('too few samples (machine too slow?): %d %d %d in %.1f s' % (len(K), len(U), len(C), took))
        return 2
    main_cmp = compare('known vs unknown', K, U)
    ctrl = compare('control: known vs other known', K, C)
    z_crit = 3.29   # two-sided p = 0.001
    n_per = min(len(K), len(U))
    need = n_per * (z_crit / main_cmp['mw_z']) ** 2 if main_cmp['mw_z'] else float('inf')
    ctrl_half = (ctrl['median_diff_ci95_us'][1] - ctrl['median_diff_ci95_us'][0]) / 2
    noise = abs(ctrl['hodges_lehmann_us']) + 3 * ctrl_half
    scale = median(K + U + C)
    threshold = max(noise, a.max_rel * scale)
    shift = main_cmp['hodges_lehmann_us']
    leak = main_cmp['mw_p'] < a.alpha and abs(shift) > threshold
    res = {'requests': len(K) + len(U) + len(C), 'seconds': round(took, 2), 'lost': pr.lost,
           'rate_per_s': round((len(K) + len(U) + len(C)) / took, 1), 'statuses': statuses,
           'known_vs_unknown': main_cmp, 'control': ctrl, 'median_all_us': round(scale, 2),
           'relative_shift': round(shift / scale, 4), 'noise_us': round(noise, 2),
           'threshold_us': round(threshold, 2), 'samples_needed': round(need, 1),
           'leak': leak, 'shape': shape, 'problems': problems}
    for r in (main_cmp, ctrl):
        print('%-32s n=%s  median %.1f vs %.1f us (diff %+.2f, 95%% CI %+.2f..%+.2f)  '
              'trimmed mean %.1f vs %.1f us  Hodges-Lehmann %+.2f us  Mann-Whitney z=%.2f p=%.3g'
              % (r['name'], r['n'], r['median_us'][0], r['median_us'][1], r['median_diff_us'],
                 r['median_diff_ci95_us'][0], r['median_diff_ci95_us'][1], r['trimmed_mean_us'][0],
                 r['trimmed_mean_us'][1], r['hodges_lehmann_us'], r['mw_z'], r['mw_p']))
    print('%d timed requests in %.1f s (%.0f/s), %d lost; shift %+.2f us = %+.1f%% of the median '
          '%.1f us; threshold %.2f us (noise %.2f us, %.0f%% of the median %.2f us)'
          % (res['requests'], took, res['rate_per_s'], pr.lost, shift, 100 * shift / scale, scale,
             threshold, noise, 100 * a.max_rel, a.max_rel * scale))
    print('samples per class that tell known from unknown at p=0.001 on this loopback: %.0f' % need)
    if leak:
        problems.append('timing leak: known and unknown users differ by %+.2f us (%+.1f%%, p=%.3g), '
                        'over the %.2f us threshold; %.0f samples per class tell them apart'
                        % (shift, 100 * shift / scale, main_cmp['mw_p'], threshold, need))
    elif main_cmp['mw_p'] < a.alpha:
        print('NOTE: known and unknown users differ by %+.2f us (%+.1f%%, p=%.3g): real but under '
              'the %.2f us threshold' % (shift, 100 * shift / scale, main_cmp['mw_p'], threshold))
    if a.out:
        with open(a.out, 'w') as f:
            json.dump(res, f, indent=1)
    for p in problems:
        print('PROBLEM: ' + p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
