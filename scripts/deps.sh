#!/bin/sh
# Install the Debian packages sipreg needs to build and test, when missing.
# As root it installs them; otherwise it says what to install and fails.
set -e
# build: what `make run` needs; test: what `make test` needs on top.
BUILD_PKGS="gcc make libsqlite3-dev libinih-dev libssl-dev"
TEST_PKGS="$BUILD_PKGS libcmocka-dev sqlite3 sip-tester baresip linphone-cli clang python3 procps iproute2 sipvicious fail2ban e2fsprogs util-linux"
case "${1:-build}" in
build) PKGS="$BUILD_PKGS" ;;
test) PKGS="$TEST_PKGS" ;;
*) echo "usage: deps.sh build|test" >&2; exit 2 ;;
esac
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "sipreg: missing Debian packages:$missing" >&2
	echo "sipreg: run as root, or: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "sipreg: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
