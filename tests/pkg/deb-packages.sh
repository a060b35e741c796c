# The Debian packaging: debian/control has one package per plugins/* (it is what
# debian/gen-control writes); `dpkg-buildpackage -us -uc -b` builds, from a copy of the tree
# and without network, vmsilo-core, libvmsilo-plugin-dev, vmsilo-plugin-NAME for every
# plugin and vmsilo-guest, each with exactly its files; lintian finds no error; and in a
# scratch root (dpkg --root) installing vmsilo-core and one plugin package enables exactly that plugin, and
# removing the package disables it cleanly.
. "$(dirname "$0")/../cli/lib.sh"

for tool in dpkg-buildpackage dh lintian dpkg-deb; do
        command -v "$tool" >/dev/null || fail "$tool not installed (scripts/install-deps.sh)"
done
cd "$TOP"
sh debian/gen-control >"$T/control" || fail "debian/gen-control failed"
diff -u debian/control "$T/control" >&2 ||
        fail "debian/control is not what debian/gen-control writes for plugins/*: run 'sh debian/gen-control > debian/control'"
plugins=$(for d in plugins/*/; do basename "$d"; done)
version=$(dpkg-parsechangelog -S Version)
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)

# build from a copy: the build must not need the tree's build dirs, git or the network
mkdir -p "$T/src"
tar -C "$TOP" --exclude=./build --exclude=./build-asan --exclude=./.git --exclude=./debian/build -cf - . |
        tar -C "$T/src" -xf -
(cd "$T/src" && unshare -n true 2>/dev/null && exec unshare -n dpkg-buildpackage -us -uc -b -j"$(nproc)" ||
        exec dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$T/build.log" 2>&1 ||
        { tail -n 40 "$T/build.log" >&2; fail "dpkg-buildpackage failed (log: $T/build.log)"; }
grep -q '^PASS: debian/build/tests/test-' "$T/build.log" || fail "the package build ran no unit tests"
grep -q '^FAIL' "$T/build.log" && fail "unit tests failed in the package build"

deb() { echo "$T/${1}_${version}_$arch.deb"; }
# files PKG: the regular files and links of a package, without its docs
files() { dpkg-deb -c "$(deb "$1")" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./||' | grep -v '^usr/share/doc/' | sort; }

for p in vmsilo-core libvmsilo-plugin-dev; do [ -f "$(deb $p)" ] || fail "no $p package"; done
for name in $plugins; do
        pkg=vmsilo-plugin-$name
        [ -f "$(deb "$pkg")" ] || fail "plugins/$name has no package $pkg"
        want="usr/lib/$triplet/vmsilo/plugins/$name.so"
        [ -f "conf.d/50-$name.conf" ] && want="$want usr/lib/vmsilo/conf.d/50-$name.conf"
        for c in plugins/"$name"/launch/*.c; do # programs the plugin runs, next to it
                [ -f "$c" ] && want="$want usr/lib/$triplet/vmsilo/plugins/$(basename "$c" .c)"
        done
        for c in plugins/"$name"/companion/*.c; do # its companions, in plugins/NAME/
                [ -f "$c" ] && want="$want usr/lib/$triplet/vmsilo/plugins/$name/$(basename "$c" .c).so"
        done
        [ "$(files "$pkg" | tr '\n' ' ')" = "$(printf '%s\n' $want | sort | tr '\n' ' ')" ] ||
                fail "$pkg ships: $(files "$pkg" | tr '\n' ' '), expected: $want"
        depends=$(dpkg-deb -f "$(deb "$pkg")" Depends)
        echo "$depends" | grep -qF "vmsilo-core (= $version)" || fail "$pkg does not depend on vmsilo-core"
        # a library that only a companion links is still a dependency of the package
        rm -rf "$T/x" && dpkg-deb -x "$(deb "$pkg")" "$T/x"
        for so in "$T/x/usr/lib/$triplet/vmsilo/plugins/$name"/*.so; do
                [ -f "$so" ] || continue
                for lib in $(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v '^libc\.so'); do
                        owner=$(dpkg -S "*/$lib" 2>/dev/null | head -n 1 | cut -d: -f1)
                        [ -n "$owner" ] || fail "no package has $lib, which ${so#"$T/x/"} needs"
                        echo "$depends" | grep -q "\b$owner\b" ||
                                fail "$pkg does not depend on $owner ($lib, for ${so#"$T/x/"}): $depends"
                done
        done
done
files vmsilo-core >"$T/core.files"
for f in usr/bin/vmsilo-core lib/systemd/system/vmsilo@.service lib/systemd/system/vmsilo-run@.socket \
        lib/systemd/system/vmsilo-run@.service usr/share/man/man1/vmsilo-core.1.gz \
        usr/share/man/man5/vmsilo.conf.5.gz usr/share/bash-completion/completions/vmsilo-core \
        usr/share/polkit-1/rules.d/50-vmsilo.rules; do
        grep -qx "$f" "$T/core.files" || fail "vmsilo-core lacks $f"
done
grep -q -e '\.so$' -e 'conf\.d/' "$T/core.files" && fail "vmsilo-core ships a plugin or a drop-in: $(cat "$T/core.files")"
files libvmsilo-plugin-dev >"$T/dev.files"
for f in usr/include/vmsilo/plugin.h "usr/lib/$triplet/pkgconfig/vmsilo-plugin.pc" usr/share/man/man7/vmsilo-plugin.7.gz; do
        grep -qx "$f" "$T/dev.files" || fail "libvmsilo-plugin-dev lacks $f"
done

# vmsilo-guest: the static agent, its unit, udev rule, generator and initramfs script, for a
# guest's root; it needs nothing but systemd and udev, and vmsilo-core ships none of it
[ -f "$(deb vmsilo-guest)" ] || fail "no vmsilo-guest package"
files vmsilo-guest >"$T/guest.files"
for f in usr/libexec/vmsilo/vmsilo-agent lib/systemd/system/vmsilo-agent.service \
        lib/udev/rules.d/60-vmsilo-agent.rules lib/systemd/system-generators/vmsilo-generator \
        usr/share/initramfs-tools/scripts/local-bottom/vmsilo-guest; do
        grep -qx "$f" "$T/guest.files" || fail "vmsilo-guest lacks $f"
        grep -qx "$f" "$T/core.files" && fail "vmsilo-core ships the guest's $f"
done
[ "$(dpkg-deb -f "$(deb vmsilo-guest)" Depends)" = "systemd, udev" ] ||
        fail "vmsilo-guest depends on: $(dpkg-deb -f "$(deb vmsilo-guest)" Depends)"
dpkg-deb --fsys-tarfile "$(deb vmsilo-guest)" | tar -xOf - ./usr/libexec/vmsilo/vmsilo-agent >"$T/agent"
readelf -d "$T/agent" | grep -q NEEDED && fail "the packaged agent is not static"
dpkg-deb --fsys-tarfile "$(deb vmsilo-guest)" | tar -xOf - ./lib/systemd/system/vmsilo-agent.service |
        grep -qx 'ExecStart=/usr/libexec/vmsilo/vmsilo-agent --root / --port /dev/virtio-ports/org.vmsilo.agent --vsock' ||
        fail "vmsilo-agent.service does not start the packaged agent"

# lintian: no errors (warnings are listed in the log)
TMPDIR="$T" lintian --fail-on error --display-info "$T/vmsilo-core_${version}_$arch.changes" >"$T/lintian.txt" 2>&1 ||
        { cat "$T/lintian.txt" >&2; fail "lintian reports errors"; }
grep -q '^E:' "$T/lintian.txt" && { cat "$T/lintian.txt" >&2; fail "lintian reports errors"; }

# a scratch root with a dpkg database; install the core and one plugin (dpkg wants root even
# for --root: without it, the packages were built and checked, and the rest is skipped)
if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: installing the packages into a scratch root needs root"
        exit 0
fi
R="$T/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers"
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
dpkg --root="$R" --force-depends --force-script-chrootless -i "$(deb vmsilo-core)" "$(deb vmsilo-plugin-overlay)" \
        >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log" >&2; fail "dpkg -i into the scratch root"; }
unset VMSILO_CONF_PATH VMSILO_ROOT VMSILO_PLUGIN_DIR
VMSILO="$R/usr/bin/vmsilo-core"
plugindir="$R/usr/lib/$triplet/vmsilo/plugins"

# the binary's own plugin dir is where the packages put plugins
expect 3 "$VMSILO" --root "$R" plugins --json
[ "$(jq -r '.[0].path' "$T/out")" = "/usr/lib/$triplet/vmsilo/plugins/overlay.so" ] ||
        fail "the packaged vmsilo-core looks for plugins elsewhere: $(cat "$T/out")"

export VMSILO_PLUGIN_DIR="$plugindir"
expect 0 "$VMSILO" --root "$R" plugins --json
[ "$(jq -r '[.[] | .name + " " + (.loaded|tostring) + " " + .enabled_by] | join(",")' "$T/out")" = \
        "overlay true $R/usr/lib/vmsilo/conf.d/50-overlay.conf:3" ] || fail "enabled plugins: $(cat "$T/out")"

# a VM using it: print works; the other plugins' packages are not installed, so their sections are errors
use_crosvm upstream
mkdir -p "$R/etc/vmsilo/vms" "$R/etc/vmsilo/conf.d"
cp "$CONF/conf.d/10-crosvm.conf" "$R/etc/vmsilo/conf.d/"
: >"$T/img/vmlinuz"
printf '[vm]\nkernel = %s\n\n[overlay]\ntype = tmpfs\n' "$T/img/vmlinuz" >"$R/etc/vmsilo/vms/web.conf"
expect 0 "$VMSILO" --root "$R" print --json web
jq -r '.argv[]' "$T/out" | grep -qx -- '--params=vmsilo.overlay=tmpfs' || fail "overlay did not contribute"
printf '[vm]\nkernel = %s\n\n[virtiofs docs]\npath = /srv\n' "$T/img/vmlinuz" >"$R/etc/vmsilo/vms/docs.conf"
expect 3 "$VMSILO" --root "$R" check docs
err_has "section [virtiofs docs] belongs to no enabled plugin"

# removing the package disables it and leaves nothing of it
dpkg --root="$R" --force-script-chrootless -r vmsilo-plugin-overlay >"$T/dpkg.log" 2>&1 ||
        { cat "$T/dpkg.log" >&2; fail "dpkg -r"; }
[ ! -e "$plugindir/overlay.so" ] && [ ! -e "$R/usr/lib/vmsilo/conf.d/50-overlay.conf" ] ||
        fail "files of vmsilo-plugin-overlay left after removal"
expect 0 "$VMSILO" --root "$R" plugins --json
[ "$(cat "$T/out")" = "[]" ] || fail "plugins after removal: $(cat "$T/out")"
expect 3 "$VMSILO" --root "$R" print web
err_has "section [overlay] belongs to no enabled plugin"
rm "$R/etc/vmsilo/vms/docs.conf"
printf '[vm]\nkernel = %s\n' "$T/img/vmlinuz" >"$R/etc/vmsilo/vms/web.conf"
expect 0 "$VMSILO" --root "$R" print web
dpkg --root="$R" --force-script-chrootless -P vmsilo-core >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log" >&2; fail "dpkg -P"; }
left=$(cd "$R" && find . -path ./var/lib/dpkg -prune -o -path ./etc/vmsilo -prune -o -type f -print)
[ -z "$left" ] || fail "files left after purging: $left"
