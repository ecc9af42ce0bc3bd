#!/bin/bash
# Expires: 0 removes the binding.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
run_sipp remove.xml
bindings >"$T/b.txt"
assert_no_grep 'sip:alice@127\.0\.0\.1' "$T/b.txt" "binding should be gone after Expires: 0"
pass
