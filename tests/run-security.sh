#!/bin/sh
# Security tests (tests/security/): each attacks one boundary of docs/security.md in a real VM.
# Same requirements as the end-to-end tests: root and qemu; VMSILO_E2E=0 skips them.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}

skip() {
        echo "SKIP: security tests: $*"
        [ "${VMSILO_E2E:-}" = 1 ] && { echo "VMSILO_E2E=1 but they cannot run"; exit 1; }
        exit 0
}

[ "${VMSILO_E2E:-}" = 0 ] && skip "VMSILO_E2E=0"
[ "$(id -u)" -eq 0 ] || skip "not root (they create users, taps and run virtiofsd)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (scripts/install-deps.sh)"

"$TOP/scripts/build-guest.sh" "$TOP/$BUILD/guest" || { echo "FAIL: building the test guest"; exit 1; }
set -- "$TOP"/tests/security/test-*.sh
[ -e "$1" ] || { echo "no security tests"; exit 0; }
BUILD="$BUILD" exec "$TOP/tests/run-shell.sh" "$@"
