#!/bin/bash
# Refresh on the same Call-ID with a higher CSeq updates the expiry, one binding.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
run_sipp refresh.xml
bindings >"$T/b.txt"
[ "$(grep -c 'sip:alice@127.0.0.1' "$T/b.txt")" -eq 1 ] || fail "refresh must not duplicate the binding: $(cat "$T/b.txt")"
assert_grep 'expires=(11[89][0-9]|1200)' "$T/b.txt" "refreshed binding should expire in ~1200 s"
pass
