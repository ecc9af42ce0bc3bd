#!/bin/bash
# run.sh - the RFC 4475 and RFC 5118 torture messages against the real
# server: each message is sent unchanged (torture.py), the answer's status
# compared with expected.txt, one PASS/FAIL line per message; then the
# server must still be running and answer OPTIONS.  Exits non-zero on any
# mismatch.
#
#   tests/torture/run.sh                 # SIPREG=path (default build/sipreg)
#   KEEP_TMP=1 tests/torture/run.sh      # keep the server log (lib.sh)
#
# Answers go where the server addresses them: over UDP to the request's
# source address and its top Via's sent-by port, 5060 when none is given
# (RFC 3261 §18.2.2; the source port with rport, RFC 3581).  The messages
# name ports 5060, 5050, 5070, 6050 and 19823, which other servers on this
# machine may hold, so the run takes a private network namespace with its
# own loopback (unshare --net; --map-root-user when not root) where
# torture.py can bind them.  Without one it uses the shared loopback, and a
# message whose answer port is taken is reported SKIP.  Only loopback
# addresses are ever used.
set -u
TORTURE_DIR=$(cd "$(dirname "$0")" && pwd)

if [ -z "${TORTURE_NETNS:-}" ]; then
	# root without CAP_SYS_ADMIN (a container) may still get a user namespace
	for ns in "unshare --net" "unshare --net --map-root-user"; do
		[ "$ns" = "unshare --net" ] && [ "$(id -u)" -ne 0 ] && continue
		# shellcheck disable=SC2086
		if command -v unshare >/dev/null 2>&1 && $ns true 2>/dev/null; then
			export TORTURE_NETNS=1
			# shellcheck disable=SC2086
			exec $ns "${BASH:-bash}" "$0" "$@"
		fi
	done
	echo "run.sh: no private network namespace (unshare --net refused): using the shared loopback" >&2
	export TORTURE_NETNS=0
fi

export TEST_NAME=${TEST_NAME:-torture}
# shellcheck source=tests/integration/lib.sh
. "$TORTURE_DIR/../integration/lib.sh"

if [ "$TORTURE_NETNS" = 1 ]; then
	# A new namespace's loopback is down: bring it up (SIOCSIFFLAGS IFF_UP).
	"$PY" - <<'EOF' || fail "cannot bring up the namespace's loopback"
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
req = struct.pack('16sH14x', b'lo', 0)
flags = struct.unpack('16sH', fcntl.ioctl(s, 0x8913, req)[:18])[1]
fcntl.ioctl(s, 0x8914, struct.pack('16sH14x', b'lo', flags | 1))
EOF
fi

# RFC 5118's messages go over [::1] when there is an IPv6 loopback.
ipv6=1
"$PY" -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null || ipv6=0
if [ $ipv6 = 1 ]; then
	export PORT_HOSTS="127.0.0.1 ::1"
	export LISTEN_EXTRA="--listen udp:[::1]:@PORT@ --listen tcp:[::1]:@PORT@"
	v6opt=()
else
	log "no IPv6 loopback: RFC 5118's messages go over 127.0.0.1"
	v6opt=(--no-ipv6)
fi

EXPECTED="$TORTURE_DIR/expected.txt"
DRIVER=("$PY" "$TORTURE_DIR/torture.py")
# 2001:db8::10 is the domain of RFC 5118's REGISTERs: serving it lets
# §4.3 (host 2001:db8::10:5070) and §4.4 (host 2001:db8::10, port 5070)
# be told apart by their answers, 404 and 401.
start_server --domain 2001:db8::10

ngroups=$("${DRIVER[@]}" groups "$EXPECTED") || fail "cannot read $EXPECTED"
rc=0
for g in $(seq 0 $((ngroups - 1))); do
	if [ "$g" -gt 0 ]; then
		# Messages that would match a transaction of an earlier one (the
		# RFCs reuse Via branches) get a server of their own.
		stop_server TERM || fail "the server exited with status $? after torture group $((g - 1))"
		restart_server
	fi
	timeout 120 "${DRIVER[@]}" run "$EXPECTED" --group "$g" --port "$PORT" --server-pid "$SERVER_PID" \
		"${v6opt[@]}" || rc=1
	kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died during torture group $g"
done

# Still alive and answering, on every listener.
wait_server 127.0.0.1 "$PORT" udp || fail "no OPTIONS answer on udp:127.0.0.1:$PORT after the torture messages"
wait_server 127.0.0.1 "$PORT" tcp || fail "no OPTIONS answer on tcp:127.0.0.1:$PORT after the torture messages"
if [ $ipv6 = 1 ]; then
	wait_server ::1 "$PORT" udp || fail "no OPTIONS answer on udp:[::1]:$PORT after the torture messages"
fi
log "server still answers OPTIONS after the torture messages"
stop_server TERM || fail "the server exited with status $? on SIGTERM"
[ $rc -eq 0 ] || fail "some torture messages got a wrong answer (lines above)"
pass
