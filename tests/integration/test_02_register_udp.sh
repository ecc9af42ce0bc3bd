#!/bin/bash
# SIPp REGISTER over UDP: 401 challenge, authenticated 200 listing the contact
# with expires; the binding is in the store.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
run_sipp register.xml
bindings >"$T/b.txt"
cat "$T/b.txt" >&2
assert_grep 'alice@example\.com.*sip:alice@127\.0\.0\.1:[0-9]+.*expires=(5[89][0-9]|600)' "$T/b.txt" \
	"sipreg bindings should list alice's contact with expires ~600"
[ "$(grep -c 'sip:alice@127.0.0.1' "$T/b.txt")" -eq 1 ] || fail "exactly one binding expected"
bindings alice@example.com | grep -q 'sip:alice@127.0.0.1' || fail "'bindings alice@example.com' should list it"
bindings sip:alice@example.com | grep -q 'sip:alice@127.0.0.1' || fail "'bindings sip:alice@example.com' should list it"
pass
