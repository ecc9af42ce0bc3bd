#!/bin/bash
# serve --config FILE (INI, etc/sipreg.conf's format): listeners, domain, db,
# intervals, max contacts and [compat] rules come from the file; command-line
# flags override it; 'user' and 'bindings' find the db through --config too.
. "$(dirname "$0")/lib.sh"
PORT=$(free_port) || fail "no free port"
export PORT
CONF="$T/sipreg.conf"
cat >"$CONF" <<INI
[server]
listen = udp:127.0.0.1:$PORT, tcp:127.0.0.1:$PORT
domain = example.com
db = $DB
min_expires = 120
max_expires = 1000
default_expires = 900
max_contacts = 2
nonce_ttl = 300
digest_algorithms = SHA-256,MD5
log_level = debug

[compat]
sipreg-md5-only = MD5
INI
timeout 20 "$SIPREG" user add alice@example.com --password secret --config "$CONF" >>"$T/cli.log" 2>&1 ||
	fail "user add --config failed: $(tail -n 3 "$T/cli.log")"
launch() {
	echo "=== $(date +%T) start: serve --config $CONF $*" >>"$LOG"
	"$SIPREG" serve --config "$CONF" "$@" >>"$LOG" 2>&1 </dev/null &
	SERVER_PID=$!
	wait_server 127.0.0.1 "$PORT" udp || fail "server with --config did not answer on udp:127.0.0.1:$PORT"
	wait_server 127.0.0.1 "$PORT" tcp || fail "server with --config did not answer on tcp:127.0.0.1:$PORT"
}
launch
py <<'PY' || fail "settings from the config file"
from sipclient import *
c = client()
r = Registrar(c).register(['<sip:alice@127.0.0.1:7001>'], 100)
expect(r is not None and r.status == 423 and (r.hdr('min-expires') or '').strip() == '120',
       'min_expires = 120 from the file -> 423 Min-Expires: 120', r)
r = Registrar(c).register(['<sip:alice@127.0.0.1:7001>'], None)
e = [x.expires for x in r.contacts()] if r is not None else []
expect(r is not None and r.status == 200 and e and 890 <= e[0] <= 900, 'default_expires = 900 (got %s)' % e, r)
r = Registrar(c).register(['<sip:alice@127.0.0.1:7002>', '<sip:alice@127.0.0.1:7003>', '<sip:alice@127.0.0.1:7004>'], 600)
expect(r is not None and r.status == 403, 'max_contacts = 2 -> 3 contacts in one REGISTER get 403', r)
r = c.request(Registrar(c, ua='sipreg-md5-only/1.0').register_msg(['<sip:alice@127.0.0.1:7005>'], 600))
algs = [ch.algorithm.upper() for ch in r.challenges()]
expect(r.status == 401 and algs == ['MD5'], '[compat] sipreg-md5-only = MD5 (got %s)' % algs, r)
r = c.request(Registrar(c, ua='baresip v1.0.0').register_msg(['<sip:alice@127.0.0.1:7006>'], 600))
algs = [ch.algorithm.upper() for ch in r.challenges()]
expect(r.status == 401 and algs == ['SHA-256', 'MD5'], 'a [compat] section replaces the built-in rules: baresip now gets %s' % algs, r)
PY
timeout 20 "$SIPREG" bindings --config "$CONF" >"$T/b.txt" 2>>"$T/cli.log" || fail "bindings --config failed"
assert_grep 'sip:alice@127\.0\.0\.1:7001' "$T/b.txt" "bindings --config lists the binding"
stop_server || fail "SIGTERM: non-zero exit"
launch --min-expires 30 --max-contacts 5
py <<'PY' || fail "command-line flags override the file"
from sipclient import *
c = client()
r = Registrar(c).register(['<sip:alice@127.0.0.1:7011>'], 100)
expect(r is not None and r.status == 200, '--min-expires 30 overrides min_expires = 120', r)
r = Registrar(c).register(['<sip:alice@127.0.0.1:7012>', '<sip:alice@127.0.0.1:7013>', '<sip:alice@127.0.0.1:7014>'], 600)
expect(r is not None and r.status == 200, '--max-contacts 5 overrides max_contacts = 2', r)
PY
pass
