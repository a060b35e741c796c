#!/bin/sh
# Builds the test/exec guest from Debian packages: OUTDIR/vmlinuz (the current cloud kernel),
# OUTDIR/initrd.gz (busybox-static, vmsilo-init as /init, the virtio/fs/input modules) and
# OUTDIR/rootfs.img (a small ext4 root disk). Cached: a second run with the same inputs
# prints "build-guest: up to date". Needs root for apt-get update (only when the package
# lists are empty) and for /dev/console in the initramfs.
#
# usage: scripts/build-guest.sh [OUTDIR]      (default: build/guest in the repository)
set -eu
PATH="$PATH:/usr/sbin:/sbin" # mke2fs, debugfs for users whose PATH lacks them

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$repo/build/guest"}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cache="$out/cache"
work="$out/work"
# one build at a time per OUTDIR (test suites may start in parallel)
exec 9>"$out/.lock"
flock 9

# Modules to ship (dependencies are added from each .ko's depends=). virtio_pci pulls in the
# virtio core; button + evdev give the ACPI power button as /dev/input/event*.
modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
virtio_console virtio_blk failover net_failover virtio_net fuse virtiofs overlay
button evdev vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport loop"
busybox=/bin/busybox
CC=${CC:-gcc}
MAKE=${MAKE:-make}

log() {
        echo "build-guest: $*" >&2
}

die() {
        log "$*"
        exit 1
}

kernel_package() {
        apt-cache depends linux-image-cloud-amd64 2>/dev/null |
                sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1
}

apt_update() {
        log "$1: running apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed"
        pkg=$(kernel_package)
        [ -n "$pkg" ] || die "cannot resolve 'linux-image-cloud-amd64' to a kernel package"
}

pkg=$(kernel_package)
[ -n "$pkg" ] || apt_update "no package lists"
[ -x "$busybox" ] || die "'$busybox' is missing: install busybox-static"
bbver=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)

