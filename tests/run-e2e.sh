#!/bin/sh
# End-to-end tests: the built vmsilo-core boots real guests through the QEMU backend (TCG),
# with real helpers and taps. They need root (taps, netns, virtiofsd) and qemu; without
# either they are skipped, and this says why. VMSILO_E2E=0 skips them, =1 makes a skip fail.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}

skip() {
        echo "SKIP: end-to-end tests: $*"
        [ "${VMSILO_E2E:-}" = 1 ] && { echo "VMSILO_E2E=1 but they cannot run"; exit 1; }
        exit 0
}

[ "${VMSILO_E2E:-}" = 0 ] && skip "VMSILO_E2E=0"
[ "$(id -u)" -eq 0 ] || skip "not root (they create taps, network namespaces and run virtiofsd)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (scripts/install-deps.sh)"

"$TOP/scripts/build-guest.sh" "$TOP/$BUILD/guest" || { echo "FAIL: building the test guest"; exit 1; }
BUILD="$BUILD" exec "$TOP/tests/run-shell.sh" "$TOP"/tests/guest/smoke.sh "$TOP"/tests/e2e/test-*.sh
