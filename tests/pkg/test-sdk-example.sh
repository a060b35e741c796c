# The SDK after `make install`: pkg-config gives the flags and the plugin and conf dirs; the
# out-of-tree example plugin (examples/plugin-example, its own Makefile, nothing but
# pkg-config) builds outside the source tree against the staged root, passes its mock-host
# unit tests, installs into the root, is enabled by its drop-in and takes part in `plugins`,
# `check`, `print`, `start`, `stop` and `cleanup` after a crash.
. "$(dirname "$0")/lib.sh"

stage_install
use_root

# pkg-config, pointed into the staged root only
export PKG_CONFIG_LIBDIR="$ROOT/usr/lib/pkgconfig:$ROOT/usr/share/pkgconfig"
unset PKG_CONFIG_PATH
export PKG_CONFIG_SYSROOT_DIR="$ROOT"
pkg-config --exists vmsilo-plugin || fail "pkg-config does not find vmsilo-plugin in $ROOT"
[ "$(pkg-config --modversion vmsilo-plugin)" = "$(sed -n 's/^VERSION := //p' "$TOP/Makefile")" ] ||
        fail "vmsilo-plugin version is not the Makefile's VERSION"
cflags=$(pkg-config --cflags vmsilo-plugin)
case " $cflags " in *" -I$ROOT/usr/include "*) ;; *) fail "cflags lack -I$ROOT/usr/include: $cflags" ;; esac
case " $cflags " in *" -fvisibility=hidden "*) ;; *) fail "cflags lack -fvisibility=hidden: $cflags" ;; esac
[ -f "$ROOT/usr/include/vmsilo/plugin.h" ] || fail "plugin.h not installed"
# pkgconf prefixes variables with the sysroot too; without it they are the target paths
[ "$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=plugindir vmsilo-plugin)" = /usr/lib/vmsilo/plugins ] ||
        fail "plugindir: $(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=plugindir vmsilo-plugin)"
[ "$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=confdir vmsilo-plugin)" = /usr/lib/vmsilo/conf.d ] ||
        fail "confdir: $(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=confdir vmsilo-plugin)"
[ "$(pkg-config --variable=plugindir vmsilo-plugin)" = "$ROOT/usr/lib/vmsilo/plugins" ] ||
        fail "plugindir under the sysroot: $(pkg-config --variable=plugindir vmsilo-plugin)"
# the binary's compiled-in plugin dir is the one the .pc announces
grep -qaF /usr/lib/vmsilo/plugins "$ROOT/usr/bin/vmsilo-core" || fail "vmsilo-core was not built for /usr"

# build, test and install the example outside the source tree
cp -r "$TOP/examples/plugin-example" "$T/example"
make -C "$T/example" >"$T/build.log" 2>&1 || { cat "$T/build.log" >&2; fail "example does not build"; }
grep -qF -- "-I$ROOT/usr/include" "$T/build.log" || fail "example not built against the staged SDK"
syms=$(nm -D --defined-only "$T/example/example.so" | awk '{print $3}' | tr '\n' ' ')
[ "$syms" = "vmsilo_plugin_v1 " ] || fail "example exports: $syms"
make -C "$T/example" check MOCK_HOST="$TOP/tests/mock-host" >"$T/unit.log" 2>&1 ||
        { cat "$T/unit.log" >&2; fail "example unit tests"; }
grep -q 'tests  *6  *6  *6  *0' "$T/unit.log" || { cat "$T/unit.log" >&2; fail "example unit test count"; }
make -C "$T/example" install >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; fail "example install"; }
[ -f "$ROOT/usr/lib/vmsilo/plugins/example.so" ] || fail "example.so not installed into the root"
[ -f "$ROOT/usr/lib/vmsilo/conf.d/50-example.conf" ] || fail "50-example.conf not installed"

# only the example enabled: every other shipped drop-in masked
mask_shipped_except example
expect 0 "$VMSILO" plugins --json
[ "$(jq -r '[.[].name] | join(" ")' "$T/out")" = example ] || fail "plugins: $(cat "$T/out")"
[ "$(jq -r '.[0].enabled_by' "$T/out")" = "$ROOT/usr/lib/vmsilo/conf.d/50-example.conf:4" ] ||
        fail "enabled_by: $(jq -r '.[0].enabled_by' "$T/out")"
