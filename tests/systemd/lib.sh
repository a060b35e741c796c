# The units and the polkit rule against a real systemd, D-Bus and polkit: a Debian 12
# container (mmdebstrap, cached as a tarball outside the tree, keyed by suite and packages)
# booted by systemd-nspawn, with vmsilo-core installed as `make install PREFIX=/usr` makes
# it, QEMU (TCG) and the test guest inside. Driven from outside with nsenter. The container
# is ended by the pid of its systemd-nspawn; nothing stays mounted.
. "$(dirname "$0")/../cli/lib.sh"

SUITE=bookworm
PKGS="dbus,libinih1,libnl-3-200,libnl-route-3-200,libpipewire-0.3-0,libwayland-client0,pkexec,polkitd,procps,qemu-system-x86,socat,systemd-sysv"
CACHE="${VMSILO_TEST_CACHE:-/var/cache/vmsilo-test}/nspawn"
ROOT="$T/root"
GUEST="$BUILD/guest"
NSPAWN=
CT=

systemd_cleanup() {
        if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
                kill -TERM "$NSPAWN" 2>/dev/null || true
                for _ in $(seq 150); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$NSPAWN" 2>/dev/null || true
                wait "$NSPAWN" 2>/dev/null || true
        fi
        if grep -qF " $T/" /proc/self/mountinfo; then
                echo "mounts left under $T:" >&2
                grep -F " $T/" /proc/self/mountinfo >&2
        fi
        rm -rf "$T"
}
trap systemd_cleanup EXIT

# The container's root file system, from the cached tarball (made once: ~3 min).
make_root() {
        key=$(printf '%s %s' "$SUITE" "$PKGS" | sha256sum | cut -c1-12)
        tarball="$CACHE/$SUITE-$key.tar"
        if [ ! -f "$tarball" ]; then
                mkdir -p "$CACHE"
                mmdebstrap --quiet --variant=minbase --include="$PKGS" "$SUITE" "$tarball.part.tar" \
                        >"$T/mmdebstrap.log" 2>&1 || { cat "$T/mmdebstrap.log" >&2; fail "mmdebstrap"; }
                mv "$tarball.part.tar" "$tarball"
        fi
        mkdir -p "$ROOT"
        tar -C "$ROOT" -xf "$tarball" || fail "extracting $tarball"
        make -C "$TOP" -s BUILD="$T/build" PREFIX=/usr prefix=/usr DESTDIR="$ROOT" install \
                >"$T/make.log" 2>&1 || { cat "$T/make.log" >&2; fail "make install DESTDIR=$ROOT PREFIX=/usr"; }
        mkdir -p "$ROOT/var/lib/vmsilo/images" "$ROOT/etc/vmsilo/vms" "$ROOT/etc/vmsilo/conf.d"
        cp "$GUEST/vmlinuz" "$GUEST/initrd.gz" "$ROOT/var/lib/vmsilo/images/"
        # the guest needs no plugin: only the core's [vm]
        for f in "$ROOT"/usr/lib/vmsilo/conf.d/*.conf; do
                ln -sf /dev/null "$ROOT/etc/vmsilo/conf.d/$(basename "$f")"
        done
}

# vm_conf NAME: a QEMU VM of the test guest, in the container's /etc/vmsilo (root's)
vm_conf() {
        cat >"$ROOT/etc/vmsilo/vms/$1.conf" <<EOS
[vm]
vmm = qemu
memory = 256
cpus = 1
kernel = /var/lib/vmsilo/images/vmlinuz
initrd = /var/lib/vmsilo/images/initrd.gz
EOS
}

# Boots the container; CT is the pid of its systemd (PID 1 inside).
boot() {
        systemd-nspawn --register=no --keep-unit --quiet --console=read-only -D "$ROOT" -b \
                </dev/null >"$T/nspawn.log" 2>&1 &
        NSPAWN=$!
        for _ in $(seq 300); do
                for c in $(pgrep -P "$NSPAWN"); do
                        CT=$(pgrep -P "$c" | head -n 1)
                        [ -n "$CT" ] && break
                done
                [ -n "$CT" ] && state=$(ct systemctl is-system-running 2>/dev/null) &&
                        [ "$state" = running ] && return 0
                [ "${state:-}" = degraded ] && { ct systemctl --failed >&2; fail "container degraded"; }
                kill -0 "$NSPAWN" 2>/dev/null || { cat "$T/nspawn.log" >&2; fail "systemd-nspawn ended"; }
                sleep 0.2
        done
        cat "$T/nspawn.log" >&2
        fail "the container did not boot within 60 s"
}

# ct CMD...: CMD as root in the container, with a clean environment
ct() {
        nsenter -t "$CT" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# as USER CMD...: CMD as USER in the container (its login groups, its home, its runtime dir)
as() {
        u=$1
        shift
        ct runuser -u "$u" -- env HOME="/home/$u" XDG_RUNTIME_DIR="/run/user/$(ct id -u "$u")" "$@"
}

# on CODE CMD...: as `expect`, for commands in the container
on() {
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

# wait_for 'SHELL CODE': up to 60 s for it to succeed (it may use ct, as, ...)
wait_for() {
        for _ in $(seq 300); do
                eval "$1" >/dev/null 2>&1 && return 0
                sleep 0.2
        done
        fail "timed out waiting for: $1"
}
