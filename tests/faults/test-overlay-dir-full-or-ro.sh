# Cells: the overlay's directory is out of inodes (the file cannot be created: start fails
# with the reason, after undoing what the other plugins did) or read-only (preflight says so,
# nothing is touched). The next start works once the directory is usable again.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/small"
mount -t tmpfs -o size=64M,nr_inodes=16 tmpfs "$T/small"
OV="$T/small/ov"
mkdir -p "$OV"
make_fault_vm i1
sed -i "s|^directory = .*|directory = $OV|" "$CONF/vms/i1.conf.d/fault.conf"

# inode-full
i=0
while touch "$T/small/f$i" 2>/dev/null; do i=$((i + 1)); done
expect 1 "$VMSILO" start i1
err_has "failed to create '$OV/i1-ephemeral.raw': No space left on device"
assert_clean i1
rm -f "$T/small"/f*

# read-only
mount -o remount,ro "$T/small"
expect 4 "$VMSILO" start i1
err_has "overlay directory '$OV' is not writable: Read-only file system"
assert_clean i1
mount -o remount,rw "$T/small"

next_start_works i1
