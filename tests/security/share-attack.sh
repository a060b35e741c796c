# Sourced by test-share-c-virtiofsd.sh and test-share-rust-virtiofsd.sh (not a test itself):
# a hostile guest, root inside, attacks a read-write share owned by an unprivileged user who
# starts the VM; the host then checks what the guest left in the directory and next to it.
#
# share_attack VIRTIOFSD user|root: runs the attack with that virtiofsd, on a share of a test
# user's in a VM that user starts, or on a share of root's in root's VM (the share has xattr = yes, so
# file capabilities are tried too). It passes only when, on the host, every file in the
# share is owned by the share's owner (user and group), no file has a set-uid or set-gid bit
# or a security.capability attribute, there is no device node, FIFO or socket, and nothing
# outside the share changed.
#
# SHARE_ATTACK_AS_ROOT=1 starts the VM as root instead (the code before virtiofs-launch could
# not run the C virtiofsd as another user, and did not check the share's owner): only to show
# what an older plugin let the guest do; the assertions are the same.
. "$(dirname "$0")/lib.sh"

# The attack, run in the guest as root: each step prints its name and exit status.
GUEST_ATTACK='
cd /mnt/data || exit 99
step() { name=$1; shift; "$@" >/dev/null 2>&1; echo "$name rc=$?"; }
step create sh -c "echo guest >plain"
step chown-root sh -c "echo a >byroot && chown 0:0 byroot"
step chown-other sh -c "echo b >byother && chown 1234:1234 byother"
step chgrp-other sh -c "echo c >bygroup && chgrp 4321 bygroup"
step setuid sh -c "cp /bin/busybox suid && chmod 4755 suid"
step setgid sh -c "cp /bin/busybox sgid && chmod 2755 sgid"
step setuid-other sh -c "cp /bin/busybox suid-other && chown 1234 suid-other && chmod 4755 suid-other"
step setgid-dir sh -c "mkdir sgdir && chmod 2775 sgdir"
step mknod-char mknod cdev c 1 3
step mknod-block mknod bdev b 7 0
step mkfifo mkfifo fifo
step symlink-out-abs sh -c "ln -s $OUTSIDE/victim abs && echo pwned >abs"
step symlink-out-rel sh -c "ln -s ../../../../../../../../$OUTSIDE rel && echo pwned >rel/new"
step symlink-dir-out sh -c "ln -s $OUTSIDE dirlink && echo pwned >dirlink/new2"
/mnt/tools/share-attack-tool /mnt/data
sync
ls -ln /mnt/data
'

share_attack() {
        virtiofsd=$1
        kind=$2 # user: a share of a user's, in the user's VM; root: root's, in root's VM
        vm=sec$kind
        D="$T/$kind"
        if [ "$kind" = root ]; then
                owner=root
        else
                owner=$(make_test_user own)
        fi
        uid=$(id -u "$owner")
        gid=$(id -g "$owner")

        # the test's tree: readable by the owner; run dir and cache are theirs
        chmod 755 "$T"
        mkdir -p "$D/share" "$D/outside" "$T/tools" "$T/cache"
        echo original >"$D/outside/victim"
        # what busybox cannot do (sockets, creat() with a set-uid mode, file capabilities),
        # from a read-only share of root's
        [ -x "$T/tools/share-attack-tool" ] ||
                cc -static -O2 -o "$T/tools/share-attack-tool" "$(dirname "$0")/share-attack-tool.c" ||
                fail "cannot build share-attack-tool (static glibc: libc6-dev)"
        chown "$uid:$gid" "$D/share" "$RUN" "$T/img" "$T/cache"

        make_qemu_vm "$vm"
        cat >"$CONF/vms/$vm.conf.d/shares.conf" <<EOS
[virtiofs]
virtiofsd = $virtiofsd
[virtiofs data]
path = $D/share
xattr = yes
[virtiofs tools]
path = $T/tools
read-only = yes
EOS
        if [ "${SHARE_ATTACK_AS_ROOT:-0}" = 1 ] || [ "$kind" = root ]; then
                as_owner() { "$@"; }
        else
                # with a supplementary group, as real users have (it cannot be dropped in an
                # unprivileged user namespace: the C virtiofsd must still start)
                as_owner() { setpriv --reuid="$uid" --regid="$gid" --groups=100 --inh-caps=-all -- "$@"; }
                chown "$uid" "$CONF/vms/$vm.conf" # the owner's own VM (not root's)
        fi

        expect 0 as_owner "$VMSILO" start "$vm"
        watch_console "$vm"
        expect 0 as_owner "$VMSILO" run "$vm" sh -c "OUTSIDE='$D/outside'; $GUEST_ATTACK"
        cp "$T/out" "$D/guest-report"
        echo "--- what the guest saw ($kind's share, virtiofsd: $virtiofsd)"
        cat "$D/guest-report"
        expect 0 as_owner "$VMSILO" stop --timeout 60 "$vm"
        assert_no_qemu "$vm"
        assert_no_run_state
        assert_no_processes

        # the share worked at all
        [ "$(cat "$D/share/plain" 2>/dev/null)" = guest ] || fail "the guest could not write to the share"
        echo "--- on the host"
        ls -lan "$D/share"
        bad=0
        check() { # check WHAT FIND-ARGS...: no file in the share may match
                what=$1
                shift
                found=$(find "$D/share" "$@")
                if [ -n "$found" ]; then
                        echo "FOUND $what:" >&2
                        echo "$found" | while read -r f; do ls -ldn "$f" >&2; done
                        bad=1
                fi
        }
        check "files not owned by the share's owner (uid $uid)" ! -user "$uid"
        check "files not in the share owner's group (gid $gid)" ! -group "$gid"
        check "set-uid or set-gid files" -perm /6000
        check "device nodes" \( -type b -o -type c \)
        check "FIFOs or sockets" \( -type p -o -type s \)
        fcaps=$("$T/tools/share-attack-tool" --fcaps "$D/share")
        [ -z "$fcaps" ] || { echo "FOUND files with capabilities: $fcaps" >&2; bad=1; }
        [ "$(ls -A "$D/outside")" = victim ] || { echo "FOUND new files outside the share: $(ls -A "$D/outside")" >&2; bad=1; }
        [ "$(cat "$D/outside/victim")" = original ] || { echo "FOUND the file outside the share was changed" >&2; bad=1; }
        [ "$bad" = 0 ] || fail "the guest left files on the host that it must not ($kind's share, virtiofsd: $virtiofsd)"
}
