#!/bin/bash
# The SIPp flows over TCP (-t t1): register, refresh, query, remove.  Every
# SIPp run uses a new TCP source port, hence a new contact: clear alice's
# bindings between runs so each scenario sees only its own contact.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
clear_alice() {
	timeout 20 "$PY" "$IT_DIR/sipclient.py" unregister "127.0.0.1:$PORT" -t tcp >>"$T/clear.log" 2>&1 ||
		fail "Contact: * removal over TCP failed: $(tail -n 3 "$T/clear.log")"
}
run_sipp register.xml -t t1
bindings | grep -Eq 'sip:alice@127\.0\.0\.1:[0-9]+;transport=(tcp|TCP)' || fail "TCP binding missing: $(bindings)"
clear_alice
run_sipp refresh.xml -t t1
clear_alice
run_sipp query.xml -t t1
clear_alice
run_sipp remove.xml -t t1
bindings | grep -q 'alice@' && fail "bindings left: $(bindings)"
pass
