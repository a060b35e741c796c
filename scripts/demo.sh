#!/bin/sh
# The demo: build, prepare the test guest, start the shipped demo VM through the QEMU
# backend, run a command inside it, print its output and exit status, stop it.
# Works as any user (QEMU under TCG needs no root); everything stays under build/demo.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)

make -s all
scripts/build-guest.sh build/guest

D="$TOP/build/demo"
rm -rf "$D"
mkdir -p "$D/etc/vms" "$D/run" "$D/state" "$D/cache"
sed -e "s|@GUEST@|$TOP/build/guest|g" -e "s|@STATE@|$D/state|g" \
        examples/demo/demo.conf.in >"$D/etc/vms/demo.conf"

export VMSILO_CONF_PATH="$D/etc:$TOP"       # the demo VM + the shipped conf.d/ drop-ins
export VMSILO_RUNTIME_DIR="$D/run"
export VMSILO_CACHE_DIR="$D/cache"
export VMSILO_PLUGIN_DIR="$TOP/build/plugins"
V="$TOP/build/vmsilo-core"

stop_demo() { "$V" stop demo >/dev/null 2>&1 || true; }
trap stop_demo EXIT INT TERM

echo "== vmsilo-core plugins"
"$V" plugins
echo "== vmsilo-core start demo"
"$V" -v start demo
echo "== vmsilo-core run demo sh -c '...'"
set +e
"$V" run demo sh -c 'echo "hello from $(hostname), kernel $(uname -r)"; ls /etc/vmsilo-rootfs; exit 7'
status=$?
set -e
echo "== exit status of the command in the VM: $status"
echo "== vmsilo-core stop demo"
"$V" stop demo
trap - EXIT INT TERM
echo "== left behind in $D/run: $(ls -A "$D/run" | wc -l) entries"
[ "$status" -eq 7 ]
