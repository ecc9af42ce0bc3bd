#!/usr/bin/env python3
"""fuzz/make_corpus.py - (re)write the committed seed corpora in fuzz/corpus/.

Seeds come from the unit tests (tests/unit/sip, tests/unit/auth,
tests/unit/registrar) and the RFC 4475 torture messages in
tests/unit/sip/data/*.dat.  Run from anywhere; it replaces the files it
writes and leaves other files alone.  Keep each corpus to a few dozen files:
libFuzzer grows its own working corpus under build/fuzz/.
"""
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "unit", "sip", "data")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


T_REGISTER = crlf("""REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds
Max-Forwards: 70
From: Alice <sip:alice@example.com>;tag=1928301774
To: Alice <sip:alice@example.com>
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 REGISTER
Contact: <sip:alice@192.0.2.1:5060>;expires=3600
Content-Length: 0

""")

MSG_A = crlf("""REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKa
From: <sip:a@example.com>;tag=1
To: <sip:a@example.com>
Call-ID: a@h
CSeq: 1 REGISTER
Content-Length: 5

""") + "hello"

MSG_B = ("OPTIONS sip:example.com SIP/2.0\n"
         "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKb\n"
         "From: <sip:a@example.com>;tag=1\n"
         "To: <sip:a@example.com>\n"
         "Call-ID: b@h\n"
         "CSeq: 2 OPTIONS\n"
         "l: 0\n"
         "\n")

RESPONSE = crlf("""SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx
From: <sip:a@example.com>;tag=1
To: <sip:a@example.com>;tag=2
Call-ID: x
CSeq: 1 REGISTER
Content-Length: 0

""")

MSG_EXTRA = {
    "register": T_REGISTER,
    "response-200": RESPONSE,
    "tcp-body": MSG_A,
    "lf-only-compact": MSG_B,
    "pipelined": "\r\n\r\n" + MSG_A + MSG_B,
    "folded-multivia": crlf("""REGISTER sips:example.com SIP/2.0
v: SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bK1;rport,
  SIP/2.0/UDP proxy.example.net;branch=z9hG4bK2;received=192.0.2.7
Via: SIP / 2.0 / TCP h.example.org:5070 ; branch = z9hG4bK3 ; maddr=239.1.1.1
f: "Alice \\"A\\" Smith"
 <sip:alice@example.com>;tag=aa
t: sip:alice@example.com
i: f1@h
CSeq: 7
 REGISTER
m: "x" <sip:alice@[::1]:5060;transport=tcp;lr?subject=x&h=y>;q=0.5;expires=120,
 sip:alice@192.0.2.9;expires=0, <tel:+1-201-555-0123;phone-context=example.com>
Expires: 60
Require: path, gruu
Authorization: Digest username="alice", realm="example.com", nonce="abc", uri="sip:example.com", response="00", qop=auth, nc=00000001, cnonce="c"
l: 0

"""),
    "wildcard": crlf("""REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-w;rport
From: <sip:alice@example.com>;tag=w
To: <sip:alice@example.com>
Call-ID: w@test
CSeq: 9 REGISTER
Contact: *
Expires: 0
Content-Length: 0

"""),
    "error-answerable": crlf("""INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKe
From: <sip:a@example.com>;tag=1
To: <sip:bob@example.com>
Call-ID: e@h
CSeq: 1 REGISTER
Content-Length: 99

body"""),
}

# RFC 4475 files: all of them (the parser's torture test).
RFC4475 = sorted(f for f in os.listdir(DATA) if f.endswith(".dat"))

URI_SEEDS = [
    "sip:alice:secret@Example.COM:5070;transport=tcp;lr?subject=x&h=y",
    "sips:example.com",
    "sip:user;par=u%40example.net@example.com",
    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
    "sip:sips%3Auser%40example.com@example.net",
    "sip:null-%00-null@example.com",
    "sip:+1-212-555-1212:1234@gateway.com;user=phone",
    "sip:[2001:db8::1]:5060;transport=udp",
    "tel:+1-201-555-0123;phone-context=example.com",
    "soap.beep://192.0.2.103:3002",
    "\"Alice \\\"A\\\"\" <sip:a@b;lr>;tag=x;q=0.7;expires=60",
    "Bob <sips:bob@[::ffff:192.0.2.1]>;tag=1;+sip.instance=\"<urn:uuid:1>\"",
    "sip:a@b;tag=x",
    "<sip:a@b?Route=%3Csip:sip.example.com%3E>",
    ";a=b;c;d=\"q;x\";expires=3600;q=0.500",
    "a, \"b,c\" <sip:x@y>, <sip:z@w;p=1>,",
    "4294967296",
    "0.001",
]

URI_PAIRS = [
    ("sip:%61lice@bell-telephone.com", "sip:alice@BelL-TelePhone.com"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
    ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
     "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
    ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
     "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@[::1]:5060", "sip:bob@[0:0::1]:5060"),
    ("sips:a@example.com", "sip:a@example.com"),
    ("sip:a@h:5060", "sip:a@h"),
    ("\"x\" <sip:a@b;maddr=1.2.3.4>;tag=1", "<sip:a@b>"),
]

