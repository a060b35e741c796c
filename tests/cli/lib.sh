# Shared by the CLI tests: a private configuration root, runtime dir and cache, the built
# vmsilo-core and the recording stand-in crosvm (tests/fake-crosvm).
set -eu

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
VMSILO="$BUILD/vmsilo-core"
FAKE_CROSVM="$BUILD/fake-crosvm"

T=$(mktemp -d /tmp/vmsilo-test.XXXXXX)
CONF="$T/etc"
RUN="$T/run"
mkdir -p "$CONF/conf.d" "$CONF/vms" "$RUN" "$T/state" "$T/img"
export VMSILO_CONF_PATH="$CONF:$TOP"
export VMSILO_RUNTIME_DIR="$RUN"
export VMSILO_CACHE_DIR="$T/cache"
export VMSILO_STATE_DIR="$T/vstate"
export VMSILO_PLUGIN_DIR="$BUILD/plugins"
export FAKE_CROSVM_RECORD="$T/record.jsonl"
unset VMSILO_ROOT

cleanup_test() {
        # stop whatever a failed test left running, then remove the temp tree
        for d in "$RUN"/*/; do
                [ -d "$d" ] || continue
                "$VMSILO" stop --timeout 2 "$(basename "$d")" >/dev/null 2>&1 || true
        done
        rm -rf "$T"
}
trap cleanup_test EXIT

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

# expect CODE CMD...: runs CMD, stdout to $T/out, stderr to $T/err, checks the exit code
expect() {
        want=$1
        shift
        set +e
        "$@" >"$T/out" 2>"$T/err"
        got=$?
        set -e
        if [ "$got" -ne "$want" ]; then
                echo "--- stdout" >&2
                cat "$T/out" >&2
                echo "--- stderr" >&2
                cat "$T/err" >&2
                fail "'$*' exited $got, expected $want"
        fi
}

# err_has TEXT: stderr of the last expect contains TEXT (fixed string)
err_has() {
        grep -qF -- "$1" "$T/err" || { cat "$T/err" >&2; fail "stderr lacks '$1'"; }
}

out_has() {
        grep -qF -- "$1" "$T/out" || { cat "$T/out" >&2; fail "stdout lacks '$1'"; }
}

# A crosvm stand-in of a flavour, configured globally.
use_crosvm() {
        flavour=$1
        cat >"$T/crosvm" <<EOS
#!/bin/sh
FAKE_CROSVM_FLAVOUR=$flavour exec "$FAKE_CROSVM" "\$@"
EOS
        chmod +x "$T/crosvm"
        printf '[crosvm]\npath = %s\n' "$T/crosvm" >"$CONF/conf.d/10-crosvm.conf"
}

# A VM whose files exist: kernel, initrd, root disk.
make_vm() {
        name=$1
        : >"$T/img/vmlinuz"
        : >"$T/img/initrd"
        : >"$T/img/root.img"
        cat >"$CONF/vms/$name.conf" <<EOS
[vm]
memory = 1024
cpus = 2
kernel = $T/img/vmlinuz
initrd = $T/img/initrd
root-disk = $T/img/root.img
EOS
}

# No process of ours (fake crosvm, helpers) may survive a test.
assert_no_processes() {
        if pgrep -f "$T/" >/dev/null 2>&1; then
                ps -ef | grep -F "$T/" | grep -v grep >&2 || true
                fail "processes left behind"
        fi
}

assert_no_run_state() {
        if [ -n "$(ls -A "$RUN" 2>/dev/null)" ]; then
                find "$RUN" >&2
                fail "run state left behind in $RUN"
        fi
}

# The last recorded invocation of the stand-in crosvm, as one argv element per line.
last_record() {
        tail -n 1 "$FAKE_CROSVM_RECORD" | jq -r '.[]'
}

# 1 if PID runs (a zombie waiting for a busy init to reap it does not count)
pid_alive() {
        [ -r "/proc/$1/stat" ] || return 1
        state=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
        [ "$state" != Z ] && [ "$state" != X ]
}
