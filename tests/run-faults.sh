#!/bin/sh
# The fault suite (tests/faults/, issue 15): one script per cell of the fault matrix, each on
# a real QEMU guest with an overlay disk, a virtiofs share and a tap, in private mount and
# network namespaces. Needs what the end-to-end tests need (root, qemu, the C virtiofsd) plus
# unshare(1); without them it is skipped, and says why. VMSILO_E2E=0 skips it, =1 makes a
# skip a failure. FAULT_ROUNDS sets the rounds of the random-kill cells (default 3).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}

skip() {
        echo "SKIP: fault suite: $*"
        [ "${VMSILO_E2E:-}" = 1 ] && { echo "VMSILO_E2E=1 but it cannot run"; exit 1; }
        exit 0
}

[ "${VMSILO_E2E:-}" = 0 ] && skip "VMSILO_E2E=0"
[ "$(id -u)" -eq 0 ] || skip "not root (taps, mounts, virtiofsd)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (scripts/install-deps.sh)"
command -v unshare >/dev/null || skip "unshare not installed (util-linux)"
[ -x /usr/lib/qemu/virtiofsd ] || skip "no C virtiofsd (qemu-system-common)"

"$TOP/scripts/build-guest.sh" "$TOP/$BUILD/guest" || { echo "FAIL: building the test guest"; exit 1; }
start=$(date +%s)
BUILD="$BUILD" "$TOP/tests/run-shell.sh" "$TOP"/tests/faults/test-*.sh
rc=$?
echo "fault suite: $(($(date +%s) - start)) s"
exit $rc
