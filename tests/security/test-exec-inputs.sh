# exec inputs: root runs `exec --shared=DIR` on a directory that a user named. A newline in
# that path used to add configuration lines to the throw-away VM (here: [qemu] path = the
# user's program, run as root as the VMM). Paths with control characters are refused with an
# error that names the option; nothing starts and nothing is left; a legit exec still works.
. "$(dirname "$0")/lib.sh"

X="$VMSILO exec --kernel $GUEST/vmlinuz --initrd $GUEST/initrd.gz"
cat >"$T/evil" <<EOS
#!/bin/sh
touch "$T/pwned"
exit 1
EOS
chmod +x "$T/evil"

# a real directory whose path, written into an INI file, reads as three more lines
inj="$T/a
[qemu]
path = $T/evil
[virtiofs x]
path = $T/b"
mkdir -p "$inj" "$T/a" "$T/b"

expect 125 $X -q --shared="$inj" 'true'
err_has "invalid --shared '$T/a\n[qemu]\npath = $T/evil\n[virtiofs x]\npath = $T/b'"
[ ! -e "$T/pwned" ] || fail "the user's program ran as the VMM"

# a symlink to it, whose own name is clean, is refused as well (the resolved path counts)
ln -s "$inj" "$T/clean"
expect 125 $X -q --shared="$T/clean" 'true'
err_has "invalid --shared"
[ ! -e "$T/pwned" ] || fail "the user's program ran as the VMM"

# a kernel path with a newline or an escape
expect 125 $X -q --kernel "$(printf '%s/k\nx' "$T")" 'true'
err_has "invalid --kernel '$T/k\nx'"
expect 125 $X -q --kernel "$(printf '%s/k\033[2J' "$T")" 'true'
err_has "invalid --kernel '$T/k\x1b[2J'"
expect 125 $X -q --initrd "$(printf '%s/i\rx' "$T")" 'true'
err_has "invalid --initrd '$T/i\rx'"
expect 125 $X -q 'true' -- "$(printf -- '-name\nx')"
err_has "invalid VMM argument '-name\nx'"

# nothing started, nothing left
assert_no_run_state
assert_no_processes
pgrep -f "virtiofsd.*$T/" >/dev/null && fail "virtiofsd left running"

# config files: a kernel or disk path with a control character names file:line
mkdir -p "$CONF/vms"
printf '[vm]\nvmm = qemu\nkernel = %s/k\033x\n' "$T" >"$CONF/vms/c.conf"
expect 3 "$VMSILO" start c
err_has "$CONF/vms/c.conf:3: invalid value '$T/k\x1bx' for 'kernel' in [vm]: control characters are not allowed"
printf '[vm]\nvmm = qemu\nkernel = %s\n[disk d]\npath = /d\tx\n' "$GUEST/vmlinuz" >"$CONF/vms/c.conf"
expect 3 "$VMSILO" start c
err_has "$CONF/vms/c.conf:5: invalid value '/d\tx' for 'path' in [disk d]"
rm "$CONF/vms/c.conf"

# the legit use still works
mkdir -p "$T/shared"
expect 0 $X -q --shared="$T/shared" 'echo from-guest > out.txt'
[ "$(cat "$T/shared/out.txt")" = from-guest ] || fail "legit exec did not write its file"
[ -z "$(ls -A "$VMSILO_STATE_DIR" 2>/dev/null)" ] || fail "exec left state: $(ls "$VMSILO_STATE_DIR")"
assert_no_run_state
assert_no_processes
[ ! -e "$T/pwned" ] || fail "the user's program ran"
true
