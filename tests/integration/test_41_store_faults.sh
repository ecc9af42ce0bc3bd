#!/bin/bash
# Store faults.  At start a store that cannot be used is refused with one
# clear error line naming the file and a non-zero exit: its directory is
# missing, it is read-only (file or directory), corrupt (garbage in the
# file, in a page in its middle, in the WAL's header or frames), or locked by
# another process.  While the server runs, a full disk (RLIMIT_FSIZE), a
# read-only file (chattr +i) or another process holding the write lock make
# every REGISTER that changes bindings fail with 503 + Retry-After (500
# accepted) within a few seconds, never 200; OPTIONS and queries are still
# answered; once the fault clears, REGISTERs succeed again without a
# restart, and after kill -9 exactly the acknowledged changes are there.
# Root or not: read-only at start is tested as an unprivileged user
# (setpriv when root), immutable files with chattr where it works.
. "$(dirname "$0")/lib.sh"

# RLIMIT_FSIZE must make writes fail with EFBIG, not kill: SIGXFSZ stays
# ignored across exec in every process started from here.
trap '' XFSZ
undo_faults() {
	[ -n "${LOCK_DIR:-}" ] && touch "$LOCK_DIR/release" 2>/dev/null
	command -v chattr >/dev/null && chattr -R -i "$T" 2>/dev/null
	chmod -R u+rwX "$T" 2>/dev/null
	return 0
}
trap '_rc=$?; undo_faults; (exit $_rc); _cleanup' EXIT

REAL_SIPREG=$SIPREG
export REAL_SIPREG
sip() { timeout 40 "$PY" "$IT_DIR/faults_sip.py" "$@"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# reg URI EXPIRES: one REGISTER of alice's contact URI (EXPIRES 0 removes
# it); sets R_STATUS (0: no answer), R_SECS, R_RETRY.
reg() {
	local out
	out=$(sip register "$1" "$2") || fail "faults_sip.py register $1 $2 failed"
	read -r R_STATUS R_SECS R_RETRY <<<"$out"
	log "REGISTER <$1> expires=$2 -> $R_STATUS in ${R_SECS}s (Retry-After: $R_RETRY)"
}

# expect_200 WHAT URI EXPIRES
expect_200() {
	reg "$2" "$3"
	[ "$R_STATUS" = 200 ] || fail "$1: REGISTER <$2> expires=$3 answered $R_STATUS, want 200"
}

# expect_refused WHAT URI EXPIRES [MAX_SECONDS]: 503 with Retry-After (or
# 500), and soon: a store fault must not hold the answer.
expect_refused() {
	reg "$2" "$3"
	case $R_STATUS in
	503) [ "$R_RETRY" != - ] || fail "$1: 503 without Retry-After" ;;
	500) ;;
	200) fail "$1: REGISTER <$2> expires=$3 answered 200 while the store cannot write" ;;
	*) fail "$1: REGISTER <$2> expires=$3 answered $R_STATUS, want 503 while the store fails" ;;
	esac
	le "$R_SECS" "${4:-5}" || fail "$1: the refusal took ${R_SECS}s (more than ${4:-5}s)"
}

# still_serving WHAT: OPTIONS and a query are answered promptly; the query's
# contacts are left in $T/query.txt.
still_serving() {
	local st secs
	read -r st secs < <(sip options)
	[ "$st" = 200 ] || fail "$1: OPTIONS answered $st"
	le "$secs" 1.5 || fail "$1: OPTIONS took ${secs}s"
	sip query >"$T/query.out"
	read -r st secs <"$T/query.out"
	[ "$st" = 200 ] || fail "$1: a query (REGISTER without Contact) answered $st"
	le "$secs" 1.5 || fail "$1: a query took ${secs}s"
	tail -n +2 "$T/query.out" >"$T/query.txt"
}

# served WHAT [+URI | -URI]...: OPTIONS and a query are answered promptly,
# and the query lists every +URI and no -URI.
served() {
	local what=$1 u
	shift
	still_serving "$what"
	for u in "$@"; do
		case $u in
		+*) grep -qxF "${u#+}" "$T/query.txt" || fail "$what: the server does not list ${u#+}: $(cat "$T/query.txt")" ;;
		-*) ! grep -qxF "${u#-}" "$T/query.txt" || fail "$what: the server lists ${u#-}, which was refused or removed" ;;
		esac
	done
}

