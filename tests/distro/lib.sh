# Distro guests (tests/run-distro.sh builds them): a Debian image per suite with the
# vmsilo-guest package, booted by vmsilo-core through QEMU (TCG) from the image's own kernel
# and initramfs, root=/dev/vda read-write.
. "$(dirname "$0")/../cli/lib.sh"

DISTRO_DIR=${DISTRO_DIR:-"$BUILD/distro"}
DISTRO_SUITES=${DISTRO_SUITES:-"bookworm trixie"}
C_VIRTIOFSD=/usr/lib/qemu/virtiofsd

# distro_vm NAME SUITE: VM NAME on a copy of SUITE's image (sparse); more keys in NAME.conf.d
distro_vm() {
        img="$DISTRO_DIR/$2"
        [ -f "$img/root.img" ] || fail "no $2 image in '$img' (tests/run-distro.sh builds it)"
        cp --sparse=always "$img/root.img" "$T/img/$1.img"
        mkdir -p "$CONF/vms/$1.conf.d"
        cat >"$CONF/vms/$1.conf" <<EOS
[vm]
vmm = qemu
memory = 1024
cpus = 1
kernel = $img/vmlinuz
initrd = $img/initrd.img
root-disk = $T/img/$1.img
root-disk-read-only = no

[overlay]
type = off
EOS
}

# Keeps a copy of the console (the run dir, with console.log, is removed at stop).
watch_console() {
        ( for _ in $(seq 100); do [ -S "$RUN/$1/console.sock" ] && break; sleep 0.1; done
          exec socat -u "UNIX-CONNECT:$RUN/$1/console.sock" "OPEN:$T/console-$1.log,creat,append" ) \
                >/dev/null 2>&1 &
}

console_tail() {
        echo "--- console of '$1' (last 40 lines)" >&2
        tail -n 40 "$T/console-$1.log" 2>/dev/null | tr -d '\r' >&2 || true
}

assert_no_qemu() {
        if pgrep -f "qemu-system-x86_64 -name $1,.*$RUN/$1/" >/dev/null; then
                ps -ef | grep qemu | grep -v grep >&2
                fail "qemu of '$1' left running"
        fi
}

now_ms() {
        date +%s%3N
}
