#!/bin/bash
# run.sh - run sipreg's integration tests: every tests/integration/test_*.sh,
# in name order, each bounded by a timeout.  Prints one PASS/FAIL line per
# test and a summary; exits non-zero if any failed.
#
#   tests/integration/run.sh                 # all tests
#   tests/integration/run.sh baresip sha     # only tests whose name contains a word
#
# Needs build/sipreg (make all) and the Debian packages sip-tester, baresip,
# linphone-cli, sqlite3, python3.  Per-test logs: tests/integration/tmp/logs/.
# Environment: SIPREG=path (server binary), TEST_TIMEOUT=seconds per test
# (default 120), KEEP_TMP=1 (keep every test's temp dir), VERBOSE=1 (print
# every test's output), SKIP_TESTS="word ..." (leave out tests whose name
# contains a word; make check-valgrind uses it for the load tests).
set -u
IT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$IT_DIR/../.." && pwd)
export SIPREG=${SIPREG:-$ROOT/build/sipreg}
TEST_TIMEOUT=${TEST_TIMEOUT:-120}
LOGDIR="$IT_DIR/tmp/logs"
mkdir -p "$LOGDIR"

if [ ! -x "$SIPREG" ]; then
	echo "run.sh: $SIPREG not found; run 'make all' first" >&2
	exit 2
fi
missing=""
for tool in sipp baresip linphonec python3 timeout; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	echo "run.sh: missing tools:$missing (Debian: sip-tester baresip linphone-cli python3)" >&2
	exit 2
fi

pass=0 failn=0 failed=""
start_all=$(date +%s)
for t in "$IT_DIR"/test_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ $# -gt 0 ]; then
		want=0
		for w in "$@"; do case $name in *"$w"*) want=1 ;; esac; done
		[ $want = 1 ] || continue
	fi
	skip=0
	for w in ${SKIP_TESTS:-}; do case $name in *"$w"*) skip=1 ;; esac; done
	if [ $skip = 1 ]; then
		printf 'SKIP %-36s (SKIP_TESTS)\n' "$name"
		continue
	fi
	t0=$(date +%s)
	TEST_NAME=$name timeout -k 5 "$TEST_TIMEOUT" bash "$t" >"$LOGDIR/$name.log" 2>&1 </dev/null
	rc=$?
	dt=$(($(date +%s) - t0))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		printf 'PASS %-36s %3ss\n' "$name" "$dt"
		[ "${VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$LOGDIR/$name.log"
	else
		failn=$((failn + 1))
		failed="$failed $name"
		why=""
		[ $rc -eq 124 ] && why=" (timed out after ${TEST_TIMEOUT}s)"
		printf 'FAIL %-36s %3ss  exit %d%s\n' "$name" "$dt" "$rc" "$why"
		grep -a -m 3 '^FAIL:' "$LOGDIR/$name.log" | sed 's/^/    > /'
		tail -n "${FAIL_LINES:-20}" "$LOGDIR/$name.log" | sed 's/^/    | /'
	fi
done
echo "----"
echo "integration: $((pass + failn)) tests in $(($(date +%s) - start_all))s; logs in $LOGDIR"
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $failn failed"
[ $failn -eq 0 ] && [ $pass -gt 0 ]
