#!/usr/bin/env bash
# fuzz/run.sh - build and run every libFuzzer target for a while.
#
#   fuzz/run.sh [SECONDS]              each target SECONDS (default 60)
#   fuzz/run.sh --regressions          replay fuzz/regressions/* once
#   fuzz/run.sh --merge                shrink the working corpora to what
#                                      still adds coverage
#
# Each target runs over its committed seeds (fuzz/corpus/<target>/, read
# only) plus a working corpus build/fuzz/corpus-<target>/ that keeps what
# libFuzzer finds between runs.  Crashes, leaks, timeouts and UBSan
# reports are left in build/fuzz/<target>-crash-<sha1> (or -leak-, -timeout-,
# -oom-); the log is build/fuzz/<target>.log.  Prints one line per target
# with executions and coverage (cov/ft of libFuzzer's final stats line) and
# exits non-zero if any target failed.
#
# Environment: FUZZ_TARGETS (default: all fuzz/fuzz_*.c), FUZZ_JOBS (targets
# run at once, default 1), FUZZ_ARGS (extra libFuzzer flags), FUZZ_BUILD
# (build/fuzz), FUZZ_NO_BUILD=1 to skip the build step.
set -uo pipefail

cd "$(dirname "$0")/.."
OUT=${FUZZ_BUILD:-build/fuzz}
JOBS=${FUZZ_JOBS:-1}
MODE=run
SECONDS_EACH=60
case "${1:-}" in
	--regressions) MODE=regress ;;
	--merge) MODE=merge ;;
	"") ;;
	*[!0-9]*) echo "usage: $0 [SECONDS] | --regressions | --merge" >&2; exit 2 ;;
	*) SECONDS_EACH=$1 ;;
esac

if [ -n "${FUZZ_TARGETS:-}" ]; then
	read -r -a TARGETS <<<"$FUZZ_TARGETS"
else
	TARGETS=()
	for f in fuzz/fuzz_*.c; do TARGETS+=("$(basename "$f" .c)"); done
fi

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
	FUZZ_BUILD=$OUT fuzz/build.sh "${TARGETS[@]}" || exit 2
fi

# Per-target input size bound: big enough for the parser's limits
# (128 headers, 64 Contacts, 32 auth params) without slowing mutation.
max_len() {
	case "$1" in
		fuzz_msg) echo 16384 ;;
		fuzz_register) echo 8192 ;;
		fuzz_auth) echo 4096 ;;
		*) echo 2048 ;;
	esac
}

if [ "$MODE" = regress ]; then
	fail=0
	for t in "${TARGETS[@]}"; do
		shopt -s nullglob
		files=(fuzz/regressions/"$t"-*)
		shopt -u nullglob
		[ ${#files[@]} -gt 0 ] || continue
		for f in "${files[@]}"; do
			if "$OUT/$t" -runs=1 "$f" >"$OUT/regress.log" 2>&1; then
				printf '%-14s ok    %s\n' "$t" "$f"
			else
				printf '%-14s FAIL  %s\n' "$t" "$f"
				grep -m3 -E 'ERROR|FUZZ_CHECK|runtime error' "$OUT/regress.log" | sed 's/^/    /'
				fail=1
			fi
		done
	done
	exit $fail
fi

if [ "$MODE" = merge ]; then
	for t in "${TARGETS[@]}"; do
		work="$OUT/corpus-$t"
		[ -d "$work" ] || continue
		rm -rf "$work.new"
		mkdir -p "$work.new"
		if "$OUT/$t" -merge=1 -max_len="$(max_len "$t")" "$work.new" "$work" >"$OUT/$t.merge.log" 2>&1; then
			printf '%-14s %6d -> %d files\n' "$t" "$(ls "$work" | wc -l)" "$(ls "$work.new" | wc -l)"
			rm -rf "$work" && mv "$work.new" "$work"
		else
			echo "$t: merge failed, see $OUT/$t.merge.log" >&2
			rm -rf "$work.new"
		fi
	done
	exit 0
fi

run_one() {
	local t=$1 work="$OUT/corpus-$1" log="$OUT/$1.log" dict=()

	mkdir -p "$work"
	[ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
	# shellcheck disable=SC2086
	"$OUT/$t" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$OUT/$t-" "${dict[@]}" ${FUZZ_ARGS:-} \
		"$work" "fuzz/corpus/$t" >"$log" 2>&1
	echo $? >"$OUT/$t.rc"
}

summary() {
	local t=$1 rc execs stats cov ft art
	rc=$(cat "$OUT/$t.rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log" | tail -1)
	stats=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$OUT/$t.log" | tail -1)
	cov=$(sed -E 's/.*cov: ([0-9]+).*/\1/' <<<"$stats")
	ft=$(sed -E 's/.*ft: ([0-9]+).*/\1/' <<<"$stats")
	if [ "$rc" = 0 ]; then
		printf '%-14s ok     execs %-10s cov %-6s ft %-6s (%ss)\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$SECONDS_EACH"
	else
		art=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$OUT/$t.log" | tail -1)
		printf '%-14s FAILED execs %-10s cov %-6s ft %-6s rc %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$rc"
		printf '    artifact: %s\n    log:      %s\n' "${art:-none}" "$OUT/$t.log"
		grep -m4 -E '^==[0-9]+==ERROR|^SUMMARY|FUZZ_CHECK failed|runtime error' "$OUT/$t.log" | sed 's/^/    /'
	fi
	[ "$rc" = 0 ]
}

echo "fuzz: ${#TARGETS[@]} target(s), ${SECONDS_EACH}s each, $JOBS at a time"
running=0
for t in "${TARGETS[@]}"; do
	rm -f "$OUT/$t.rc"
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

fail=0
for t in "${TARGETS[@]}"; do
	summary "$t" || fail=1
done
exit $fail
