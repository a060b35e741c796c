#!/bin/sh
# The units and the polkit rule under a real systemd, D-Bus and polkit (a systemd-nspawn
# container; tests/systemd/lib.sh). They need root, systemd-nspawn, mmdebstrap (its first
# run fills the cache: ~3 min) and the test guest; without them they are skipped, and this
# says why. VMSILO_E2E=0 skips them, =1 makes a skip a failure.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}

skip() {
        echo "SKIP: systemd tests: $*"
        [ "${VMSILO_E2E:-}" = 1 ] && { echo "VMSILO_E2E=1 but they cannot run"; exit 1; }
        exit 0
}

[ "${VMSILO_E2E:-}" = 0 ] && skip "VMSILO_E2E=0"
[ "$(id -u)" -eq 0 ] || skip "not root (they boot a container)"
for c in systemd-nspawn mmdebstrap nsenter; do
        command -v "$c" >/dev/null || skip "$c not installed (scripts/install-deps.sh)"
done

"$TOP/scripts/build-guest.sh" "$TOP/$BUILD/guest" || { echo "FAIL: building the test guest"; exit 1; }
BUILD="$BUILD" exec "$TOP/tests/run-shell.sh" "$TOP"/tests/systemd/test-*.sh
