#!/bin/bash
# Real client: linphonec (Debian linphone-cli 5.1) registers alice over UDP
# with the server's default algorithms and authenticates with SHA-256.
#
# Headless recipe: a private HOME (liblinphone's core never reaches "On"
# unless $HOME/.local/share/linphone exists, so nothing would be sent), an
# rc file with the account (reg_proxy = the server; the Request-URI is the
# identity's domain), a private SIP port, commands fed through a FIFO on
# stdin, and '-d 6 -l FILE' for a full SIP trace.
. "$(dirname "$0")/lib.sh"
command -v linphonec >/dev/null || fail "linphonec not installed (Debian package linphone-cli)"
start_server
add_user alice secret
LPORT=$(free_port) || fail "no free port for linphonec"
L="$T/linphonec"
mkdir -p "$L/.local/share/linphone" "$L/.config"
cat >"$L/rc" <<RC
[sip]
sip_port=$LPORT
sip_tcp_port=0
sip_tls_port=0
guess_hostname=1
register_only_when_network_is_up=0
register_only_when_upnp_is_ok=0
default_proxy=0

[net]
ipv6=0

[proxy_0]
reg_proxy=<sip:127.0.0.1:$PORT;transport=udp>
reg_identity=sip:alice@$DOMAIN
reg_expires=600
reg_sendregister=1
publish=0

[auth_info_0]
username=alice
passwd=secret
realm=$DOMAIN
RC
mkfifo "$L/stdin"
HOME="$L" timeout 90 linphonec -c "$L/rc" -d 6 -l "$L/linphone.log" <"$L/stdin" >"$L/out.txt" 2>&1 &
LPID=$!
EXTRA_PIDS+=("$LPID")
exec 3>"$L/stdin"
if ! wait_for_grep 'to \[LinphoneRegistrationOk\]' "$L/linphone.log" 30 "$LPID"; then
	grep -a -E 'Registration|REGISTER|SIP/2.0 |error' "$L/linphone.log" | tail -n 40 >&2
	fail "linphonec did not reach LinphoneRegistrationOk"
fi
log "linphonec: $(grep -a -m1 'to \[LinphoneRegistrationOk\]' "$L/linphone.log" | cut -c1-200)"
# SHA-256: the challenge offered SHA-256 first and linphonec answered with it
grep -a -E '^WWW-Authenticate:' "$L/linphone.log" | head -n 4 >&2
grep -a -m1 -E '^WWW-Authenticate:' "$L/linphone.log" | grep -q 'algorithm=SHA-256' ||
	fail "the first challenge linphonec received should be SHA-256"
grep -a -E '^Authorization:' "$L/linphone.log" | head -n 2 >&2
grep -a -E '^Authorization:' "$L/linphone.log" | grep -q 'algorithm=SHA-256' ||
	fail "linphonec did not authenticate with algorithm=SHA-256"
grep -a -E '^Authorization:' "$L/linphone.log" | grep -Eq 'response="[0-9a-f]{64}"' ||
	fail "linphonec's digest response is not a 64-hex SHA-256 value"
grep -a -q '^SIP/2.0 200 OK' "$L/linphone.log" || fail "no 200 OK in linphonec's SIP trace"
# informational: what the server's debug log says about it
grep -a -i 'sha-256' "$LOG" | head -n 3 | sed 's/^/server log: /' >&2
# the binding is in the store, with linphonec's loopback contact
bindings alice@"$DOMAIN" >"$L/bindings.txt"
cat "$L/bindings.txt" >&2
grep -Eq "sip:alice@127\\.0\\.0\\.1:$LPORT" "$L/bindings.txt" ||
	fail "linphonec's contact sip:alice@127.0.0.1:$LPORT not in 'sipreg bindings'"
# ask linphonec itself, then quit: it unregisters
echo "status register" >&3
sleep 1
echo "quit" >&3
exec 3>&-
wait_pid "$LPID" 20 || fail "linphonec did not quit"
cat "$L/out.txt" >&2
grep -q 'registered, identity=sip:alice@' "$L/out.txt" ||
	fail "linphonec's 'status register' did not report 'registered, identity=sip:alice@...'"
wait_for_grep 'to \[LinphoneRegistrationCleared\]' "$L/linphone.log" 5 ||
	fail "linphonec did not unregister on quit"
bindings alice@"$DOMAIN" >"$L/bindings-after.txt"
if grep -Eq "sip:alice@127\\.0\\.0\\.1:$LPORT" "$L/bindings-after.txt"; then
	fail "linphonec's binding still there after it unregistered"
fi
pass
