#!/usr/bin/env python3
"""faults_sip.py - small tools for test_41_store_faults.

  faults_sip.py register URI EXPIRES [BUDGET]   REGISTER alice's contact URI
        (EXPIRES 0 removes it; URI * with 0 removes them all); prints "STATUS SECONDS RETRY-AFTER" (status
        0 when nothing came back within BUDGET seconds, default 12)
  faults_sip.py options                          prints "STATUS SECONDS"
  faults_sip.py query                            prints "STATUS SECONDS" and
        then one line per bound contact URI
  faults_sip.py lock DB DIR [exclusive]          hold SQLite's write lock on DB
        (BEGIN EXCLUSIVE; with 'exclusive' also locking_mode=EXCLUSIVE) until
        DIR/release exists; DIR/locked is created once it is held
  faults_sip.py wal-frames DB                    prints the number of frames
        and of commit frames in DB-wal, and the page size

Environment: PORT (the server), user alice / secret at example.com.
"""
import os
import sqlite3
import struct
import sys
import time

from sipclient import SipClient, Registrar


def registrar(timeout):
    c = SipClient('127.0.0.1', int(os.environ['PORT']), 'udp', timeout=timeout)
    return c, Registrar(c, user='alice', password='secret', domain='example.com')


def cmd_register(uri, expires, budget=12.0):
    c, reg = registrar(budget)
    t0 = time.time()
    r = reg.register(['*' if uri == '*' else '<%s>' % uri], int(expires),
                     timeout=float(budget))
    dt = time.time() - t0
    c.close()
    if r is None:
        print('0 %.2f -' % dt)
    else:
        print('%d %.2f %s' % (r.status, dt, r.hdr('retry-after') or '-'))


def cmd_options():
    c, _ = registrar(5)
    t0 = time.time()
    msg = c.build('OPTIONS', 'sip:example.com', ['Accept: application/sdp'],
                  from_uri='sip:probe@example.com', to_uri='sip:example.com')
    r = c.request(msg, 5)
    print('%d %.2f' % (r.status if r else 0, time.time() - t0))
    c.close()


def cmd_query():
    c, reg = registrar(8)
    t0 = time.time()
    r = reg.register(None, None, timeout=8)
    print('%d %.2f' % (r.status if r else 0, time.time() - t0))
    if r is not None and r.status == 200:
        for ct in r.contacts():
            print(ct.uri)
    c.close()


def cmd_lock(db, d, mode=''):
    con = sqlite3.connect(db, timeout=10, isolation_level=None)
    if mode == 'exclusive':
        con.execute('PRAGMA locking_mode = EXCLUSIVE')
    con.execute('BEGIN EXCLUSIVE')
    # touch a table so that the lock is really taken, change nothing
    con.execute('SELECT count(*) FROM users').fetchall()
    open(os.path.join(d, 'locked'), 'w').close()
    deadline = time.time() + 100
    while not os.path.exists(os.path.join(d, 'release')) and time.time() < deadline:
        time.sleep(0.05)
    con.execute('ROLLBACK')
    con.close()


def cmd_wal_frames(db):
    """Walk the WAL like SQLite does: frames with the header's salts."""
    with open(db + '-wal', 'rb') as f:
        data = f.read()
    if len(data) < 32:
        print('0 0 0')
        return
    magic, _, psz, _, salt1, salt2 = struct.unpack('>6I', data[:24])
    fsz = 24 + psz
    n = commits = 0
    off = 32
    while off + fsz <= len(data):
        pg, ntrunc, s1, s2 = struct.unpack('>4I', data[off:off + 16])
        if (s1, s2) != (salt1, salt2) or pg == 0:
            break
        n += 1
        if ntrunc:
            commits += 1
        off += fsz
    print('%d %d %d' % (n, commits, psz))


def main(a):
    cmds = {'register': cmd_register, 'options': cmd_options, 'query': cmd_query,
            'lock': cmd_lock, 'wal-frames': cmd_wal_frames}
    if not a or a[0] not in cmds:
        sys.exit(__doc__)
    cmds[a[0]](*a[1:])


if __name__ == '__main__':
    main(sys.argv[1:])
