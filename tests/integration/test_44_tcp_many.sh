#!/bin/bash
# Many TCP connections, per-source and total limits, slow senders
# (attack_tcp.py does the work and prints the figures).
#
# A. Default protections: 10,000 idle connections from 127.0.0.2..127.0.0.20
#    (~527 each, under the per-source limit of 1024).  The server's VmRSS and
#    descriptors before, with them open, after closing; a sample of them is
#    really served (OPTIONS); a client on 127.0.0.1 registers over TCP and
#    UDP meanwhile.  Idle connections hold no buffers: RSS must grow by at
#    most 2 KiB per connection.  Then 1,000 connections that each send 15,000
#    bytes of an unfinished message and stop: what a slow sender costs (its
#    partial message is kept, up to --max-message-size).
# B. --tcp-max-per-source 20: 20 connections from 127.0.0.2 stay, the 21st
#    is closed at once, 127.0.0.3 still connects and registers, closing one
#    of the 20 makes room for one.  Meanwhile (--tcp-idle-timeout 16) a
#    slowloris dribbling a REGISTER a byte every 0.5 s must be closed after
#    the 10 s header timeout; so is a connection that sends half a header
#    and goes silent (it must not keep its buffer until the idle timeout).
# C. --tcp-max-connections 200 with --workers 1 (the limit is shared by the
#    workers, but each makes room only among its own connections: one
#    worker makes "which one is closed" exact).  A connection carrying a
#    binding plus 199 idle ones fill it; a 201st is closed at once (nothing
#    has been quiet for 10 s); after 11 s of quiet a new client connects and
#    registers, and the connection closed to make room is the least recently
#    active idle one, not the older one that carries a binding.
. "$(dirname "$0")/lib.sh"
N=10000
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((N + 500)) ] ||
	fail "open-file limit $(ulimit -n) (hard $(ulimit -Hn)) is too low for $N connections"
for u in alice bob carol; do add_user "$u" secret; done

tcp_attack() { # mode args...
	local mode=$1
	shift
	timeout 60 "$PY" "$IT_DIR/attack_tcp.py" "$mode" 127.0.0.1 "$PORT" "$SERVER_PID" "$@" \
		--out "$T/$mode.json" >"$T/$mode.out" 2>&1
}

# A. 10,000 idle connections
start_server --log-level info
tcp_attack many --n "$N" --max-bytes-per-conn 2048 --partial-n 1000 --partial-bytes 15000
rc=$?
cat "$T/many.out"
[ $rc -eq 0 ] || fail "many connections: $(grep 'CHECK FAILED' "$T/many.out" | head -n 3)"
kill -0 "$SERVER_PID" || fail "server died"
stop_server || fail "SIGTERM: non-zero exit status"

# B. per-source limit; slowloris at the same time (other sources)
start_server --log-level info --tcp-max-per-source 20 --tcp-idle-timeout 16
tcp_attack slow --header-timeout 10 --idle-timeout 16 --max-seconds 20 &
slow_pid=$!
EXTRA_PIDS+=("$slow_pid")
tcp_attack persource --limit 20
rc=$?
cat "$T/persource.out"
[ $rc -eq 0 ] || fail "per-source limit: $(grep 'CHECK FAILED' "$T/persource.out" | head -n 3)"
assert_grep 'guard: refused a TCP connection from 127\.0\.0\.2 \(banned, or 20 open\)' "$LOG"
wait "$slow_pid"
rc=$?
cat "$T/slow.out"
[ $rc -eq 0 ] || fail "slow senders: $(grep 'CHECK FAILED' "$T/slow.out" | head -n 3)"
assert_grep 'tcp: closing a connection that took over 10s to send one message' "$LOG"
stop_server || fail "SIGTERM: non-zero exit status"

# C. total limit and eviction of the longest-quiet idle connection
start_server --log-level info --workers 1 --tcp-max-connections 200
tcp_attack evict --limit 200
rc=$?
cat "$T/evict.out"
[ $rc -eq 0 ] || fail "total limit / eviction: $(grep 'CHECK FAILED' "$T/evict.out" | head -n 3)"
assert_grep 'tcp: connection refused: the limit of 200 connections is reached' "$LOG"
grep -E 'warn|error' "$LOG" | sed 's/^/    log: /'
pass
