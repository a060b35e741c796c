# Security tests: each one starts real VMs (QEMU TCG, the test guest) and attacks one
# boundary of docs/security.md as a hostile guest or an unprivileged local user would.
# A test passes only when the attack fails. Shares the e2e helpers.
. "$(dirname "$0")/../e2e/lib.sh"

# An unprivileged local user of the test's own, removed when the test ends. Prints its name.
make_test_user() {
        u="vmsilo-t$$-$1"
        u=$(printf '%s' "$u" | cut -c1-31)
        useradd --no-create-home --shell /bin/sh --home-dir / "$u" >/dev/null 2>&1 ||
                fail "useradd $u failed"
        # callers run this in $(...): a variable would not reach the shell that removes them
        printf '%s\n' "$u" >>"$T/test-users"
        printf '%s\n' "$u"
}

remove_test_users() {
        [ -f "$T/test-users" ] || return 0
        while read -r u; do
                userdel "$u" >/dev/null 2>&1 || true
        done <"$T/test-users"
}

security_cleanup() {
        remove_test_users
        cleanup_test
}
trap security_cleanup EXIT

# as_user USER CMD...: runs CMD as USER with no privileges (exit status of CMD)
as_user() {
        who=$1
        shift
        setpriv --reuid="$who" --regid="$(id -g "$who")" --clear-groups --inh-caps=-all -- "$@"
}
