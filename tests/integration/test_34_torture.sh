#!/bin/bash
# RFC 4475 and RFC 5118 torture messages, byte for byte, against the real
# server; the answers must be those of tests/torture/expected.txt and the
# server must still answer OPTIONS afterwards.  The work is in
# tests/torture/run.sh (see tests/torture/README.md).
exec bash "$(dirname "$0")/../torture/run.sh" "$@"
