# Share paths: a path with a symlinked component is refused (not followed), and so is a
# directory owned by a user other than the VM's user or root; the error names the share, the
# path and (for the owner) who owns it; a refused start leaves nothing behind. virtiofs-launch
# makes the same checks again when it starts the virtiofsd (after preflight, a path may have
# changed), and exports the very directory it checked.
. "$(dirname "$0")/lib.sh"

C_VIRTIOFSD=/usr/lib/qemu/virtiofsd
LAUNCH="$BUILD/plugins/virtiofs-launch"
[ -x "$C_VIRTIOFSD" ] || fail "no C virtiofsd at $C_VIRTIOFSD (qemu-system-common)"
alice=$(make_test_user alice)
bob=$(make_test_user bob)
chmod 755 "$T"
mkdir -p "$T/real/sub" "$T/bobs" "$T/alices" "$T/cache"
echo keep >"$T/real/sub/file"
ln -s real "$T/link"
chown "$bob" "$T/bobs"
chown "$alice" "$T/alices" "$RUN" "$T/cache"

assert_nothing_left() {
        assert_no_qemu p
        assert_no_run_state
        assert_no_processes
        [ "$(ls -A "$T/real/sub")" = file ] || fail "files appeared in the shared directory"
        [ -z "$(ls -A "$T/alices")" ] || fail "files appeared in alice's directory"
}

make_qemu_vm p
chown "$alice" "$CONF/vms/p.conf" # alice's own VM (not root's)
share() {
        printf '[virtiofs]\nvirtiofsd = %s\n[virtiofs data]\npath = %s\n' "$C_VIRTIOFSD" "$1" \
                >"$CONF/vms/p.conf.d/shares.conf"
}

# 1. a symlinked component, in the middle or last: refused by preflight
share "$T/link/sub"
expect 4 "$VMSILO" start p
err_has "share 'data': component 'link' of '$T/link/sub' is a symlink, which is not followed"
assert_nothing_left
share "$T/link"
expect 4 "$VMSILO" start p
err_has "share 'data': component 'link' of '$T/link' is a symlink, which is not followed"
assert_nothing_left
# the resolved path works
share "$T/real/sub"
expect 0 "$VMSILO" start p
expect 0 "$VMSILO" run p cat /mnt/data/file
[ "$(cat "$T/out")" = keep ] || fail "the guest read '$(cat "$T/out")'"
expect 0 "$VMSILO" stop --timeout 60 p
assert_nothing_left

# 2. a directory of another user: refused for root's VM and for alice's VM
share "$T/bobs"
expect 4 "$VMSILO" start p
err_has "share 'data': directory '$T/bobs' is owned by '$bob' (uid $(id -u "$bob")), not by the VM's user 'root' (uid 0) or root: refusing to share it"
assert_nothing_left
expect 4 as_user "$alice" "$VMSILO" start p
err_has "share 'data': directory '$T/bobs' is owned by '$bob' (uid $(id -u "$bob")), not by the VM's user '$alice' (uid $(id -u "$alice")) or root: refusing to share it"
assert_nothing_left
# alice's own directory is fine for alice
share "$T/alices"
expect 0 as_user "$alice" "$VMSILO" start p
expect 0 as_user "$alice" "$VMSILO" run p sh -c 'echo hi >/mnt/data/f && sync'
expect 0 as_user "$alice" "$VMSILO" stop --timeout 60 p
[ "$(stat -c %U "$T/alices/f")" = "$alice" ] || fail "the guest's file is not alice's"
rm -f "$T/alices/f"
assert_nothing_left

# 3. the launcher checks again at start (the path may change after preflight): a symlinked
#    component or a foreign owner stops it before any virtiofsd runs
mkdir -p "$T/mnt"
set +e
"$LAUNCH" --share=data --path="$T/link/sub" --vm-uid=0 --vm-gid=0 --root="$T/mnt/r1" -- \
        /bin/echo virtiofsd-ran >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "virtiofs-launch followed a symlinked component (exit $rc)"
err_has "virtiofs-launch: share 'data': component 'link' of '$T/link/sub' is a symlink"
[ ! -s "$T/out" ] || fail "the virtiofsd ran"
set +e
as_user "$alice" "$LAUNCH" --share=data --path="$T/bobs" --vm-uid="$(id -u "$alice")" \
        --vm-gid="$(id -g "$alice")" --root="$T/alices/r2" -- /bin/echo virtiofsd-ran >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "virtiofs-launch accepted a directory of another user (exit $rc)"
err_has "virtiofs-launch: share 'data': directory '$T/bobs' is owned by '$bob'"
[ ! -s "$T/out" ] || fail "the virtiofsd ran"
[ ! -e "$T/mnt/r1" ] && [ ! -e "$T/alices/r2" ] || fail "virtiofs-launch left a mount point behind after refusing"