# bound WHAT [+URI | -URI]...: the same, and the store (sipreg bindings)
# agrees.
bound() {
	local what=$1 u
	served "$@"
	shift
	bindings >"$T/store.txt" || fail "$what: sipreg bindings failed: $(tail -n 2 "$T/cli.log")"
	for u in "$@"; do
		case $u in
		+*) grep -qF "<${u#+}>" "$T/store.txt" || fail "$what: the store lacks ${u#+}: $(cat "$T/store.txt")" ;;
		-*) ! grep -qF "<${u#-}>" "$T/store.txt" || fail "$what: the store holds ${u#-}, which was refused or removed" ;;
		esac
	done
}

# start_fails WHAT REGEX DBPATH [COMMAND PREFIX...]: 'sipreg serve' on DBPATH
# must exit non-zero within 10 s with exactly one error line, matching REGEX.
NSTART=0
start_fails() {
	local what=$1 re=$2 db=$3 p out rc t0 n
	shift 3
	NSTART=$((NSTART + 1))
	out="$T/start.$NSTART.log"
	p=$(free_port) || fail "no free port"
	t0=$(date +%s)
	# through a pipe: under a file size limit the server could not write a file
	timeout 10 "$@" "$SIPREG" serve --db "$db" --listen "udp:127.0.0.1:$p" --domain "$DOMAIN" \
		2>&1 </dev/null | cat >"$out"
	rc=${PIPESTATUS[0]}
	{ echo "=== $what: serve --db $db (${*:-as $(id -un)}): exit $rc"; cat "$out"; } >>"$LOG"
	[ $rc -ne 124 ] || fail "$what: the server started (it was killed after 10 s); want a refusal"
	[ $rc -ne 0 ] || fail "$what: the server exited 0; want a non-zero status"
	n=$(grep -c ' error: ' "$out")
	[ "$n" -eq 1 ] || fail "$what: want exactly one error line, got $n: $(cat "$out")"
	grep ' error: ' "$out" | grep -Eq -- "$re" ||
		fail "$what: the error does not match /$re/: $(grep ' error: ' "$out")"
	log "$what: refused in $(($(date +%s) - t0)) s: $(grep ' error: ' "$out" | sed 's/^.* error: //')"
}

# hold_lock / release_lock: another process holds SQLite's write lock on
# $DB (BEGIN EXCLUSIVE from python's sqlite3) until released.
hold_lock() {
	LOCK_DIR=$(mktemp -d "$T/lock.XXXX")
	bg "$PY" "$IT_DIR/faults_sip.py" lock "$DB" "$LOCK_DIR"
	LOCK_PID=$!
	for _ in $(seq 100); do
		[ -e "$LOCK_DIR/locked" ] && return 0
		kill -0 "$LOCK_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "the lock holder did not take the lock on $DB"
}
release_lock() {
	touch "$LOCK_DIR/release"
	wait_pid "$LOCK_PID" 10 || fail "the lock holder did not let go"
	LOCK_DIR=""
}

# use_db DIR: the next start_server/bindings use DIR/sipreg.db
use_db() {
	mkdir -p "$T/$1"
	DB="$T/$1/sipreg.db"
	export DB
}

# start under a user who cannot override file permissions
AS_USER=()
if [ "$(id -u)" -eq 0 ]; then
	if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
		AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
fi
# chattr +i works here (root with CAP_LINUX_IMMUTABLE, on a file system
# that has the flag) and it stops writes?
CHATTR=0
touch "$T/probe"
if chattr +i "$T/probe" 2>/dev/null; then
	if ! (echo x >>"$T/probe") 2>/dev/null; then CHATTR=1; fi
	chattr -i "$T/probe"
fi
rm -f "$T/probe"
opts=()
server_accepts --trusted 127.0.0.1 && opts=(--trusted 127.0.0.1)