[ "$(jq -r '.[0].version + " " + (.[0].abi|tostring) + " " + (.[0].loaded|tostring)' "$T/out")" = "1.1.0 1 true" ] ||
        fail "plugins json: $(cat "$T/out")"

use_crosvm upstream
make_vm web
mkdir -p "$T/stamps"

# check: its preflight takes part (and fails with its own message)
mkdir -p "$CONF/vms/web.conf.d"
printf '[example]\nmessage = hi-there\nstamp-directory = %s/missing\n' "$T" >"$CONF/vms/web.conf.d/50-example.conf"
expect 4 "$VMSILO" check web
err_has "example: stamp directory '$T/missing' is not a writable directory"
err_has "1 preflight check failed for VM 'web'"

# configure: a bad value names file:line and the key
printf '[example]\nmessage = two words\n' >"$CONF/vms/web.conf.d/60-bad.conf"
expect 3 "$VMSILO" check web
err_has "$CONF/vms/web.conf.d/60-bad.conf:2: example: invalid value 'two words' for 'message' in [example]"
printf '[example]\ncolour = red\n' >"$CONF/vms/web.conf.d/60-bad.conf"
expect 3 "$VMSILO" check web
err_has "$CONF/vms/web.conf.d/60-bad.conf:2: unknown key 'colour' in section [example]"
rm "$CONF/vms/web.conf.d/60-bad.conf"

printf '[example]\nmessage = hi-there\nstamp-directory = %s/stamps\n' "$T" >"$CONF/vms/web.conf.d/50-example.conf"
expect 0 "$VMSILO" check web
out_has "VM 'web': all preflight checks passed (1 plugin)"

# print: its host change is listed, its kernel parameter is in the argv, nothing is made
expect 0 "$VMSILO" print --json web
[ "$(jq -r '.steps[]' "$T/out")" = "example: write stamp file '$T/stamps/web.stamp'" ] ||
        fail "print steps: $(jq -c .steps "$T/out")"
jq -r '.argv[]' "$T/out" | grep -qx -- '--params=example.message=hi-there' || fail "print argv lacks the parameter: $(jq -c .argv "$T/out")"
[ ! -e "$T/stamps/web.stamp" ] || fail "print made the stamp file"

# start: the file is made, crosvm gets the parameter; stop removes the file
: >"$FAKE_CROSVM_RECORD"
expect 0 "$VMSILO" start web
[ "$(cat "$T/stamps/web.stamp")" = "vm=web id=3 message=hi-there" ] || fail "stamp: $(cat "$T/stamps/web.stamp" 2>&1)"
grep '"run"' "$FAKE_CROSVM_RECORD" | tail -n 1 | jq -r '.[]' | grep -qx -- '--params=example.message=hi-there' ||
        fail "crosvm was not given example.message=hi-there"
expect 0 "$VMSILO" stop web
[ ! -e "$T/stamps/web.stamp" ] || fail "stop left the stamp file"
assert_no_run_state
assert_no_processes

# a crash of the launcher: `cleanup` in a new process calls the plugin's undo from the journal
expect 0 "$VMSILO" start web
[ -f "$T/stamps/web.stamp" ] || fail "no stamp after the second start"
sup=$(cat "$RUN/web/supervisor.pid" | cut -d' ' -f1)
vmm=$(cat "$RUN/web/vmm.pid" | cut -d' ' -f1)
kill -KILL "$sup" "$vmm"
for _ in $(seq 100); do pid_alive "$sup" || pid_alive "$vmm" || break; sleep 0.05; done
[ -f "$T/stamps/web.stamp" ] || fail "the stamp vanished without an undo"
expect 0 "$VMSILO" cleanup web
[ ! -e "$T/stamps/web.stamp" ] || fail "cleanup did not undo the plugin's change"
assert_no_run_state
assert_no_processes