AUTH_SEEDS = [
    # complete credentials the harness makes valid (@...@ filled in)
    'Digest username="alice", realm="example.com", nonce="@NONCE@", uri="sip:example.com", '
    'response="@RESP@", algorithm=SHA-256, cnonce="0a4f113b", opaque="@OPAQUE@", qop=auth, nc=00000001',
    'Digest username="alice", realm="example.com", nonce="@NONCE@", uri="sip:example.com", '
    'response="@RESP@", cnonce="x", opaque="@OPAQUE@", qop=auth, nc=00000002',
    'Digest username="alice",realm="example.com",nonce="@NONCE@",uri="sip:example.com",'
    'response="@RESP@",algorithm=MD5,cnonce="c",opaque="@OPAQUE@",qop="auth",nc=0000000a',
    'digest USERNAME="alice" , REALM="example\\.com" , NONCE="@NONCE@" , URI="sip:x" ,\r\n '
    'RESPONSE="@RESP@" , ALGORITHM=sha-256 , CNONCE="c" , OPAQUE="@OPAQUE@" , QOP=auth , NC=FFFFFFFF',
    # from tests/unit/auth
    'Digest username="h", userhash=true',
    'Digest userhash="TRUE"',
    'Digest charset=UTF-8, username="a", x-foo="bar", auts="q"',
    'Digest username="a", username="b"',
    'Digest nc=00000001, realm=r, nc=00000002',
    'Digest,username="a"',
    '"Digest" username="a"',
    'NoOneKnowsThisScheme opaque-data=here',
    'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    'Digest username="a\\"b", realm="r\\\\", nonce="n\\x"',
    'Digest ' + ', '.join('p%d=%d' % (i, i) for i in range(32)),
    'SHA-256,MD5',
    'Digest realm="example.com", nonce="AAAAAGVTGgAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAA", '
    'response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="c", opaque="x"',
]


def reg_msg(cseq=1, call_id="call-1@test", extra="", ruri="sip:example.com",
            to="sip:alice@example.com", auth="AUTHME", branch="t1"):
    a = ("Authorization: %s\r\n" % auth) if auth else ""
    return ("REGISTER %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <%s>;tag=ft1\r\n"
            "To: <%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d REGISTER\r\n"
            "%s%s"
            "Content-Length: 0\r\n"
            "\r\n") % (ruri, branch, to, to, call_id, cseq, a, extra)


C1 = "Contact: <sip:alice@127.0.0.1:5071>\r\n"
C2 = "Contact: <sip:alice@127.0.0.1:5072>;expires=120\r\n"
C3 = "Contact: \"Al\" <sip:alice@127.0.0.1:5073;transport=tcp>;q=0.5\r\n"
C4 = "Contact: <sip:alice@127.0.0.1:5074>;+sip.instance=\"<urn:uuid:x>\"\r\n"
SEP = "====="

