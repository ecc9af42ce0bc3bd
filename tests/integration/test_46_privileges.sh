#!/bin/bash
# --user: started as root, sipreg binds its ports (a privileged one too),
# then runs as the unprivileged user for good, and its store still works;
# the shipped systemd unit uses it inside a sandbox.
# Not root: asking for another user is refused with a clear message.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	out=$("$SIPREG" serve --db "$T/x.db" --listen "udp:127.0.0.1:$(free_port)" --user root 2>&1)
	rc=$?
	[ $rc -ne 0 ] || fail "--user as non-root should fail"
	echo "$out" | grep -q 'must start as root' || fail "unclear message: $out"
	log "not root: checked the refusal only"
	pass
fi
id nobody >/dev/null 2>&1 || fail "no user 'nobody' on this machine"
uid=$(id -u nobody)

# The store lives where nobody can write; the test dir must be reachable.
chmod 711 "$T"
mkdir -p "$T/data"
chown nobody "$T/data"
DB="$T/data/sipreg.db"
low=$(python3 - <<'PY'
import socket, random
for p in random.sample(range(600, 1000), 400):
    try:
        for t in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, t); s.bind(('127.0.0.1', p)); s.close()
        print(p); break
    except OSError:
        pass
PY
)
[ -n "$low" ] || fail "no free port below 1024"
LISTEN_EXTRA="--listen udp:127.0.0.1:$low" start_server --user nobody
grep -q "running as user nobody (uid $uid" "$LOG" || fail "no 'running as user' line"
read -r _ ruid euid suid fsuid < <(grep '^Uid:' "/proc/$SERVER_PID/status")
[ "$ruid $euid $suid $fsuid" = "$uid $uid $uid $uid" ] ||
	fail "uids are $ruid $euid $suid $fsuid, want $uid"
groups=$(grep '^Groups:' "/proc/$SERVER_PID/status" | cut -f2 | xargs)
[ "$groups" = "$(id -g nobody)" ] || fail "supplementary groups kept: '$groups'"
[ "$(stat -c %U "$DB")" = nobody ] || fail "the store was not created by nobody"

add_user alice secret
py <<PY || fail "registration as nobody"
from sipclient import *
c = client()
r = Registrar(c).register(['<%s>' % c.contact_uri()], 600)
expect(r is not None and r.status == 200, 'REGISTER answered 200 by the unprivileged server', r)
r = options('127.0.0.1', $low)
expect(r is not None and r.status == 200, 'the privileged port bound before the drop answers', r)
PY
[ "$(bindings | grep -c '^alice@example.com ')" = 1 ] || fail "binding not stored"

# The shipped systemd unit starts sipreg with --user inside a sandbox.
unit="$ROOT/contrib/systemd/sipreg.service"
for key in 'ExecStart=.*serve .*--user sipreg' '^NoNewPrivileges=yes' '^ProtectSystem=strict' \
	'^ProtectHome=yes' '^PrivateTmp=yes' '^PrivateDevices=yes' '^RestrictAddressFamilies=' \
	'^SystemCallFilter=@system-service' '^CapabilityBoundingSet=' '^StateDirectory=sipreg' '^LimitNOFILE='; do
	grep -Eq "$key" "$unit" || fail "contrib/systemd/sipreg.service lacks $key"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify needs the binary the unit names: point it at this build
	sed "s#/usr/local/bin/sipreg#$SIPREG#" "$unit" >"$T/sipreg.service"
	systemd-analyze verify "$T/sipreg.service" >"$T/verify.txt" 2>&1 ||
		fail "systemd-analyze verify: $(head -5 "$T/verify.txt")"
fi

# An unknown user is refused at start, clearly.
out=$("$SIPREG" serve --db "$T/y.db" --listen "udp:127.0.0.1:$(free_port)" --user no-such-user-x 2>&1)
[ $? -ne 0 ] || fail "--user with an unknown name should fail"
echo "$out" | grep -q 'no such user' || fail "unclear message: $out"
pass
