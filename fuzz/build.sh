#!/usr/bin/env bash
# fuzz/build.sh - build the libFuzzer targets into build/fuzz/<target>.
#
#   fuzz/build.sh [target ...]     (default: every fuzz/fuzz_*.c)
#
# The sources under src/ (all but src/core/main.c) are compiled once with
# ASan + UBSan and libFuzzer's coverage instrumentation, then linked with
# each harness.  UBSan does not recover: any report aborts, so libFuzzer
# keeps the input as a crash.  Environment: CC (clang), FUZZ_BUILD
# (build/fuzz), FUZZ_CFLAGS (extra flags), JOBS (parallel compiles).
set -euo pipefail

cd "$(dirname "$0")/.."
CC=${CC:-clang}
OUT=${FUZZ_BUILD:-build/fuzz}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

BASE="-g -O1 -std=c17 -D_GNU_SOURCE -Isrc -pthread -fno-omit-frame-pointer \
 -fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter ${FUZZ_CFLAGS:-}"
SAN_LIB="-fsanitize=fuzzer-no-link,address,undefined"
SAN_BIN="-fsanitize=fuzzer,address,undefined"
LIBS="-lsqlite3 -linih -lcrypto -pthread"

if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	TARGETS=()
	for f in fuzz/fuzz_*.c; do TARGETS+=("$(basename "$f" .c)"); done
fi

mkdir -p "$OUT/obj"

# Library objects: rebuilt when the source or any src/ header is newer.
mapfile -t SRCS < <(find src -name '*.c' ! -path src/core/main.c | sort)
newest_hdr=$(find src -name '*.h' -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2)
stale=()
OBJS=()
for s in "${SRCS[@]}"; do
	o="$OUT/obj/${s//\//_}"
	o="${o%.c}.o"
	OBJS+=("$o")
	if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$newest_hdr" -nt "$o" ] || [ "$0" -nt "$o" ]; then
		stale+=("$s")
	fi
done
if [ ${#stale[@]} -gt 0 ]; then
	echo "fuzz: compiling ${#stale[@]} source file(s) with $CC"
	printf '%s\n' "${stale[@]}" | xargs -P "$JOBS" -I{} sh -c \
		'o="$1/obj/$(echo "$2" | tr / _)"; o="${o%.c}.o"; '"$CC $BASE $SAN_LIB"' -c "$2" -o "$o"' \
		sh "$OUT" {}
fi
rm -f "$OUT/libsipreg-fuzz.a"
ar rcs "$OUT/libsipreg-fuzz.a" "${OBJS[@]}"

for t in "${TARGETS[@]}"; do
	src="fuzz/$t.c"
	[ -f "$src" ] || { echo "fuzz: no such target: $t" >&2; exit 2; }
	echo "fuzz: linking $OUT/$t"
	# shellcheck disable=SC2086
	$CC $BASE $SAN_BIN -Ifuzz "$src" "$OUT/libsipreg-fuzz.a" $LIBS -o "$OUT/$t"
done
