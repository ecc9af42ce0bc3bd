#!/bin/bash
# OPTIONS over UDP and TCP -> 200 with Allow (SIPp and the python client).
. "$(dirname "$0")/lib.sh"
start_server
run_sipp options.xml
run_sipp options.xml -t t1
py <<'PY' || fail "python OPTIONS checks"
from sipclient import *
for tr in ('udp', 'tcp'):
    r = options('127.0.0.1', env_port(), tr)
    expect(r is not None, 'OPTIONS over %s: no response' % tr)
    expect(r.status == 200, 'OPTIONS over %s -> 200' % tr, r)
    allow = ','.join(r.hdrs('allow')).upper().replace(' ', '').split(',')
    expect('REGISTER' in allow and 'OPTIONS' in allow, 'Allow lists REGISTER and OPTIONS', r)
    expect(r.hdr('to') and 'tag=' in r.hdr('to'), 'To of a final response carries a tag', r)
PY
pass