# ---------------------------------------------------------------- missing
start_fails "missing directory" "$T/no/such/dir/sipreg\\.db" "$T/no/such/dir/sipreg.db"
[ ! -e "$T/no" ] || fail "missing directory: the server created it"
# a missing file in an existing directory is a first start: created
use_db first
start_server "${opts[@]}"
[ -s "$DB" ] || fail "first start: $DB not created"
add_user alice secret
expect_200 "first start" sip:alice@127.0.0.1:7001 600
stop_server || fail "first start: the server did not stop cleanly"

# ---------------------------------------------------------------- corrupt
use_db corrupt
head -c 16384 /dev/urandom >"$DB"
start_fails "garbage db file" "$DB.*(corrupt|not a database)" "$DB"
# garbage in one page in the middle of a good file: the expires index's root
rm -f "$DB"
srv_cli user add alice@example.com --password secret >/dev/null || fail "user add"
sqlite3 "$DB" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 3000)
	INSERT INTO bindings SELECT x, 'u' || (x % 300) || '@example.com',
	'<sip:u' || x || '@127.0.0.1:5060>', 'cid' || x, 1, strftime('%s','now') + 3600,
	strftime('%s','now'), 'udp:127.0.0.1:5060', '' FROM c;" || fail "sqlite3 insert"
root=$(sqlite3 "$DB" "SELECT rootpage FROM sqlite_master WHERE name = 'bindings_expires'")
psz=$(sqlite3 "$DB" "PRAGMA page_size")
cp "$DB" "$T/corrupt/good.db"
head -c "$psz" /dev/urandom | dd of="$DB" bs="$psz" seek=$((root - 1)) conv=notrunc status=none
start_fails "garbage in an index page" "$DB.*corrupt" "$DB"
# ... or in a page of the bindings table
cp "$T/corrupt/good.db" "$DB"
root=$(sqlite3 "$DB" "SELECT rootpage FROM sqlite_master WHERE name = 'bindings'")
head -c "$psz" /dev/urandom | dd of="$DB" bs="$psz" seek=$((root - 1)) conv=notrunc status=none
start_fails "garbage in a table page" "$DB.*corrupt" "$DB"

# the WAL: acknowledged registrations that only the WAL holds after kill -9
use_db wal
start_server "${opts[@]}"
add_user alice secret
for i in 1 2 3 4 5 6; do expect_200 "wal" "sip:alice@127.0.0.1:750$i" 600; done
stop_server KILL
read -r nframes ncommits psz < <(sip wal-frames "$DB")
log "wal: $DB-wal holds $nframes frames, $ncommits commits (pages of $psz bytes)"
[ "$ncommits" -ge 6 ] || fail "wal: expected the 6 commits in the WAL, found $ncommits"
cp "$DB-wal" "$T/wal/good.wal"
# a header of garbage: SQLite would ignore the whole WAL
head -c 32 /dev/urandom | dd of="$DB-wal" conv=notrunc status=none
cp "$DB-wal" "$T/wal/bad.wal"
start_fails "garbage WAL header" "$DB-wal" "$DB"
cmp -s "$DB-wal" "$T/wal/bad.wal" || fail "garbage WAL header: the refused WAL was changed"
# garbage in the second frame: SQLite would drop it and every later commit
cp "$T/wal/good.wal" "$DB-wal"
head -c 1000 /dev/urandom | dd of="$DB-wal" bs=1 seek=$((32 + (24 + psz) + 24 + 200)) conv=notrunc status=none
cp "$DB-wal" "$T/wal/bad.wal"
start_fails "garbage in a WAL frame" "$DB-wal" "$DB"
cmp -s "$DB-wal" "$T/wal/bad.wal" || fail "garbage in a WAL frame: the refused WAL was changed"
# refused, not lost: with the WAL put back, everything is there
cp "$T/wal/good.wal" "$DB-wal"
# and garbage in the shared-memory index is harmless: it is rebuilt
[ -e "$DB-shm" ] && head -c 32768 /dev/urandom | dd of="$DB-shm" conv=notrunc status=none
restart_server
bound "wal restored" +sip:alice@127.0.0.1:7501 +sip:alice@127.0.0.1:7506
stop_server || fail "wal: the server did not stop cleanly"