inputs_hash() {
        {
                echo "kernel=$pkg busybox=$bbver cc=$($CC -dumpfullversion 2>/dev/null)"
                echo "modules=$modules"
                cat "$repo/scripts/build-guest.sh" "$repo/Makefile" "$repo/mk/bench.mk"
                for f in "$repo"/guest/*.c "$repo"/guest/*.h "$repo"/proto/*.c "$repo"/proto/*.h \
                        "$repo"/bench/guest/*.c; do
                        echo "== $f"
                        cat "$f"
                done
        } | sha256sum | cut -d' ' -f1
}

hash=$(inputs_hash)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$hash" ] &&
        [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.gz" ] && [ -f "$out/rootfs.img" ]; then
        log "up to date"
        exit 0
fi
rm -f "$out/stamp"

# --- kernel ---------------------------------------------------------------------------
mkdir -p "$cache"
download() {
        rm -f "$cache"/linux-image-*.deb
        # as root, apt would try to drop to the _apt user, who cannot write here
        (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2)
}

deb=$(find "$cache" -name "${pkg}_*.deb" | head -n 1)
if [ -z "$deb" ]; then
        log "downloading '$pkg'"
        if ! download; then
                # stale package lists name a version the archive no longer has
                apt_update "download failed"
                download || die "failed to download '$pkg'"
        fi
        deb=$(find "$cache" -name "${pkg}_*.deb" | head -n 1)
fi
rm -rf "$work"
mkdir -p "$work/kernel"
dpkg-deb -x "$deb" "$work/kernel"
kdir=$(find "$work/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -d "$kdir" ] || die "no modules in '$deb'"
cp "$work"/kernel/boot/vmlinuz-* "$work/vmlinuz"

# --- modules, in dependency order --------------------------------------------------------
ko_path() {
        find "$kdir/kernel" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" |
                head -n 1
}

ko_depends() {
        objcopy -O binary --only-section=.modinfo "$1" /dev/stdout 2>/dev/null |
                tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '
}

# Writes module $1 (uncompressed) to $2.
module_file() {
        src=$(ko_path "$1")
        [ -z "$src" ] && src=$(ko_path "$(echo "$1" | tr '_' '-')")
        [ -n "$src" ] || die "module '$1' not found in '$pkg'"
        case "$src" in
        *.xz) xz -dc "$src" >"$2" ;;
        *.zst) zstd -qdc "$src" >"$2" ;;
        *) cp "$src" "$2" ;;
        esac
}

# Copies module $1 (after its dependencies) into the initramfs and appends it to the order
# file. Only positional parameters survive the recursion (sh has no local variables).
add_module() {
        set -- "$(echo "$1" | tr '-' '_')"
        grep -qx "$1.ko" "$initrd/lib/modules/order" && return 0
        module_file "$1" "$work/$1.ko"
        for dep in $(ko_depends "$work/$1.ko"); do
                add_module "$dep"
        done
        mv "$work/$1.ko" "$initrd/lib/modules/$1.ko"
        echo "$1.ko" >>"$initrd/lib/modules/order"
}

# --- busybox trees ----------------------------------------------------------------------
# Installs busybox at $1/bin/busybox with every applet linked in /bin or /sbin.
install_busybox() {
        mkdir -p "$1/bin" "$1/sbin"
        cp "$busybox" "$1/bin/busybox"
        "$busybox" --list-full | while read -r applet; do
                case "$applet" in
                linuxrc | */busybox) continue ;;
                usr/*) applet=${applet#usr/} ;;
                esac
                [ -e "$1/$applet" ] || [ -L "$1/$applet" ] || ln -s /bin/busybox "$1/$applet"
        done
        # no applet without its link: PID 1 runs these by path
        for a in bin/sh bin/ip bin/udhcpc sbin/mke2fs; do
                [ -e "$1/$a" ] || ln -s /bin/busybox "$1/$a"
        done
}

write_etc() {
        mkdir -p "$1/etc"
        # `user` (uid 1000): what group members' commands run as ([vm] user)
        printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' \
                >"$1/etc/passwd"
        printf 'root:x:0:\ntty:x:5:\nuser:x:1000:\n' >"$1/etc/group"
        mkdir -p "$1/home/user"
        printf '127.0.0.1 localhost\n::1 localhost\n' >"$1/etc/hosts"
}

# --- initramfs --------------------------------------------------------------------------
initrd="$work/initrd"
mkdir -p "$initrd/lib/modules" "$initrd/dev" "$initrd/proc" "$initrd/sys" "$initrd/run" \
        "$initrd/tmp" "$initrd/root" "$initrd/etc/vmsilo" "$initrd/sysroot"
chmod 1777 "$initrd/tmp"
: >"$initrd/lib/modules/order"
for m in $modules; do
        add_module "$m"
done
log "$(wc -l <"$initrd/lib/modules/order") modules from '$pkg'"

# vmsilo-init is built by the Makefile (the same warnings as the host, -Werror), then stripped
$MAKE -C "$repo" --no-print-directory -s CC="$CC" BUILD="$work/make" "$work/make/vmsilo-init" >&2 ||
        die "failed to compile vmsilo-init"
strip -o "$initrd/init" "$work/make/vmsilo-init" || die "failed to strip vmsilo-init"
install_busybox "$initrd"
# the guest half of the raw-port benchmark (bench/run.sh), built the same way
$MAKE -C "$repo" --no-print-directory -s CC="$CC" BUILD="$work/make" "$work/make/vmsilo-portbench" >&2 ||
        die "failed to compile vmsilo-portbench"
strip -o "$initrd/bin/vmsilo-portbench" "$work/make/vmsilo-portbench" ||
        die "failed to strip vmsilo-portbench"
ln -s /init "$initrd/bin/vmsilo-agent"
ln -s /init "$initrd/bin/vmsilo-resume"
write_etc "$initrd"
cat >"$initrd/etc/vmsilo/udhcpc.script" <<'EOF'
#!/bin/sh
# udhcpc event script of vmsilo-init: address, default route, resolv.conf.
case "$1" in
deconfig)
        ip -4 addr flush dev "$interface"
        ip link set dev "$interface" up
        ;;
bound | renew)
        ip -4 addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        for r in $router; do
                ip route replace default via "$r" dev "$interface"
                break
        done
        if [ -n "$dns" ] && [ -n "$VMSILO_RESOLV_CONF" ]; then
                for d in $dns; do echo "nameserver $d"; done >"$VMSILO_RESOLV_CONF.tmp"
                mv "$VMSILO_RESOLV_CONF.tmp" "$VMSILO_RESOLV_CONF"
        fi
        ;;
esac
exit 0
EOF
chmod 755 "$initrd/etc/vmsilo/udhcpc.script"
if [ "$(id -u)" -eq 0 ]; then
        mknod -m 600 "$initrd/dev/console" c 5 1
        mknod -m 666 "$initrd/dev/null" c 1 3
fi
(cd "$initrd" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
        gzip -9n >"$work/initrd.gz"

# --- root disk --------------------------------------------------------------------------
rootdir="$work/rootfs"
mkdir -p "$rootdir"
install_busybox "$rootdir"
write_etc "$rootdir"
echo "vmsilo test root file system" >"$rootdir/etc/vmsilo-rootfs"
mkdir -p "$rootdir/dev" "$rootdir/proc" "$rootdir/sys" "$rootdir/run" "$rootdir/tmp" \
        "$rootdir/mnt" "$rootdir/root" "$rootdir/home/user"
chmod 1777 "$rootdir/tmp"
[ "$(id -u)" -ne 0 ] || chown -R 1000:1000 "$rootdir/home/user"
rm -f "$work/rootfs.img"
mke2fs -q -t ext4 -L vmsilo-root -E root_owner=0:0 -d "$rootdir" "$work/rootfs.img" 16M >/dev/null ||
        die "failed to make 'rootfs.img'"
if [ "$(id -u)" -ne 0 ]; then
        # without root the files are ours in the image: give the home to the guest's user
        printf 'sif /home/user uid 1000\nsif /home/user gid 1000\n' |
                debugfs -w -f - "$work/rootfs.img" >/dev/null 2>&1 || die "failed to set the owner of /home/user"
fi

for f in vmlinuz initrd.gz rootfs.img; do
        mv "$work/$f" "$out/$f"
done
rm -rf "$work"
inputs_hash >"$out/stamp"
log "built '$out' ($(du -k "$out/initrd.gz" | cut -f1) KiB initrd, kernel '$pkg')"
