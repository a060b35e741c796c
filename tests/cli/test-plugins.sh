# `plugins` lists what the drop-ins enable; a /dev/null mask disables; every built plugin
# loads (dlopen smoke test) and exports exactly the descriptor.
. "$(dirname "$0")/lib.sh"

expect 0 "$VMSILO" plugins
out_has "overlay"
grep -q "^overlay  *0\.1\.0  *1  *$VMSILO_PLUGIN_DIR/overlay.so  *$TOP/conf.d/50-overlay.conf:3$" "$T/out" ||
        { cat "$T/out" >&2; fail "plugins line for overlay"; }

expect 0 "$VMSILO" plugins --json
[ "$(jq -r '.[] | select(.name == "overlay") | .enabled_by' "$T/out")" = "$TOP/conf.d/50-overlay.conf:3" ] ||
        fail "json enabled_by"
[ "$(jq -r '.[] | select(.name == "overlay") | .loaded' "$T/out")" = true ] || fail "json loaded"

# an admin masks the shipped drop-in
ln -s /dev/null "$CONF/conf.d/50-overlay.conf"
expect 0 "$VMSILO" plugins
grep -q '^overlay' "$T/out" && fail "masked plugin still listed"
rm "$CONF/conf.d/50-overlay.conf"

# a later drop-in disables it again
printf '[plugin overlay]\nenable = no\n' >"$CONF/conf.d/90-no-overlay.conf"
expect 0 "$VMSILO" plugins
grep -q '^overlay' "$T/out" && fail "enable = no did not disable"
rm "$CONF/conf.d/90-no-overlay.conf"

# smoke test: every built plugin loads through the real loader and exports one symbol
n=0
for so in "$BUILD"/plugins/*.so; do
        name=$(basename "$so" .so)
        printf '[plugin %s]\nenable = yes\n' "$name" >"$CONF/conf.d/99-smoke.conf"
        expect 0 "$VMSILO" plugins --json
        [ "$(jq -r --arg n "$name" '.[] | select(.name == $n) | .loaded' "$T/out")" = true ] ||
                fail "plugin '$name' does not load"
        syms=$(nm -D --defined-only "$so" | awk '{print $3}' | sort | tr '\n' ' ')
        [ "$syms" = "vmsilo_plugin_v1 " ] || fail "plugin '$name' exports: $syms"
        n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no plugins built"
rm "$CONF/conf.d/99-smoke.conf"

# companions (host->companion()): a plugin's library is mapped only for a VM that needs it.
# `check` runs every preflight; ld.so says which objects it maps (LD_DEBUG=files).
companion_maps() { # VM: the companions `check VM` mapped, one per line
        LD_DEBUG=files "$VMSILO" check "$1" >/dev/null 2>"$T/ld" || true
        sed -n 's|.*file=\('"$VMSILO_PLUGIN_DIR"'/[a-z]*/[a-z]*\.so\) .*|\1|p' "$T/ld" | sort -u
}
make_vm plain
[ -z "$(companion_maps plain)" ] || fail "a VM without devices mapped: $(companion_maps plain)"
grep -q 'libnl-route-3' "$T/ld" && fail "a VM without a network mapped libnl"
make_vm netted
printf '[net eth0]\ndhcp = yes\n' >>"$CONF/vms/netted.conf"
[ "$(companion_maps netted)" = "$VMSILO_PLUGIN_DIR/net/netlink.so" ] ||
        fail "a VM with [net eth0] mapped '$(companion_maps netted)', not net/netlink.so"
grep -q 'libnl-route-3' "$T/ld" || fail "net/netlink.so did not bring libnl-route-3"
for so in "$BUILD"/plugins/*/*.so; do # each plugin's companions are linked with its libraries
        [ -n "$(ldd "$so" | grep -v 'linux-vdso\|libc\.so\|ld-linux')" ] ||
                fail "companion '$so' links no library: why is it a companion?"
done
for so in "$BUILD"/plugins/gpu.so "$BUILD"/plugins/net.so "$BUILD"/plugins/sound.so; do
        ldd "$so" | grep -q 'wayland\|libnl\|pipewire' && fail "'$so' still links its library"
done

# a broken plugin makes `plugins` say so and exit 3
: >"$T/empty.so"
printf '[plugin empty]\nenable = yes\npath = %s/empty.so\n' "$T" >"$CONF/conf.d/99-broken.conf"
expect 3 "$VMSILO" plugins
err_has "plugin 'empty': '$T/empty.so' is not a shared object"
