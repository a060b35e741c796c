# Shared by the packaging tests (tests/pkg/): the CLI test environment of tests/cli/lib.sh
# (private $T, $RUN, the stand-in crosvm) plus a staged install of vmsilo-core in $ROOT,
# as `make install DESTDIR=$ROOT PREFIX=/usr` makes it.
. "$(dirname "$0")/../cli/lib.sh"

ROOT="$T/root"

# stage_install: fills $ROOT. `make check` stages once ($VMSILO_STAGED, see mk/ecosystem.mk)
# and each test copies it; run alone, a test builds its own (in $T/build, so that the
# /usr prefix is compiled in and the tree's build/ is not touched).
stage_install() {
        if [ -n "${VMSILO_STAGED:-}" ] && [ -x "$VMSILO_STAGED/usr/bin/vmsilo-core" ]; then
                cp -a "$VMSILO_STAGED" "$ROOT"
                return
        fi
        make -C "$TOP" -s BUILD="$T/build" PREFIX=/usr prefix=/usr DESTDIR="$ROOT" install \
                >"$T/make.log" 2>&1 || { cat "$T/make.log" >&2; fail "make install DESTDIR=$ROOT PREFIX=/usr"; }
}

# use_root: the installed vmsilo-core reads configuration under $ROOT (--root semantics:
# $ROOT/etc/vmsilo, $ROOT/run/vmsilo, $ROOT/usr/local/lib/vmsilo, $ROOT/usr/lib/vmsilo);
# its plugin dir is the compiled-in /usr/lib/vmsilo/plugins, which --root does not prefix.
use_root() {
        VMSILO="$ROOT/usr/bin/vmsilo-core"
        CONF="$ROOT/etc/vmsilo"
        mkdir -p "$CONF/conf.d" "$CONF/vms"
        unset VMSILO_CONF_PATH
        export VMSILO_ROOT="$ROOT"
        export VMSILO_PLUGIN_DIR="$ROOT${1:-/usr/lib/vmsilo/plugins}"
}

# mask_shipped_except NAME...: links every shipped conf.d drop-in but those of NAMEs to
# /dev/null in $CONF/conf.d, so only those plugins are enabled.
mask_shipped_except() {
        for f in "$ROOT"/usr/lib/vmsilo/conf.d/*.conf; do
                [ -e "$f" ] || continue
                keep=0
                for n in "$@"; do
                        [ "$(basename "$f")" = "50-$n.conf" ] && keep=1
                done
                [ "$keep" = 1 ] || ln -sf /dev/null "$CONF/conf.d/$(basename "$f")"
        done
}
