#!/bin/sh
# Builds the initramfs of the VFIO test guest: busybox, init.sh as /init, vfio-check (the vfio
# plugin's code, static, with the mock host) and the vfio-pci and virtio-pci modules taken
# from the kernel package that scripts/build-guest.sh cached, so that they match its vmlinuz.
# Cached: nothing is rebuilt while the inputs are the same.
#
# usage: tests/guest/vfio/build-initrd.sh GUEST-DIR OUT-DIR
#   GUEST-DIR  the output of scripts/build-guest.sh (vmlinuz, cache/linux-image-*.deb)
#   OUT-DIR    gets initrd.gz
set -eu

repo=$(cd "$(dirname "$0")/../../.." && pwd)
guest=$1
out=$2
here="$repo/tests/guest/vfio"
modules="irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci
virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci"
busybox=/bin/busybox
CC=${CC:-gcc}

die() {
        echo "build-initrd: $*" >&2
        exit 1
}

deb=$(find "$guest/cache" -name 'linux-image-*.deb' 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "no kernel package in '$guest/cache' (run scripts/build-guest.sh)"
[ -x "$busybox" ] || die "'$busybox' is missing: install busybox-static"
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

hash=$({
        echo "$deb $modules $($CC -dumpfullversion 2>/dev/null)"
        cat "$here/build-initrd.sh" "$here/init.sh" "$here/vfio-check.c" \
                "$repo"/plugins/vfio/*.c "$repo"/plugins/vfio/*.h "$repo"/tests/mock-host/* \
                "$repo/sdk/vmsilo/plugin.h" "$repo"/core/keytab.[ch]
} | sha256sum | cut -d' ' -f1)
if [ -f "$out/initrd.gz" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$hash" ]; then
        exit 0
fi

work="$out/work"
rm -rf "$work" "$out/stamp"
mkdir -p "$work/kernel" "$work/root/bin" "$work/root/lib/modules" "$work/root/proc" \
        "$work/root/sys" "$work/root/dev" "$work/root/tmp"
dpkg-deb -x "$deb" "$work/kernel"
kdir=$(find "$work/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)
: >"$work/root/lib/modules/order"
for m in $modules; do
        src=$(find "$kdir/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n 1)
        [ -n "$src" ] || die "module '$m' not in '$deb'"
        case "$src" in
        *.xz) xz -dc "$src" >"$work/root/lib/modules/$m.ko" ;;
        *.zst) zstd -qdc "$src" >"$work/root/lib/modules/$m.ko" ;;
        *) cp "$src" "$work/root/lib/modules/$m.ko" ;;
        esac
        echo "$m.ko" >>"$work/root/lib/modules/order"
done

# the plugin's sources, without its unit test
set -- "$here/vfio-check.c" "$repo/tests/mock-host/mock-host.c"
for f in "$repo"/plugins/vfio/*.c; do
        case "$f" in */test-*) ;; *) set -- "$@" "$f" ;; esac
done
$CC -static -O2 -s -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
        -I"$repo/sdk" -I"$repo/tests/mock-host" -I"$repo/plugins/vfio" \
        -o "$work/root/bin/vfio-check" "$@" || die "failed to compile vfio-check"
cp "$busybox" "$work/root/bin/busybox"
for a in sh mount insmod cat echo sed grep sleep basename readlink kill tee poweroff; do
        ln -s busybox "$work/root/bin/$a"
done
cp "$here/init.sh" "$work/root/init"
chmod 755 "$work/root/init"
(cd "$work/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out/initrd.gz"
rm -rf "$work"
echo "$hash" >"$out/stamp"
