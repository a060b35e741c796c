#!/bin/sh
# Installs, from Debian 12 packages only, everything vmsilo-core needs to build, test and
# run its demo. Idempotent; needs root (or sudo).
set -eu

packages="build-essential pkg-config clang libclang-rt-14-dev clang-format
libinih-dev libjson-c-dev libcunit1-dev libnl-3-dev libnl-route-3-dev libpipewire-0.3-dev
qemu-system-x86 qemu-system-common qemu-utils busybox-static cpio socat iproute2
ca-certificates binutils kmod jq e2fsprogs
libwayland-dev weston pipewire pipewire-pulse wireplumber pulseaudio-utils dbus-daemon qemu-system-gui
scdoc man-db bsdextrautils systemd duktape debhelper dpkg-dev lintian
systemd-container mmdebstrap libc6-dev"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
fi

missing=""
for p in $packages; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                missing="$missing $p"
done

if [ -z "$missing" ]; then
        echo "install-deps: all packages present"
        exit 0
fi

echo "install-deps: installing:$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
