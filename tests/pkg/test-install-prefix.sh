# `make` and then `make install PREFIX=/usr` in the same build dir installs a vmsilo-core and
# a vmsilo-plugin.pc built for /usr, not the /usr/local of the first build (the install-path
# stamp of mk/ecosystem.mk), and `make install` twice changes nothing the second time.
. "$(dirname "$0")/lib.sh"

b="$T/b"
make -C "$TOP" -s BUILD="$b" PLUGINS=overlay all >"$T/make.log" 2>&1 || { cat "$T/make.log" >&2; fail "make"; }
grep -q '^plugindir=/usr/local/lib/vmsilo/plugins$' "$b/vmsilo-plugin.pc" || fail "default prefix: $(cat "$b/vmsilo-plugin.pc")"
make -C "$TOP" -s BUILD="$b" PLUGINS=overlay PREFIX=/usr DESTDIR="$ROOT" install >"$T/make.log" 2>&1 ||
        { cat "$T/make.log" >&2; fail "make install PREFIX=/usr"; }
pc="$ROOT/usr/lib/pkgconfig/vmsilo-plugin.pc"
grep -q '^plugindir=/usr/lib/vmsilo/plugins$' "$pc" || fail "installed .pc still points elsewhere: $(cat "$pc")"
grep -q '^confdir=/usr/lib/vmsilo/conf.d$' "$pc" || fail "installed .pc confdir: $(cat "$pc")"
grep -qaF /usr/local/lib/vmsilo/plugins "$ROOT/usr/bin/vmsilo-core" && fail "installed vmsilo-core still has the /usr/local plugin dir"
grep -qaF /usr/lib/vmsilo/plugins "$ROOT/usr/bin/vmsilo-core" || fail "installed vmsilo-core lacks the /usr plugin dir"
grep -qx "ExecStart=/usr/bin/vmsilo-core start --foreground --timeout 30 %i" "$ROOT/usr/lib/systemd/system/vmsilo@.service" ||
        fail "unit not built for /usr: $(grep ExecStart "$ROOT/usr/lib/systemd/system/vmsilo@.service")"
# nothing is rebuilt when the paths did not change
make -C "$TOP" BUILD="$b" PLUGINS=overlay PREFIX=/usr DESTDIR="$ROOT" install >"$T/make.log" 2>&1 || fail "second install"
grep -q ' -c -o ' "$T/make.log" && { cat "$T/make.log" >&2; fail "the second install recompiled"; }
true
