#!/bin/sh
# The base system of a distro test guest: an mmdebstrap tarball of Debian SUITE with systemd,
# udev, logind, iproute2 and Debian's cloud kernel and initramfs. Cached outside the clone
# (VMSILO_DISTRO_CACHE, default /var/cache/vmsilo-test/distro), keyed by the suite and this
# package list; delete the file to refresh it. Prints the tarball's path.
#
# usage: tests/distro/base.sh SUITE          (bookworm, trixie)
set -eu
suite=$1
cache=${VMSILO_DISTRO_CACHE:-/var/cache/vmsilo-test/distro}
include="systemd-sysv,udev,dbus,libpam-systemd,iproute2,kmod,linux-image-cloud-amd64,initramfs-tools"
key=$(echo "$suite $include" | sha256sum | cut -c1-12)
tar="$cache/$suite-$key.tar"

mkdir -p "$cache"
exec 9>"$cache/.$suite.lock"
flock 9
if [ ! -s "$tar" ]; then
        uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
        echo "base.sh: building '$tar' (a few minutes)" >&2
        # mmdebstrap picks the output format by the name's extension
        tmp="$cache/.$suite-$key.tmp.tar"
        mmdebstrap --quiet --variant=minbase --include="$include" "$suite" "$tmp" \
                ${uri:+"$uri"} >&2 || { rm -f "$tmp"; echo "base.sh: mmdebstrap $suite failed" >&2; exit 1; }
        mv "$tmp" "$tar"
fi
echo "$tar"
