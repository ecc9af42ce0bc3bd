# shellcheck shell=bash disable=SC2119,SC2120
# lib.sh - helpers for sipreg's integration tests.  Source it from a test:
#
#   . "$(dirname "$0")/lib.sh"
#   start_server [extra serve options...]   # sets PORT, DB, LOG, SERVER_PID
#   add_user alice secret
#   run_sipp register.xml -key expires 600  # fails the test if SIPp fails
#   py <<'EOF' ... EOF                      # python3 with sipclient importable
#   pass
#
# Everything a test starts is killed by the EXIT trap; its files live in
# $T (a mktemp dir under tests/integration/tmp/, removed when the test passes
# unless KEEP_TMP=1).
#
# Environment knobs: SIPREG (server binary, default build/sipreg),
# PYTHON (default python3), KEEP_TMP=1, VERBOSE=1.

set -u
IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$IT_DIR/../.." && pwd)
SIPREG=${SIPREG:-$ROOT/build/sipreg}
PY=${PYTHON:-python3}
SCEN="$IT_DIR/sipp"
DOMAIN=example.com
TEST_NAME=${TEST_NAME:-$(basename "${0%.sh}")}
mkdir -p "$IT_DIR/tmp"
T=$(mktemp -d "$IT_DIR/tmp/$TEST_NAME.XXXXXX")
export IT_DIR ROOT SIPREG T DOMAIN
export PYTHONPATH="$IT_DIR${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
DB="$T/sipreg.db"
LOG="$T/server.log"
PORT=""
SERVER_PID=""
SERVER_ARGS=()
EXTRA_PIDS=()
export DB LOG

log() { printf '[%s] %s\n' "$TEST_NAME" "$*" >&2; }

# fail MESSAGE: print the reason and the server log tail, exit 1.
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	if [ -s "$LOG" ]; then
		echo "--- server log tail ($LOG)" >&2
		tail -n 40 "$LOG" >&2
		echo "---" >&2
	fi
	exit 1
}

pass() {
	log "ok"
	exit 0
}

_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local p
	for p in "${EXTRA_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		local _
		for _ in $(seq 1 30); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	for p in "${EXTRA_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# Under make check-asan (check-valgrind) a sanitizer (memcheck) report
	# in any server run fails the test.
	local report='AddressSanitizer|LeakSanitizer|runtime error:|^==[0-9]+== '
	if [ -s "$LOG" ] && grep -qE "$report" "$LOG"; then
		echo "FAIL: sanitizer or valgrind report in the server log:" >&2
		grep -m 10 -E -A 12 "$report" "$LOG" >&2
		rc=1
	fi
	if [ "$rc" -eq 0 ] && [ "${KEEP_TMP:-0}" != 1 ]; then
		rm -rf "$T"
	else
		echo "(test files kept in $T)" >&2
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$SIPREG" ] || fail "server binary $SIPREG not found (run 'make all')"

# free_port [host...]: a port free for both UDP and TCP on every host given
# (default 127.0.0.1).  Random in 20000-59999, never 5060.
free_port() {
	"$PY" - "${@:-127.0.0.1}" <<'EOF'
import random, socket, sys
hosts = sys.argv[1:]
for _ in range(200):
    p = random.randint(20000, 59999)
    ok, socks = True, []
    try:
        for h in hosts:
            fam = socket.AF_INET6 if ':' in h else socket.AF_INET
            for typ in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(fam, typ)
                socks.append(s)
                s.bind((h, p))
    except OSError:
        ok = False
    for s in socks:
        s.close()
    if ok:
        print(p)
        sys.exit(0)
sys.exit(1)
EOF
}

# srv_cli ARGS...: run a sipreg sub-command against this test's database.
srv_cli() {
	timeout 20 "$SIPREG" "$@" --db "$DB"
}

# add_user USER PASSWORD [DOMAIN]
add_user() {
	srv_cli user add "$1@${3:-$DOMAIN}" --password "$2" >>"$T/cli.log" 2>&1 ||
		fail "sipreg user add $1@${3:-$DOMAIN} failed: $(tail -n 3 "$T/cli.log")"
}

# bindings [AOR]: print the binding store (sipreg bindings).
bindings() {
	srv_cli bindings "$@" 2>>"$T/cli.log"
}

# start_server [serve options...]: start sipreg on a fresh free port (UDP and
# TCP on 127.0.0.1) with this test's db, wait until it answers OPTIONS.
# LISTEN_EXTRA="--listen udp:[::1]:@PORT@" adds listeners (@PORT@ becomes
# the chosen port); PORT_HOSTS
# lists the hosts the port must be free on (default 127.0.0.1).
start_server() {
	# shellcheck disable=SC2086
	PORT=$(free_port ${PORT_HOSTS:-127.0.0.1}) || fail "no free port"
	export PORT
	SERVER_ARGS=("$@")
	_launch_server
}

