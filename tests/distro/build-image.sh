#!/bin/sh
# A distro test guest: the cached base system of SUITE (tests/distro/base.sh) with the given
# vmsilo-guest package installed and an account `user` (uid 1000), as OUTDIR/root.img (ext4,
# the whole disk), OUTDIR/vmlinuz and OUTDIR/initrd.img (the image's own kernel and
# initramfs). Needs root (the image's files keep their owners; dpkg runs chrooted).
#
# usage: tests/distro/build-image.sh SUITE VMSILO_GUEST_DEB OUTDIR
set -eu
PATH="$PATH:/usr/sbin:/sbin"
suite=$1
deb=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)

die() {
        echo "build-image: $*" >&2
        exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root"
[ -f "$deb" ] || die "no package '$deb'"
tar=$("$here/base.sh" "$suite") || die "no base system for '$suite'"
mkdir -p "$out"
root="$out/root"
rm -rf "$root" "$out/root.img"
mkdir -p "$root"
tar -C "$root" --numeric-owner -xpf "$tar" || die "cannot unpack '$tar'"

cp "$deb" "$root/tmp/vmsilo-guest.deb"
chroot "$root" dpkg -i /tmp/vmsilo-guest.deb >"$out/dpkg.log" 2>&1 ||
        { cat "$out/dpkg.log" >&2; die "installing vmsilo-guest into $suite failed"; }
rm "$root/tmp/vmsilo-guest.deb"
chroot "$root" useradd -m -u 1000 -s /bin/sh user || die "useradd"
chroot "$root" passwd -qd root >/dev/null 2>&1 || true # a root login on the console, for debugging
rm -f "$root/etc/hostname"                             # systemd.hostname= names the VM
# what a first boot would do, done once here (else every test boot of a fresh copy does it,
# slowly under TCG): a machine id, the linker and journal catalog caches, /etc and /var
# marked as up to date for ConditionNeedsUpdate=
chroot "$root" systemd-machine-id-setup >/dev/null 2>&1 || true
chroot "$root" ldconfig
chroot "$root" journalctl --update-catalog >/dev/null 2>&1 || true
touch "$root/etc/.updated" "$root/var/.updated"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"

cp "$(ls "$root"/boot/vmlinuz-* | head -n 1)" "$out/vmlinuz"
cp "$(ls "$root"/boot/initrd.img-* | head -n 1)" "$out/initrd.img"
mke2fs -q -t ext4 -L vmsilo-root -d "$root" "$out/root.img" 2G >/dev/null ||
        die "mke2fs of '$out/root.img' failed"
rm -rf "$root"
echo "build-image: $suite in '$out'" >&2
