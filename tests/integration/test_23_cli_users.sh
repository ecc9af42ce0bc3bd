#!/bin/bash
# User management while the server runs (add with the password on stdin,
# passwd, del), 'bindings' filtering, and a clean exit on SIGTERM.
. "$(dirname "$0")/lib.sh"
start_server
add_user alice secret
printf 'pw one\n' | srv_cli user add dave@example.com >>"$T/cli.log" 2>&1 || fail "user add with password on stdin failed"
srv_cli user list >"$T/users.txt" 2>>"$T/cli.log" || fail "user list failed"
assert_grep 'alice@example\.com' "$T/users.txt" "user list shows alice"
assert_grep 'dave@example\.com' "$T/users.txt" "user list shows dave"
if srv_cli user add not-an-aor --password x >>"$T/cli.log" 2>&1; then fail "user add without @domain should fail"; fi
if timeout 10 "$SIPREG" no-such-command >>"$T/cli.log" 2>&1; then fail "unknown sub-command should exit non-zero"; fi
reg() { # user password -> prints status
	timeout 20 "$PY" "$IT_DIR/sipclient.py" register "127.0.0.1:$PORT" -u "$1" -p "$2" -c "sip:$1@127.0.0.1:${3:-6901}" -e 600 | head -n 1
}
[ "$(reg dave 'pw one')" = "status 200 OK" ] || fail "dave (added while running, password from stdin) cannot register: $(reg dave 'pw one')"
srv_cli user passwd dave@example.com --password 'pw two' >>"$T/cli.log" 2>&1 || fail "user passwd failed"
case "$(reg dave 'pw one' 6902)" in "status 200"*) fail "old password still accepted after passwd" ;; esac
[ "$(reg dave 'pw two' 6903)" = "status 200 OK" ] || fail "new password refused after passwd"
printf 'pw three\n' | srv_cli user passwd dave@example.com >>"$T/cli.log" 2>&1 || fail "user passwd from stdin failed"
[ "$(reg dave 'pw three' 6904)" = "status 200 OK" ] || fail "password from stdin (passwd) refused"
[ "$(reg alice secret 6905)" = "status 200 OK" ] || fail "alice cannot register"
bindings dave@example.com >"$T/b.txt"
assert_grep 'sip:dave@127\.0\.0\.1:6901' "$T/b.txt" "bindings dave@example.com lists dave"
assert_no_grep 'alice' "$T/b.txt" "bindings dave@example.com must not list alice"
srv_cli user del dave@example.com >>"$T/cli.log" 2>&1 || fail "user del failed"
srv_cli user list >"$T/users.txt" 2>>"$T/cli.log"
assert_no_grep 'dave@' "$T/users.txt" "dave deleted"
case "$(reg dave 'pw three' 6906)" in "status 200"*) fail "deleted user still registers" ;; esac
stop_server TERM
rc=$?
[ $rc -eq 0 ] || fail "SIGTERM: server exit status $rc, expected 0"
# the store survives a clean restart
restart_server
bindings >"$T/b2.txt"
assert_grep 'sip:alice@127\.0\.0\.1:6905' "$T/b2.txt" "binding kept across a clean restart"
pass