# restart_server: start again on the same port, db and options.
restart_server() {
	_launch_server
}

_launch_server() {
	local listen=(--listen "udp:127.0.0.1:$PORT" --listen "tcp:127.0.0.1:$PORT")
	if [ -n "${LISTEN_EXTRA:-}" ]; then
		# shellcheck disable=SC2206
		listen+=(${LISTEN_EXTRA//@PORT@/$PORT})
	fi
	echo "=== $(date +%T) start: $SIPREG serve --db $DB ${listen[*]} --domain $DOMAIN --log-level debug ${SERVER_ARGS[*]}" >>"$LOG"
	"$SIPREG" serve --db "$DB" "${listen[@]}" --domain "$DOMAIN" --log-level debug \
		"${SERVER_ARGS[@]}" >>"$LOG" 2>&1 </dev/null &
	SERVER_PID=$!
	wait_server 127.0.0.1 "$PORT" || fail "server did not answer OPTIONS on udp:127.0.0.1:$PORT within 10 s"
}

# wait_server HOST PORT [udp|tcp]: wait (10 s max) for a 200 to OPTIONS.
wait_server() {
	local _
	for _ in $(seq 1 50); do
		if [ -n "$SERVER_PID" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
			wait "$SERVER_PID" 2>/dev/null
			log "server exited early (status $?)"
			SERVER_PID=""
			return 1
		fi
		if timeout 5 "$PY" "$IT_DIR/sipclient.py" wait "$(_hp "$1" "$2")" -t "${3:-udp}" --timeout 0.6 >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

_hp() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# stop_server [SIGNAL]: stop it (default TERM), wait; returns its exit status.
stop_server() {
	local sig=${1:-TERM} rc _
	[ -n "$SERVER_PID" ] || return 0
	kill -"$sig" "$SERVER_PID" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		log "server did not exit on SIG$sig within 5 s; killing"
		kill -KILL "$SERVER_PID" 2>/dev/null
	fi
	wait "$SERVER_PID" 2>/dev/null
	rc=$?
	SERVER_PID=""
	echo "=== $(date +%T) stopped with SIG$sig, exit status $rc" >>"$LOG"
	return $rc
}

# bg CMD...: start a background helper that the EXIT trap kills.
bg() {
	"$@" &
	EXTRA_PIDS+=($!)
}

# run_sipp SCENARIO.xml [sipp options...]: one call of the scenario against
# the server over UDP (pass -t t1 for TCP), authenticating as alice/secret
# unless -au/-ap/-s are given again later on the command line.  Fails the
# test unless SIPp exits 0.  Output in $T/<scenario>[.N].{out,msg,err}.
SIPP_RUN=0
run_sipp() {
	local scen=$1
	shift
	run_sipp_rc "$scen" "$@"
	local rc=$?
	[ $rc -eq 0 ] || fail "sipp $scen $* exited $rc; see $SIPP_BASE.{out,msg,err}: $(tail -n 15 "$SIPP_BASE.err" 2>/dev/null | tr '\n' ' ' | cut -c1-1200)"
}

# run_sipp_rc: same, but return SIPp's exit status instead of failing.
run_sipp_rc() {
	local scen=$1
	shift
	local lp
	lp=$(free_port) || fail "no free port for sipp"
	SIPP_RUN=$((SIPP_RUN + 1))
	SIPP_BASE="$T/${scen%.xml}.$SIPP_RUN"
	log "sipp $scen $*"
	(cd "$T" && timeout 40 sipp "127.0.0.1:$PORT" -sf "$SCEN/$scen" -i 127.0.0.1 -p "$lp" \
		-m 1 -timeout 20s -timeout_error -recv_timeout 8000 -nostdin \
		-trace_err -error_file "$SIPP_BASE.err" -trace_msg -message_file "$SIPP_BASE.msg" \
		-key domain "$DOMAIN" -key expires 600 -s alice -au alice -ap secret \
		"$@" >"$SIPP_BASE.out" 2>&1)
}

# py [args]: run python3 (script on stdin) with sipclient importable and a
# 90 s bound; PORT, DB, T, SIPREG, DOMAIN are in the environment.
py() {
	timeout "${PY_TIMEOUT:-90}" "$PY" - "$@"
}

# assert_grep PATTERN FILE [MESSAGE]: extended regexp must match in FILE.
assert_grep() {
	grep -Eq -- "$1" "$2" || fail "${3:-expected /$1/ in $2}"
}

assert_no_grep() {
	! grep -Eq -- "$1" "$2" || fail "${3:-did not expect /$1/ in $2}"
}

# wait_for_grep PATTERN FILE SECONDS [PID]: poll until the extended regexp
# matches in FILE; fails early when PID (if given) has exited.
wait_for_grep() {
	local pat=$1 file=$2 secs=$3 pid=${4:-} _
	for _ in $(seq 1 $((secs * 5))); do
		grep -Eq -- "$pat" "$file" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			grep -Eq -- "$pat" "$file" 2>/dev/null && return 0
			return 1
		fi
		sleep 0.2
	done
	return 1
}

# wait_pid PID SECONDS: wait for a background process to exit; 1 on timeout.
wait_pid() {
	local _
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
		sleep 0.1
	done
	return 1
}

# baresip_test udp|tcp: register alice with Debian's baresip (headless: only
# g711 + account modules, no UI/audio modules, -s SIP trace), prove it from
# baresip's own output and the binding store, then SIGTERM it and check
# that it unregistered.  Uses the server's default digest algorithms.
baresip_test() {
	local tr=$1 bport bdir bpid
	bport=$(free_port) || fail "no free port for baresip"
	bdir="$T/baresip-$tr"
	mkdir -p "$bdir"
	cat >"$bdir/config" <<CFG
poll_method		epoll
sip_listen		127.0.0.1:$bport
module_path		/usr/lib/baresip/modules
module			g711.so
module_tmp		account.so
CFG
	echo "<sip:alice@$DOMAIN;transport=$tr>;auth_pass=secret;outbound=\"sip:127.0.0.1:$PORT;transport=$tr\";regint=600" >"$bdir/accounts"
	# bounded by baresip's own -t (not timeout(1): it would signal baresip's
	# process group a second time, and a second SIGTERM makes baresip quit
	# without finishing its unregistration)
	HOME="$bdir" baresip -f "$bdir" -s -t 45 >"$bdir/out.txt" 2>&1 </dev/null &
	bpid=$!
	EXTRA_PIDS+=("$bpid")
	local ok="alice@$DOMAIN: \\{0/${tr^^}/v4\\} 200 OK"
	if ! wait_for_grep "$ok" "$bdir/out.txt" 20 "$bpid"; then
		tail -n 60 "$bdir/out.txt" >&2
		fail "baresip ($tr) did not print a successful registration (/$ok/)"
	fi
	log "baresip ($tr): $(grep -E "$ok" "$bdir/out.txt" | head -n 1 | sed 's/\x1b\[[0-9;]*m//g')"
	# the challenge it saw offered MD5 only (compat rule for User-Agent baresip)
	grep -a -q 'WWW-Authenticate:' "$bdir/out.txt" || fail "baresip trace shows no challenge"
	if grep -a 'WWW-Authenticate:' "$bdir/out.txt" | grep -qi 'SHA-256'; then
		fail "baresip was offered SHA-256; the compat rule should offer MD5 only"
	fi
	bindings alice@"$DOMAIN" >"$bdir/bindings.txt"
	cat "$bdir/bindings.txt" >&2
	grep -Eq "@127\\.0\\.0\\.1:$bport" "$bdir/bindings.txt" ||
		fail "baresip's contact (127.0.0.1:$bport) not in 'sipreg bindings'"
	if [ "$tr" = tcp ]; then
		grep -Eiq "@127\\.0\\.0\\.1:${bport}[^ ]*transport=tcp" "$bdir/bindings.txt" ||
			fail "baresip's TCP contact should carry transport=tcp"
	fi
	# graceful exit unregisters (Expires: 0 / expires=0)
	kill -TERM "$bpid"
	wait_pid "$bpid" 15 || fail "baresip did not exit on SIGTERM"
	bindings alice@"$DOMAIN" >"$bdir/bindings-after.txt"
	if grep -Eq "@127\\.0\\.0\\.1:$bport" "$bdir/bindings-after.txt"; then
		tail -n 40 "$bdir/out.txt" >&2
		fail "baresip's binding still present after it unregistered"
	fi
}

# server_accepts [serve options...]: does the server start and answer with
# these options?  (A throwaway instance on its own port and db; its stderr
# goes to $T/probe.log.)
server_accepts() {
	local p pid ok=1 _
	p=$(free_port) || return 1
	"$SIPREG" serve --db "$T/probe.db" --listen "udp:127.0.0.1:$p" --domain "$DOMAIN" "$@" \
		>>"$T/probe.log" 2>&1 </dev/null &
	pid=$!
	for _ in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		if timeout 5 "$PY" "$IT_DIR/sipclient.py" wait "127.0.0.1:$p" --timeout 0.5 >/dev/null 2>&1; then
			ok=0
			break
		fi
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return $ok
}
