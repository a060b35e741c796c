# Guest text: what the guest says in an agent ERROR frame (here: the name of a command that
# does not exist, and of an unknown user, both full of terminal controls) reaches the host's
# stderr escaped: no raw ESC, BEL or CR, and no line of the guest's own making. The command's
# own stdout/stderr is data and stays byte-exact.
. "$(dirname "$0")/lib.sh"

make_qemu_vm gt

# a line of stderr that vmsilo-core printed must not carry raw control bytes
assert_clean_err() {
        if LC_ALL=C grep -q "$(printf '[\033\007\r]')" "$T/err"; then
                od -c "$T/err" | head -20 >&2
                fail "raw control bytes from the guest on the host's stderr"
        fi
        if grep -v '^vmsilo-core: ' "$T/err" | grep -q .; then
                cat "$T/err" >&2
                fail "the guest wrote a line of its own on the host's stderr"
        fi
}

evil=$(printf 'x\033]0;pwned\007\033[2J\rFAKE: log\nFAKE: vmsilo-core: VM stopped')
expect 125 "$VMSILO" run gt "$evil"
assert_clean_err
err_has "failed to execute 'x\\x1b]0;pwned\\x07\\x1b[2J\\rFAKE: log\\nFAKE: vmsilo-core: VM stopped'"

expect 125 "$VMSILO" run -u "$(printf 'nobody\033[31m\nFAKE: x')" gt true
assert_clean_err
err_has 'nobody\x1b[31m\nFAKE: x'

# the command's own output is data: byte-exact, controls included
expect 0 "$VMSILO" run gt printf 'a\033[1mb\r\n'
printf 'a\033[1mb\r\n' | cmp - "$T/out" || fail "stdout is not byte-exact"

expect 0 "$VMSILO" stop gt
assert_no_qemu gt
assert_no_run_state
