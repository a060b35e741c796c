#!/bin/sh
# Distro guest tests: builds the vmsilo-guest package (dpkg-buildpackage, from a copy of the
# tree), then once per run a Debian 12 and a Debian 13 image from the cached base systems
# (tests/distro/base.sh: mmdebstrap, cached in /var/cache/vmsilo-test/distro) with the package
# installed, and boots them through vmsilo-core (tests/distro/test-*.sh). Needs root, qemu,
# mmdebstrap and Debian's archive (only to refresh the base cache); without them the tests
# are skipped, and this says why. VMSILO_DISTRO=0 skips them, =1 makes a skip fail.
# VMSILO_GUEST_DEB=FILE uses that package instead of building one; DISTRO_SUITES picks suites.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
export DISTRO_SUITES=${DISTRO_SUITES:-"bookworm trixie"}
export DISTRO_DIR="$BUILD/distro"

skip() {
        echo "SKIP: distro guest tests: $*"
        [ "${VMSILO_DISTRO:-}" = 1 ] && { echo "VMSILO_DISTRO=1 but they cannot run"; exit 1; }
        exit 0
}

[ "${VMSILO_DISTRO:-}" = 0 ] && skip "VMSILO_DISTRO=0"
[ "$(id -u)" -eq 0 ] || skip "not root (they build images with chroot, create taps and run virtiofsd)"
for tool in qemu-system-x86_64 mmdebstrap mke2fs e2fsck dpkg-buildpackage busybox; do
        command -v "$tool" >/dev/null || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null ||
                skip "$tool not installed (scripts/install-deps.sh)"
done
PATH="$PATH:/usr/sbin:/sbin"

mkdir -p "$DISTRO_DIR"
deb=${VMSILO_GUEST_DEB:-}
if [ -z "$deb" ]; then
        src="$DISTRO_DIR/pkg/src"
        rm -rf "$DISTRO_DIR/pkg"
        mkdir -p "$src"
        tar -C "$TOP" --exclude=./build --exclude=./build-asan --exclude=./.git --exclude=./debian/build -cf - . |
                tar -C "$src" -xf -
        (cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b -j2) >"$DISTRO_DIR/pkg/build.log" 2>&1 ||
                { tail -n 30 "$DISTRO_DIR/pkg/build.log"; echo "FAIL: building the vmsilo-guest package"; exit 1; }
        deb=$(ls "$DISTRO_DIR"/pkg/vmsilo-guest_*.deb)
fi
for s in $DISTRO_SUITES; do
        "$TOP/tests/distro/build-image.sh" "$s" "$deb" "$DISTRO_DIR/$s" ||
                { echo "FAIL: building the $s image"; exit 1; }
done
BUILD="$BUILD" exec "$TOP/tests/run-shell.sh" "$TOP"/tests/distro/test-*.sh
