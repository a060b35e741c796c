# Plugins are code that runs as the caller (root for system VMs). A local user who can write
# a plugin, or a directory above it, must not get it loaded: root's start refuses it before
# dlopen() (a constructor would run at load time) and starts nothing.
. "$(dirname "$0")/lib.sh"

attacker=$(make_test_user atk)
make_qemu_vm pt
evil="$T/plugins"
mkdir -p "$evil"
cp "$VMSILO_PLUGIN_DIR"/*.so "$evil/"
# net.so replaced by the attacker's: its constructor leaves a mark as whoever loads it
cat >"$T/evil.c" <<'EOC'
#include <stdio.h>
__attribute__((constructor)) static void pwn(void) {
        FILE *f = fopen(getenv("EVIL_MARK"), "w");
        if (f)
                fclose(f);
}
EOC
cc -shared -fPIC -o "$evil/net.so" "$T/evil.c" || fail "building the evil plugin"
export EVIL_MARK="$T/pwned"

try_start() {
        VMSILO_PLUGIN_DIR="$evil" expect "$1" "$VMSILO" start pt
        [ ! -e "$EVIL_MARK" ] || fail "$2: the attacker's plugin ran as root"
        [ ! -e "$RUN/pt/vmm.pid" ] || fail "$2: a VM was started"
        grep -q "plugin 'net': refusing '$evil/net.so'" "$T/err" ||
                fail "$2: no refusal naming the plugin: $(cat "$T/err")"
}

chown "$attacker" "$evil/net.so"
try_start 3 "plugin file owned by a user"
chown root "$evil/net.so"
chown "$attacker" "$evil"
try_start 3 "plugin dir owned by a user"
chown root "$evil"
chmod 0777 "$evil"
try_start 3 "world-writable plugin dir"
chmod 0775 "$evil"
chgrp "$(id -g "$attacker")" "$evil"
try_start 3 "group-writable plugin dir"

# a symlink from a trusted dir to the attacker's file is resolved and refused too
chmod 0755 "$evil"
chgrp root "$evil"
cp "$T/evil.c" "$T/evil2.c"
mkdir -p "$T/atk" && chown "$attacker" "$T/atk"
cc -shared -fPIC -o "$T/atk/net.so" "$T/evil.c"
chown "$attacker" "$T/atk/net.so"
ln -sf "$T/atk/net.so" "$evil/net.so"
VMSILO_PLUGIN_DIR="$evil" expect 3 "$VMSILO" start pt
[ ! -e "$EVIL_MARK" ] || fail "symlinked plugin: the attacker's plugin ran as root"
grep -q "is owned by uid $(id -u "$attacker")" "$T/err" || fail "symlink: $(cat "$T/err")"

# the real plugins, root-owned, still start the VM
expect 0 "$VMSILO" start pt
expect 0 "$VMSILO" stop pt
