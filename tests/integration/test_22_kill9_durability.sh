#!/bin/bash
# kill -9 durability: every binding acknowledged with a 200 before the
# server was SIGKILLed is there after a restart on the same database.
# Round 1: kill after all answers; round 2 (three times): kill in the middle
# of the load.
# --max-contacts 256 so that no acknowledged binding is legitimately replaced.
. "$(dirname "$0")/lib.sh"
start_server --max-contacts 256
for i in $(seq 0 9); do add_user "u$i" "pw$i"; done
export SERVER_PID
py <<'PY' || fail "round 1 load"
from sipclient import *
import threading
acks, lock = [], threading.Lock()
def worker(i):
    u = i % 10
    c = client(timeout=5)
    ct = 'sip:u%d@127.0.0.1:%d' % (u, 21000 + i)
    r = Registrar(c, user='u%d' % u, password='pw%d' % u).register(['<%s>' % ct], 3600)
    if r is not None and r.status == 200:
        with lock:
            acks.append('u%d@example.com %s' % (u, ct))
    c.close()
ths = [threading.Thread(target=worker, args=(i,)) for i in range(60)]
for t in ths: t.start()
for t in ths: t.join()
open(os.environ['T'] + '/acked1.txt', 'w').write('\n'.join(acks) + '\n')
expect(len(acks) == 60, 'all 60 concurrent registrations acknowledged (got %d)' % len(acks))
PY
stop_server KILL
restart_server
py <<'PY' || fail "round 1: acknowledged bindings lost after kill -9"
from sipclient import *
acked = [l.split() for l in open(os.environ['T'] + '/acked1.txt') if l.strip()]
have = bindings()
lost = [a for a in acked if not contact_in(a[1], [b for b in have if b['aor'].replace('sip:', '') == a[0]])]
expect(not lost, '%d of %d acknowledged bindings lost after kill -9: %s' % (len(lost), len(acked), lost[:5]))
# and the server itself lists them to a query
for u in range(10):
    r = Registrar(client(), user='u%d' % u, password='pw%d' % u).register(None, None)
    expect(r is not None and r.status == 200, 'query u%d after restart' % u, r)
    for a in acked:
        if a[0] == 'u%d@example.com' % u:
            expect(contact_in(a[1], r.contacts()), 'u%d query lists %s after restart' % (u, a[1]), r)
PY
for ROUND in 1 2 3; do
	export ROUND
py <<'PY' || fail "round 2.$ROUND load"
from sipclient import *
import threading, signal, time
acks, lock = [], threading.Lock()
stop = threading.Event()
pid = int(os.environ['SERVER_PID'])
def worker(w):
    i = 0
    while not stop.is_set() and i < 200:
        u = (w + i) % 10
        ct = 'sip:u%d@127.0.0.1:%d' % (u, 30000 + int(os.environ['ROUND']) * 2000 + w * 200 + i)
        try:
            c = client(timeout=1.5)
            r = Registrar(c, user='u%d' % u, password='pw%d' % u).register(['<%s>' % ct], 3600, timeout=1.5)
            c.close()
        except OSError:
            r = None
        if r is not None and r.status == 200:
            with lock:
                acks.append('u%d@example.com %s' % (u, ct))
        i += 1
ths = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
for t in ths: t.start()
deadline = time.time() + 20
while time.time() < deadline:
    with lock:
        if len(acks) >= 60:
            break
    time.sleep(0.02)
os.kill(pid, signal.SIGKILL)
time.sleep(0.2)
with lock:
    snap = list(acks)
stop.set()
for t in ths: t.join()
open(os.environ['T'] + '/acked2.%s.txt' % os.environ['ROUND'], 'w').write('\n'.join(snap) + '\n')
expect(len(snap) >= 20, 'enough acknowledged before the kill (got %d)' % len(snap))
PY
	stop_server KILL
	restart_server
py <<'PY' || fail "round 2.$ROUND: acknowledged bindings lost after kill -9 under load"
from sipclient import *
acked = [l.split() for l in open(os.environ['T'] + '/acked2.%s.txt' % os.environ['ROUND']) if l.strip()]
have = bindings()
lost = [a for a in acked if not contact_in(a[1], [b for b in have if b['aor'].replace('sip:', '') == a[0]])]
expect(not lost, '%d acknowledged bindings lost after kill -9 under load: %s' % (len(lost), lost[:5]))
PY
done
pass
