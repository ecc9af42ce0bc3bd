#!/bin/bash
# SIPp load on one AOR: 100 calls at 50/s over UDP, each registering its own
# contact for alice (server --max-contacts 200), then 40 more over TCP: every
# registration succeeds and every binding is stored.  Then 60 concurrent
# python clients over 10 users.
. "$(dirname "$0")/lib.sh"
start_server --max-contacts 200
add_user alice secret
run_sipp register_many.xml -m 100 -r 50 -l 100 -timeout 30s
n=$(bindings alice@example.com | grep -c 'sip:alice-[0-9]*@127.0.0.1')
[ "$n" -eq 100 ] || fail "expected 100 bindings after the UDP load, got $n"
run_sipp register_many.xml -t t1 -m 40 -r 20 -l 40 -timeout 30s
n=$(bindings alice@example.com | grep -c 'sip:alice-[0-9]*@127.0.0.1')
[ "$n" -eq 140 ] || fail "expected 140 bindings after the TCP load, got $n"
for i in $(seq 0 9); do add_user "u$i" "pw$i"; done
py <<'PY' || fail "python concurrent load"
from sipclient import *
import threading
res, lock = [], threading.Lock()
def worker(i):
    u = i % 10
    c = client(transport='tcp' if i % 3 == 0 else 'udp', timeout=5)
    reg = Registrar(c, user='u%d' % u, password='pw%d' % u, alg='SHA-256' if i % 2 else 'MD5')
    r = reg.register(['<sip:u%d@127.0.0.1:%d>' % (u, 40000 + i)], 600)
    with lock:
        res.append(r.status if r is not None else None)
    c.close()
ths = [threading.Thread(target=worker, args=(i,)) for i in range(60)]
for t in ths: t.start()
for t in ths: t.join()
bad = [s for s in res if s != 200]
expect(not bad, '60 concurrent registrations: non-200 results %s' % bad)
n = len([b for b in bindings() if b['aor'].replace('sip:', '').startswith('u')])
expect(n == 60, '60 bindings stored, got %d' % n)
PY
# the same python load against a server with 4 workers
stop_server || fail "SIGTERM: non-zero exit status"
start_server --workers 4 --max-contacts 200
py <<'PY' || fail "python concurrent load, 4 workers"
from sipclient import *
import threading
res, lock = [], threading.Lock()
def worker(i):
    u = i % 10
    c = client(transport='tcp' if i % 2 else 'udp', timeout=5)
    reg = Registrar(c, user='u%d' % u, password='pw%d' % u)
    r = reg.register(['<sip:u%d@127.0.0.1:%d>' % (u, 45000 + i)], 600)
    with lock:
        res.append(r.status if r is not None else None)
    c.close()
ths = [threading.Thread(target=worker, args=(i,)) for i in range(80)]
for t in ths: t.start()
for t in ths: t.join()
bad = [s for s in res if s != 200]
expect(not bad, '80 concurrent registrations (4 workers): non-200 results %s' % bad)
n = len([b for b in bindings() if ':45' in b['contact'] and b['aor'].replace('sip:', '').startswith('u')])
expect(n == 80, '80 new bindings stored, got %d' % n)
PY
pass
