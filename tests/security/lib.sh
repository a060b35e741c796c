# Security tests: each one starts real VMs (QEMU TCG, the test guest) and attacks one
# boundary of docs/security.md as a hostile guest or an unprivileged local user would.
# A test passes only when the attack fails. Shares the e2e helpers.
. "$(dirname "$0")/../e2e/lib.sh"

# outside $T: a test may hand $T to one of its users
TEST_USERS_FILE=$(mktemp /tmp/vmsilo-test-users.XXXXXX)

# An unprivileged local user of the test's own, removed when the test ends. Prints its name.
# Recorded in a file, not a variable: callers run it in a command substitution (a subshell).
make_test_user() {
        u="vmsilo-t$$-$1"
        u=$(printf '%s' "$u" | cut -c1-31)
        useradd --no-create-home --shell /bin/sh --home-dir / "$u" >/dev/null 2>&1 ||
                fail "useradd $u failed"
        printf '%s\n' "$u" >>"$TEST_USERS_FILE"
        printf '%s\n' "$u"
}

remove_test_users() {
        [ -f "$TEST_USERS_FILE" ] || return 0
        while read -r u; do
                userdel "$u" >/dev/null 2>&1 || true
        done <"$TEST_USERS_FILE"
        rm -f "$TEST_USERS_FILE"
}

security_cleanup() {
        # a test user's VM that a failed test left running: root may not act on a user's
        # runtime dir, so its owner stops it (before the user is removed)
        for d in "$RUN"/*/; do
                [ -d "$d" ] || continue
                owner=$(stat -c %U "$d")
                [ "$owner" != root ] || continue
                setpriv --reuid="$owner" --regid="$(id -g "$owner")" --init-groups -- \
                        "$VMSILO" stop --timeout 2 "$(basename "$d")" >/dev/null 2>&1 || true
        done
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
