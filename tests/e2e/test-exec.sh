# exec: a throw-away VM runs a bash script with the host's /usr; the status comes back, the
# shared dir is read-write at /tmp/shared; an ext4 image built on a loop device inside the
# VM lands on the host; a VM that dies without a status gives 125; --quiet prints only the
# script's output; VMM args reach QEMU; nothing is left.
. "$(dirname "$0")/lib.sh"

X="$VMSILO exec --kernel $GUEST/vmlinuz --initrd $GUEST/initrd.gz"
mkdir -p "$T/shared"

expect 7 $X --shared="$T/shared" 'echo "bash $BASH_VERSION in $(pwd)"; echo from-guest > out.txt; exit 7'
out_has "bash 5"
out_has "in /tmp/shared"
[ "$(cat "$T/shared/out.txt")" = from-guest ] || fail "shared file not written"

# the "build images without host root" use: an ext4 file system on a loop device
expect 0 $X -q --shared="$T/shared" 'set -e
truncate -s 32M image.ext4
dev=$(losetup -f --show image.ext4)
mkfs.ext4 -q -L vmsilo-exec "$dev"
mkdir -p /mnt/img && mount "$dev" /mnt/img
echo made-inside > /mnt/img/hello
umount /mnt/img && losetup -d "$dev"'
[ "$(debugfs -R 'cat /hello' "$T/shared/image.ext4" 2>/dev/null)" = made-inside ] ||
        fail "the image built in the VM is not an ext4 with our file"
dumpe2fs -h "$T/shared/image.ext4" 2>/dev/null | grep -q "volume name: *vmsilo-exec" || fail "label"

# --quiet: only the script's output, on the right streams
expect 3 $X -q 'echo just-this; echo and-err >&2; exit 3'
[ "$(cat "$T/out")" = just-this ] || fail "--quiet stdout: $(cat "$T/out")"
[ "$(cat "$T/err")" = and-err ] || fail "--quiet stderr: $(cat "$T/err")"

# a VM that ends without reporting a status
expect 125 $X -q 'echo o > /proc/sysrq-trigger; sleep 30'
err_has "went away while running the command: no exit status"

# VMM arguments after --
expect 0 $X -q 'cat /sys/class/dmi/id/product_serial' -- -smbios type=1,serial=vmsilo-exec-test
[ "$(cat "$T/out")" = vmsilo-exec-test ] || fail "VMM args not passed: $(cat "$T/out")"

assert_no_run_state
assert_no_processes
# only our own virtiofsd (its socket is in our runtime dir): other VMs may run on this host
pgrep -f -- "virtiofsd.*$RUN/" >/dev/null && fail "virtiofsd left running"
true
