#!/bin/bash
# Real client: linphone-daemon (linphone-cli) registers alice over UDP with
# its 'register' command, reports LinphoneRegistrationOk via
# 'register-status', and authenticated with SHA-256.
. "$(dirname "$0")/lib.sh"
command -v linphone-daemon >/dev/null || fail "linphone-daemon not installed (Debian package linphone-cli)"
start_server
add_user alice secret
LPORT=$(free_port) || fail "no free port for linphone-daemon"
L="$T/linphone-daemon"
mkdir -p "$L/.local/share/linphone" "$L/.config"
cat >"$L/rc" <<RC
[sip]
sip_port=$LPORT
sip_tcp_port=0
sip_tls_port=0
register_only_when_network_is_up=0

[net]
ipv6=0
RC
mkfifo "$L/stdin"
HOME="$L" timeout 90 linphone-daemon --config "$L/rc" --log "$L/linphone.log" <"$L/stdin" >"$L/out.txt" 2>&1 &
LPID=$!
EXTRA_PIDS+=("$LPID")
exec 3>"$L/stdin"
echo "register sip:alice@$DOMAIN sip:127.0.0.1:$PORT secret" >&3
ok=0
for _ in $(seq 1 30); do
	sleep 1
	echo "register-status ALL" >&3
	sleep 0.2
	if grep -q 'State: LinphoneRegistrationOk' "$L/out.txt"; then ok=1; break; fi
	kill -0 "$LPID" 2>/dev/null || break
done
if [ $ok != 1 ]; then
	cat "$L/out.txt" >&2
	grep -a -E 'Registration|REGISTER|SIP/2.0 ' "$L/linphone.log" | tail -n 30 >&2
	fail "linphone-daemon never reported State: LinphoneRegistrationOk"
fi
grep -a -E '^Authorization:' "$L/linphone.log" | grep -q 'algorithm=SHA-256' ||
	fail "linphone-daemon did not authenticate with algorithm=SHA-256"
bindings alice@"$DOMAIN" >"$L/bindings.txt"
cat "$L/bindings.txt" >&2
grep -Eq "sip:alice@127\\.0\\.0\\.1:$LPORT" "$L/bindings.txt" ||
	fail "linphone-daemon's contact sip:alice@127.0.0.1:$LPORT not in 'sipreg bindings'"
echo "quit" >&3
exec 3>&-
wait_pid "$LPID" 20 || fail "linphone-daemon did not quit"
pass
