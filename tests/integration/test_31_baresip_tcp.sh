#!/bin/bash
# Real client: baresip 1.0.0 registers over TCP, then unregisters.
. "$(dirname "$0")/lib.sh"
command -v baresip >/dev/null || fail "baresip not installed (Debian package baresip)"
start_server
add_user alice secret
baresip_test tcp
pass
