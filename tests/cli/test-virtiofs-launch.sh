# virtiofs-launch without a VM: the "virtiofsd" is a shell that reports what it may do in
# the place virtiofs-launch prepared for it. It runs as root of a user namespace holding only
# the VM's user, in the checked directory bound on the mount point; mknod of any kind and
# set-uid/set-gid modes fail with EPERM; a read-only share is read-only; nothing shows on the
# host but an empty mount point. (tests/security/test-share-*.sh attack it from real guests.)
. "$(dirname "$0")/lib.sh"

LAUNCH="$BUILD/plugins/virtiofs-launch"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (a second user)"; exit 0; }
mkdir -p "$T/share" "$T/mnt"
echo hello >"$T/share/f"
uid=$(id -u nobody)
gid=$(id -g nobody)
chmod 755 "$T"
chown "$uid:$gid" "$T/share" "$T/mnt"

# launch [--read-only] SCRIPT: runs SCRIPT as the "virtiofsd" of a VM of nobody's
launch() {
        ro=
        [ "$1" = --read-only ] && { ro=$1; shift; }
        "$LAUNCH" --share=t --path="$T/share" --vm-uid="$uid" --vm-gid="$gid" --root="$T/mnt/r" \
                $ro -- /bin/sh -c "cd '$T/mnt/r' && $1"
}

expect 0 launch 'id -u; id -g; cat f; grep -c . /proc/self/uid_map; awk "{print \$2}" /proc/self/uid_map'
[ "$(cat "$T/out")" = "0
0
hello
1
$uid" ] || fail "not root of a namespace holding only uid $uid, in the share: $(cat "$T/out")"

expect 0 launch 'touch new; for a in "mkfifo fifo" "mknod cdev c 1 3" "chmod 4755 new" "chmod 2755 new" "mkdir -m 2755 d" "chown 1234 new"; do $a 2>/dev/null; echo "$a: $?"; done'
[ "$(cat "$T/out")" = "mkfifo fifo: 1
mknod cdev c 1 3: 1
chmod 4755 new: 1
chmod 2755 new: 1
mkdir -m 2755 d: 1
chown 1234 new: 1" ] || fail "the namespace allowed: $(cat "$T/out")"
[ "$(stat -c '%u:%g %a' "$T/share/new")" = "$uid:$gid 644" ] || fail "new file: $(stat -c '%u:%g %a' "$T/share/new")"
[ "$(ls -A "$T/share" | tr '\n' ' ')" = "f new " ] || fail "left: $(ls -A "$T/share")"

expect 0 launch --read-only 'touch ro 2>&1; cat f'
grep -q "Read-only file system" "$T/out" || fail "read-only share writable: $(cat "$T/out")"
[ ! -e "$T/share/ro" ] || fail "read-only share written"

# on the host: an empty mount point, no mount
[ -d "$T/mnt/r" ] && [ -z "$(ls -A "$T/mnt/r")" ] || fail "mount point not empty on the host"
grep -qF "$T/" /proc/mounts && fail "a bind mount leaked into the host"

# a symlinked component, a foreign owner, a path that is no directory: refused, nothing runs
ln -s share "$T/link"
expect 1 "$LAUNCH" --share=t --path="$T/link" --vm-uid="$uid" --vm-gid="$gid" --root="$T/mnt/r" -- /bin/echo ran
err_has "virtiofs-launch: share 't': component 'link' of '$T/link' is a symlink: share the directory it points to"
expect 1 "$LAUNCH" --share=t --path="$T/share" --vm-uid=4242 --vm-gid=4242 --root="$T/mnt/r" -- /bin/echo ran
err_has "virtiofs-launch: share 't': directory '$T/share' is owned by 'nobody' (uid $uid), not by the VM's user (uid 4242) or root: refusing to share it"
expect 1 "$LAUNCH" --share=t --path="$T/share/f" --vm-uid="$uid" --vm-gid="$gid" --root="$T/mnt/r" -- /bin/echo ran
err_has "virtiofs-launch: share 't': cannot open '$T/share/f' at 'f': Not a directory"
[ ! -s "$T/out" ] || fail "the program ran after a refusal"
