#!/bin/bash
# kill -9 at random moments under concurrent load, 20 rounds: after each
# restart every change acknowledged with a 200 (registration, refresh with
# its new expiry, removal with Expires: 0) is in the store and in the
# server's answers, and a REGISTER that got no answer before the kill was
# applied entirely or not at all.  8 client threads (5 UDP, 3 TCP), 40 AORs
# with 6 contacts each, every contact owned by one thread; REGISTERs name
# one or two contacts.  The model and the checks: crash_rounds.py.
# CRASH_ROUNDS (default 20) and CRASH_SEED (default: random) for replays.
. "$(dirname "$0")/lib.sh"
ROUNDS=${CRASH_ROUNDS:-20}
CRASH_SEED=${CRASH_SEED:-$RANDOM}
export CRASH_SEED
log "seed $CRASH_SEED (CRASH_SEED=$CRASH_SEED to replay the same choices)"
t_start=$(date +%s)

# the load comes from one address at thousands of requests a second: exempt
# it from the per-source rate limit (when the server has one)
opts=()
server_accepts --trusted 127.0.0.1 && opts=(--trusted 127.0.0.1)
start_server "${opts[@]}"
for i in $(seq -w 0 39); do add_user "u$i" "pw$i"; done
crash() { timeout 60 "$PY" "$IT_DIR/crash_rounds.py" "$@"; }
crash init || fail "init"
export SERVER_PID
for n in $(seq 1 "$ROUNDS"); do
	crash round "$n" || fail "round $n"
	stop_server KILL
	restart_server
done
crash check || fail "final check"
log "$ROUNDS rounds in $(($(date +%s) - t_start)) s"
pass
