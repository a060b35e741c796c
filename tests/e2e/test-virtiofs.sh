# virtiofs with the real C virtiofsd and QEMU: the guest reads what the host wrote and the
# host reads what the guest wrote; a read-only share refuses writes, even after the guest
# remounts it read-write (the host enforces it); the shared home is created and kept; a path
# with ',' and '\' reaches virtiofsd intact. After stop no virtiofsd, socket or lock file is
# left. A virtiofsd that dies during start fails the start with its stderr, leaving nothing.
. "$(dirname "$0")/lib.sh"

C_VIRTIOFSD=/usr/lib/qemu/virtiofsd
[ -x "$C_VIRTIOFSD" ] || fail "no C virtiofsd at $C_VIRTIOFSD (qemu-system-common)"

# the C virtiofsd's lock file of a socket: /var/run/virtiofsd/<path with / as .>.pid
pid_file() {
        echo "/var/run/virtiofsd/$(echo "$1" | tr / .).pid"
}

assert_no_virtiofsd() {
        if pgrep -f -- "--socket-path=$RUN/fs/virtiofs-" >/dev/null; then
                ps -ef | grep virtiofsd | grep -v grep >&2
                fail "virtiofsd left running"
        fi
        for s in "$@"; do
                [ ! -e "$RUN/fs/virtiofs-$s.sock" ] || fail "socket of '$s' left behind"
                [ ! -e "$(pid_file "$RUN/fs/virtiofs-$s.sock")" ] || fail "lock file of '$s' left behind"
                [ ! -e "$RUN/fs/virtiofs-$s.root" ] || fail "mount point of '$s' left behind"
        done
}

mkdir -p "$T/rw" "$T/ro" "$T/a,b\\c"
echo written-by-host >"$T/rw/host-file"
echo read-only-data >"$T/ro/doc"
echo odd-path >"$T/a,b\\c/f"

make_qemu_vm fs
cat >"$CONF/vms/fs.conf.d/shares.conf" <<EOS
[virtiofs]
virtiofsd = $C_VIRTIOFSD
shared-home = $T/homes/fs/home
[virtiofs data]
path = $T/rw
[virtiofs docs]
path = $T/ro
read-only = yes
mount-point = /srv/docs
[virtiofs odd]
path = $T/a,b\\c
tag = odd-tag
EOS

expect 0 "$VMSILO" start fs
watch_console fs
for s in data docs odd home; do
        [ -S "$RUN/fs/virtiofs-$s.sock" ] || fail "no socket for share '$s'"
        # its lock file lives in the private /run of virtiofs-launch's namespaces
        [ ! -e "$(pid_file "$RUN/fs/virtiofs-$s.sock")" ] || fail "the C virtiofsd of '$s' wrote its lock file on the host"
        [ -d "$RUN/fs/virtiofs-$s.root" ] && [ -z "$(ls -A "$RUN/fs/virtiofs-$s.root")" ] ||
                fail "the mount point of '$s' is not an empty directory on the host"
        pgrep -f -- "$C_VIRTIOFSD --socket-path=$RUN/fs/virtiofs-$s.sock " >/dev/null ||
                fail "no virtiofsd for share '$s'"
done

# host -> guest and guest -> host
expect 0 "$VMSILO" run fs cat /mnt/data/host-file
[ "$(cat "$T/out")" = written-by-host ] || fail "guest read '$(cat "$T/out")'"
expect 0 "$VMSILO" run fs sh -c 'echo written-by-guest >/mnt/data/guest-file && sync'
[ "$(cat "$T/rw/guest-file")" = written-by-guest ] || fail "host did not see the guest's file"

# read-only: refused in the guest, and still refused after the guest remounts it rw
expect 0 "$VMSILO" run fs cat /srv/docs/doc
[ "$(cat "$T/out")" = read-only-data ] || fail "guest read '$(cat "$T/out")' from the read-only share"
set +e
"$VMSILO" run fs sh -c 'echo x >/srv/docs/new' >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a write to the read-only share succeeded"
err_has "Read-only file system"
expect 0 "$VMSILO" run fs sh -c 'mount -o remount,rw /srv/docs && grep " /srv/docs " /proc/mounts'
grep -q ' rw[,]' "$T/out" || fail "the guest could not remount the share rw: $(cat "$T/out")"
set +e
"$VMSILO" run fs sh -c 'echo x >/srv/docs/new' >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a write to the read-only share succeeded after a guest remount"
err_has "Read-only file system"
[ ! -e "$T/ro/new" ] || fail "the guest created a file in the read-only directory"
grep -qF "$T/ro" /proc/mounts && fail "the read-only bind mount leaked into the host's mount namespace"
grep -qF "$RUN/fs/" /proc/mounts && fail "a share's bind mount leaked into the host's mount namespace"

# a path with ',' and '\' (escaped for the C virtiofsd's -o list) and a tag of its own
expect 0 "$VMSILO" run fs cat /mnt/odd/f
[ "$(cat "$T/out")" = odd-path ] || fail "guest read '$(cat "$T/out")' through the odd path"

# the shared home: created 0700 by start, mounted at /home/user
[ "$(stat -c %a "$T/homes/fs/home")" = 700 ] || fail "shared home not created 0700"
expect 0 "$VMSILO" run fs sh -c 'echo kept >/home/user/note && sync'
[ "$(cat "$T/homes/fs/home/note")" = kept ] || fail "shared home not written through"

expect 0 "$VMSILO" stop --timeout 60 fs
assert_no_qemu fs
assert_no_virtiofsd data docs odd home
assert_no_run_state
assert_no_processes
[ "$(cat "$T/homes/fs/home/note")" = kept ] || fail "the shared home did not survive stop"
[ "$(cat "$T/rw/guest-file")" = written-by-guest ] || fail "the guest's file did not survive stop"

# a virtiofsd that dies during start: the start fails with its stderr, and the virtiofsd
# already started for an earlier share is stopped again
mkdir -p "$T/bin"
cat >"$T/bin/dying-virtiofsd" <<EOS
#!/bin/sh
case "\$*" in
--help) exec $C_VIRTIOFSD --help ;;
*virtiofs-docs.sock*) echo "dying-virtiofsd: cannot set up the sandbox for docs" >&2; exit 1 ;;
esac
exec $C_VIRTIOFSD "\$@"
EOS
chmod +x "$T/bin/dying-virtiofsd"
printf '[virtiofs]\nvirtiofsd = %s\n' "$T/bin/dying-virtiofsd" >"$CONF/vms/fs.conf.d/zz-dying.conf"
expect 1 "$VMSILO" start fs
err_has "helper 'docs' exited with status 1 before it was ready"
err_has "dying-virtiofsd: cannot set up the sandbox for docs"
assert_no_qemu fs
assert_no_virtiofsd data docs odd home
assert_no_run_state
assert_no_processes
