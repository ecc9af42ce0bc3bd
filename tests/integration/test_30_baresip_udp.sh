#!/bin/bash
# Real client: baresip 1.0.0 registers over UDP with the server defaults
# (it is offered MD5 only, by the User-Agent compat rule), then unregisters.
. "$(dirname "$0")/lib.sh"
command -v baresip >/dev/null || fail "baresip not installed (Debian package baresip)"
start_server
add_user alice secret
baresip_test udp
pass