# ---------------------------------------------------------------- full
# started under a file size limit: the WAL soon cannot grow.  Soft limits
# only: raising a hard one back would need CAP_SYS_RESOURCE.
use_db full
srv_cli user add alice@example.com --password secret >/dev/null || fail "user add"
cat >"$T/under-limit.sh" <<'SH'
#!/bin/bash
exec prlimit --fsize="$FSIZE": -- "$REAL_SIPREG" "$@"
SH
chmod +x "$T/under-limit.sh"
# nothing can be written at all (not even the -shm index): refused at start
start_fails "full at start" "$DB.*(File too large|full)" "$DB" prlimit --fsize=1:
export FSIZE=40960
SIPREG="$T/under-limit.sh" start_server "${opts[@]}"
acked=() refused=()
for i in $(seq 10 40); do
	reg "sip:alice@127.0.0.1:71$i" 600
	case $R_STATUS in
	200) acked+=("+sip:alice@127.0.0.1:71$i") ;;
	503 | 500) refused+=("-sip:alice@127.0.0.1:71$i"); break ;;
	*) fail "full: REGISTER answered $R_STATUS" ;;
	esac
done
[ ${#refused[@]} -eq 1 ] || fail "full: 31 REGISTERs under a 40 KiB file size limit all succeeded"
log "full: ${#acked[@]} REGISTERs fitted under the limit, then 503"
expect_refused "full" sip:alice@127.0.0.1:7199 600
if [ ${#acked[@]} -gt 0 ]; then
	expect_refused "full (removal)" "${acked[0]#+}" 0
	expect_refused "full (remove all)" '*' 0
fi
served "full" "${acked[@]}" "${refused[@]}" -sip:alice@127.0.0.1:7199
kill -0 "$SERVER_PID" 2>/dev/null || fail "full: the server died"
# killed during the fault: the refused commits left partial frames in the
# WAL, none of them comes back; started again under the same limit
stop_server KILL
SIPREG="$T/under-limit.sh" restart_server
bound "full, kill -9 during the fault" "${acked[@]}" "${refused[@]}" -sip:alice@127.0.0.1:7199
# the disk has space again: the same server, the same connection
prlimit --pid "$SERVER_PID" --fsize=unlimited: || fail "prlimit --pid failed"
expect_200 "full, space back" sip:alice@127.0.0.1:7198 600
stop_server KILL
SIPREG=$REAL_SIPREG restart_server
bound "full, after kill -9" "${acked[@]}" "${refused[@]}" -sip:alice@127.0.0.1:7199 +sip:alice@127.0.0.1:7198

# full while running: nothing at all can be written any more
prlimit --pid "$SERVER_PID" --fsize=1: || fail "prlimit --pid failed"
expect_refused "full at run time" sip:alice@127.0.0.1:7201 600
expect_refused "full at run time (removal)" sip:alice@127.0.0.1:7198 0
expect_refused "full at run time (remove all)" '*' 0
served "full at run time" +sip:alice@127.0.0.1:7198 -sip:alice@127.0.0.1:7201
kill -0 "$SERVER_PID" 2>/dev/null || fail "full at run time: the server died"
prlimit --pid "$SERVER_PID" --fsize=unlimited: || fail "prlimit --pid failed"
expect_200 "full at run time, space back" sip:alice@127.0.0.1:7202 600
stop_server KILL
restart_server
bound "full at run time, after kill -9" -sip:alice@127.0.0.1:7201 +sip:alice@127.0.0.1:7198 \
	+sip:alice@127.0.0.1:7202
stop_server || fail "full: the server did not stop cleanly"

# ---------------------------------------------------------------- locked
use_db locked
start_server "${opts[@]}"
add_user alice secret
expect_200 "locked" sip:alice@127.0.0.1:7301 600
hold_lock
# REGISTERs wait for the lock (one batch after another, each bounded by
# the busy timeout); meanwhile OPTIONS and queries go on
pids=()
for i in 1 2 3 4; do
	sip register "sip:alice@127.0.0.1:731$i" 600 >"$T/bgreg.$i" &
	pids+=($!)
	sleep 0.2
done
served "locked, REGISTERs waiting" +sip:alice@127.0.0.1:7301
wait "${pids[@]}"
for i in 1 2 3 4; do
	read -r R_STATUS R_SECS R_RETRY <"$T/bgreg.$i"
	log "locked: REGISTER <sip:alice@127.0.0.1:731$i> answered $R_STATUS in ${R_SECS}s (Retry-After: $R_RETRY)"
	[ "$R_STATUS" = 503 ] || [ "$R_STATUS" = 500 ] || fail "locked: REGISTER answered $R_STATUS, want 503"
	le "$R_SECS" 6 || fail "locked: REGISTER answered after ${R_SECS}s"
done
expect_refused "locked (removal)" sip:alice@127.0.0.1:7301 0
expect_refused "locked (remove all)" '*' 0
served "locked" +sip:alice@127.0.0.1:7301 -sip:alice@127.0.0.1:7311 -sip:alice@127.0.0.1:7314
release_lock
expect_200 "lock released" sip:alice@127.0.0.1:7303 600
stop_server KILL
restart_server
bound "locked, after kill -9" +sip:alice@127.0.0.1:7301 -sip:alice@127.0.0.1:7311 \
	-sip:alice@127.0.0.1:7312 -sip:alice@127.0.0.1:7313 -sip:alice@127.0.0.1:7314 \
	+sip:alice@127.0.0.1:7303
stop_server || fail "locked: the server did not stop cleanly"
# locked at start: refused after the busy timeout, starts once released
hold_lock
start_fails "locked at start" "$DB.*locked" "$DB"
release_lock
restart_server
bound "locked at start, released" +sip:alice@127.0.0.1:7301 +sip:alice@127.0.0.1:7303
stop_server || fail "locked: the server did not stop cleanly"

# ---------------------------------------------------------------- read-only
use_db ro
srv_cli user add alice@example.com --password secret >/dev/null || fail "user add"
chmod 755 "$T"
[ "$(id -u)" -ne 0 ] || chown -R 65534:65534 "$T/ro"
if [ "$(id -u)" -eq 0 ] && [ ${#AS_USER[@]} -eq 0 ]; then
	log "read-only as an unprivileged user: skipped (root without a working setpriv)"
elif ! "${AS_USER[@]}" test -w "$DB" || ! "${AS_USER[@]}" test -x "$SIPREG"; then
	log "read-only as an unprivileged user: skipped (the user cannot reach $DB or $SIPREG)"
else
	chmod 444 "$DB"
	start_fails "read-only file" "$DB.*read-only" "$DB" "${AS_USER[@]}"
	chmod 644 "$DB"
	chmod 555 "$T/ro"
	start_fails "read-only directory" "$DB.*(read-only|not writable|ermission denied)" "$DB" "${AS_USER[@]}"
	chmod 755 "$T/ro"
fi
chown -R "$(id -u):$(id -g)" "$T/ro"
if [ $CHATTR = 1 ]; then
	chattr +i "$DB"
	start_fails "immutable file" "$DB.*read-only" "$DB"
	chattr -i "$DB"
	chattr +i "$T/ro"
	start_fails "immutable directory" "$DB.*(read-only|not writable|ermitted)" "$DB"
	chattr -i "$T/ro"
	# read-only while running
	start_server "${opts[@]}"
	expect_200 "read-only" sip:alice@127.0.0.1:7401 600
	chattr +i "$DB" "$DB-wal"
	expect_refused "read-only at run time" sip:alice@127.0.0.1:7402 600
	expect_refused "read-only at run time (removal)" sip:alice@127.0.0.1:7401 0
	expect_refused "read-only at run time (remove all)" '*' 0
	served "read-only at run time" +sip:alice@127.0.0.1:7401 -sip:alice@127.0.0.1:7402
	chattr -i "$DB" "$DB-wal"
	expect_200 "writable again" sip:alice@127.0.0.1:7403 600
	stop_server KILL
	restart_server
	bound "read-only, after kill -9" +sip:alice@127.0.0.1:7401 -sip:alice@127.0.0.1:7402 \
		+sip:alice@127.0.0.1:7403
	stop_server || fail "read-only: the server did not stop cleanly"
else
	log "immutable files (chattr +i): skipped, not supported here"
fi
pass
