# End-to-end helpers: real QEMU (TCG), the test guest from scripts/build-guest.sh.
. "$(dirname "$0")/../cli/lib.sh"

GUEST="$BUILD/guest"
[ -f "$GUEST/vmlinuz" ] && [ -f "$GUEST/initrd.gz" ] || fail "no test guest in $GUEST (scripts/build-guest.sh)"

# A VM booted by QEMU from the test guest; the root disk is a copy of rootfs.img.
make_qemu_vm() {
        name=$1
        cp "$GUEST/rootfs.img" "$T/img/$name-root.img"
        mkdir -p "$CONF/vms/$name.conf.d"
        cat >"$CONF/vms/$name.conf" <<EOS
[vm]
vmm = qemu
memory = 256
cpus = 1
kernel = $GUEST/vmlinuz
initrd = $GUEST/initrd.gz
EOS
}

# Keeps a copy of the console as the test saw it (console.log is bounded and rotated).
watch_console() {
        name=$1
        ( for _ in $(seq 100); do [ -S "$RUN/$name/console.sock" ] && break; sleep 0.1; done
          exec socat -u "UNIX-CONNECT:$RUN/$name/console.sock" "OPEN:$T/console-$name.log,creat,append" ) \
                >/dev/null 2>&1 &
}

assert_no_qemu() {
        if pgrep -f "qemu-system-x86_64 -name $1,.*$RUN/$1/" >/dev/null; then
                ps -ef | grep qemu | grep -v grep >&2
                fail "qemu of '$1' left running"
        fi
}
