#!/bin/sh
# bench/run.sh [--quick] - the sipreg benchmark (`make bench`); never part of `make test`.
#
# Installs what it needs from Debian when missing (as root), builds
# build/bench/sipreg, and runs bench/bench.py: sipreg against Kamailio
# (memory and write-through SQLite) over UDP and TCP, instructions per
# registration under callgrind, a perf profile, and sipreg with up to a
# million bindings.  Full run ~20 min -> docs/BENCHMARKS.md and
# docs/benchmarks/*.png; --quick < 3 min -> bench/out/quick/BENCHMARKS-quick.md.
# Loopback only; every process started is stopped on exit (trap, by PID).
set -eu
cd "$(dirname "$0")/.."

PKGS="sip-tester kamailio kamailio-sqlite-modules gnuplot-nox valgrind sqlite3 python3 procps util-linux
      gcc make libsqlite3-dev libinih-dev libssl-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: missing Debian packages:$missing (run as root, or: sudo apt-get install -y$missing)" >&2
		exit 1
	fi
	echo "bench: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# perf is optional: the profile section says so when it is missing.
if ! command -v perf >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null 2>&1 || true
fi
# Debian's kamailio package may start its service; this benchmark wants none running on its ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kamailio 2>/dev/null; then
	echo "bench: note: a system kamailio service is running (it does not use the benchmark's ports 25060-25080)" >&2
fi

make --no-print-directory BUILD=build/bench all >/dev/null

child=""
cleanup() {
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null || true   # bench.py stops everything it started
		wait "$child" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

/usr/bin/python3 bench/bench.py "$@" &
child=$!
rc=0
wait "$child" || rc=$?
child=""
exit $rc