REG_SEEDS = {
    "noauth-401": reg_msg(auth=None, extra=C1),
    "one-contact": reg_msg(extra=C1),
    "md5": reg_msg(extra=C2, auth="AUTHMD"),
    "query": reg_msg(),
    "three-contacts": reg_msg(extra=C1 + C2 + C3),
    "too-many": reg_msg(extra=C1 + C2 + C3 + C4),
    "list-contacts": reg_msg(extra="Contact: <sip:alice@h1>, sip:alice@h2;expires=60, <sip:alice@h3>;q=1\r\n"),
    "too-brief": reg_msg(extra=C1 + "Expires: 30\r\n"),
    "wildcard": reg_msg(extra="Contact: *\r\nExpires: 0\r\n"),
    "require": reg_msg(extra=C1 + "Require: gruu\r\n"),
    "wrong-user": reg_msg(extra=C1, to="sip:bob@example.com"),
    "wrong-domain": reg_msg(extra=C1, ruri="sip:example.net"),
    "register-refresh-remove": SEP.join([
        reg_msg(cseq=1, extra=C1 + C2),
        "+30\n" + reg_msg(cseq=2, extra=C1 + "Expires: 600\r\n"),
        "+30\n" + reg_msg(cseq=3, extra="Contact: <sip:alice@127.0.0.1:5071>;expires=0\r\n"),
        reg_msg(cseq=4),
    ]),
    "old-cseq": SEP.join([
        reg_msg(cseq=5, extra=C1),
        reg_msg(cseq=5, extra=C1),
        reg_msg(cseq=4, extra=C1, call_id="other@test"),
    ]),
    "wildcard-after": SEP.join([
        reg_msg(cseq=1, extra=C1 + C2),
        reg_msg(cseq=1, extra=C3),
        reg_msg(cseq=2, extra="Contact: *\r\nExpires: 0\r\n"),
    ]),
    "limit-replace": SEP.join([
        reg_msg(cseq=1, extra=C1 + C2 + C3),
        "+100\n" + reg_msg(cseq=2, extra=C4, call_id="c2@test"),
        reg_msg(cseq=3),
    ]),
    "parked": SEP.join([
        reg_msg(cseq=1, extra=C1),
        "&\n" + reg_msg(cseq=2, extra=C2),
        "&\n" + reg_msg(cseq=3, extra=C3),
        reg_msg(cseq=4),
    ]),
    "expire-between": SEP.join([
        reg_msg(cseq=1, extra=C2),
        "+121\n" + reg_msg(cseq=2, extra=C1),
        "&+100\n" + reg_msg(cseq=3, extra=C2),
        "+3000\n" + reg_msg(cseq=4, extra=C1),
    ]),
    "stale-nonce": "+5000\n" + reg_msg(extra=C1),
    "alt-no-domain": SEP.join([
        "!\n" + reg_msg(cseq=1, extra=C1),
        "+10\n" + reg_msg(cseq=2, extra=C2, call_id="c2@test"),
        reg_msg(cseq=3, extra="Contact: <sip:alice@127.0.0.1:5072>;expires=5\r\n", call_id="c2@test"),
    ]),
    "expired-in-memory": SEP.join([
        reg_msg(cseq=1, extra=C2),
        "~+200\n" + reg_msg(cseq=2, extra=C1),
        "~\n" + reg_msg(cseq=3, extra="Contact: *\r\nExpires: 0\r\n"),
        "~&\n" + reg_msg(cseq=4, extra=C2),
    ]),
    "wildcard-old-cseq": SEP.join([
        reg_msg(cseq=5, extra=C1),
        reg_msg(cseq=5, extra="Contact: *\r\nExpires: 0\r\n"),
    ]),
    "many-contacts": reg_msg(extra="Contact: " + ", ".join(
        "<sip:alice@10.0.0.%d>" % i for i in range(65)) + "\r\n"),
    "long-ua": reg_msg(extra=C1 + "User-Agent: " + "x" * 300 + "\r\n"),
    "unknown-alg": reg_msg(extra=C1, auth='Digest username="alice", realm="example.com", '
                           'nonce="n", uri="sip:example.com", response="r", algorithm=foo'),
    "escaped-aor": reg_msg(extra=C1, to="sip:%61lice@EXAMPLE.com"),
    "folded-contact": reg_msg(extra="Contact: \"Alice\r\n Smith\" <sip:alice@[::1]:5060>;\r\n q=0.1;expires=3600\r\n"),
    "ua-body": reg_msg(extra=C1 + "User-Agent: fuzz/1.0\r\nContent-Type: text/plain\r\n").replace(
        "Content-Length: 0\r\n\r\n", "Content-Length: 4\r\n\r\nbody"),
}


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("latin-1")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for f in RFC4475:
        with open(os.path.join(DATA, f), "rb") as fh:
            write("fuzz_msg", "rfc4475-" + f[:-4], fh.read())
    for k, v in MSG_EXTRA.items():
        write("fuzz_msg", "unit-" + k, v)

    for i, s in enumerate(URI_SEEDS):
        write("fuzz_uri", "one-%02d" % i, s)
    for i, (a, b) in enumerate(URI_PAIRS):
        write("fuzz_uri", "pair-%02d" % i, a + "\0" + b)

    for i, s in enumerate(AUTH_SEEDS):
        write("fuzz_auth", "cred-%02d" % i, s)
    # nonce-count table sequences: table size byte, then (time, nonce, nc lo, nc hi)
    seq1 = bytes([1]) + b"".join(bytes([t, k, nc, 0]) for t, k, nc in
                                 [(0, 0, 1), (0, 0, 1), (1, 1, 1), (2, 0, 2), (3, 2, 1),
                                  (10, 3, 5), (11, 0, 3), (20, 4, 1), (30, 0, 1), (80, 7, 9)])
    seq2 = bytes([3]) + b"".join(bytes([t, k, nc, 0]) for t, k, nc in
                                 [(0, 0, 100), (0, 0, 40), (0, 0, 37), (0, 0, 36), (0, 0, 99),
                                  (5, 0x80, 1), (6, 0x80, 1), (70, 1, 1), (76, 1, 2), (90, 5, 1)])
    write("fuzz_auth", "seq-01", b"SEQ" + seq1)
    write("fuzz_auth", "seq-02", b"SEQ" + seq2)

    for k, v in REG_SEEDS.items():
        write("fuzz_register", k, v)
    # two RFC 4475 REGISTERs as they come
    for f in ("regaut01.dat", "regescrt.dat", "cparam01.dat", "cparam02.dat", "regbadct.dat"):
        with open(os.path.join(DATA, f), "rb") as fh:
            write("fuzz_register", "rfc4475-" + f[:-4], fh.read())
    for t in sorted(os.listdir(OUT)):
        print("%-14s %d files" % (t, len(os.listdir(os.path.join(OUT, t)))))


if __name__ == "__main__":
    sys.exit(main())
