#!/bin/sh
# Makes the Rust virtiofsd (Debian 13's `virtiofsd` package) runnable on Debian 12, whose
# glibc is too old for it: a minimal trixie root made by mmdebstrap, and a wrapper that runs
# the binary with that root's dynamic loader and libraries. Prints the wrapper's path.
#
# Cached outside the source tree and reused: $VMSILO_TEST_CACHE, else /var/cache/vmsilo-test
# for root, else ${XDG_CACHE_HOME:-~/.cache}/vmsilo-test. Needs mmdebstrap
# (scripts/install-deps.sh) and Debian's archive the first time.
#
# usage: scripts/rust-virtiofsd.sh [--rebuild]
set -eu

if [ -n "${VMSILO_TEST_CACHE:-}" ]; then
        cache=$VMSILO_TEST_CACHE
elif [ "$(id -u)" -eq 0 ]; then
        cache=/var/cache/vmsilo-test
else
        cache=${XDG_CACHE_HOME:-$HOME/.cache}/vmsilo-test
fi
dir="$cache/rust-virtiofsd"
wrapper="$dir/virtiofsd"

die() {
        echo "rust-virtiofsd: $*" >&2
        exit 1
}

works() {
        [ -f "$dir/ok" ] && "$wrapper" --version >/dev/null 2>&1
}

case "$(dpkg --print-architecture)" in
amd64) loader=/usr/lib64/ld-linux-x86-64.so.2 libdir=/usr/lib/x86_64-linux-gnu ;;
arm64) loader=/usr/lib/ld-linux-aarch64.so.1 libdir=/usr/lib/aarch64-linux-gnu ;;
*) die "unsupported architecture $(dpkg --print-architecture)" ;;
esac

mkdir -p "$cache"
chmod 755 "$cache" "$(dirname "$cache")" 2>/dev/null || true
# one builder at a time; the others wait and reuse its result
exec 9>"$cache/rust-virtiofsd.lock"
flock 9

[ "${1:-}" = --rebuild ] && rm -rf "$dir"
if works; then
        echo "$wrapper"
        exit 0
fi

command -v mmdebstrap >/dev/null ||
        die "mmdebstrap is not installed (run scripts/install-deps.sh)"
uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
case "$uri" in
http://* | https://*) ;;
*) uri=http://deb.debian.org/debian ;;
esac

rm -rf "$dir" "$dir.new"
mkdir -p "$dir.new"
echo "rust-virtiofsd: building a trixie root with virtiofsd in $dir (from $uri)" >&2
mmdebstrap --quiet --variant=minbase --include=virtiofsd trixie "$dir.new/root" \
        "deb $uri trixie main" >"$dir.new/mmdebstrap.log" 2>&1 ||
        die "mmdebstrap failed (no network to Debian's archive?): $(tail -n 5 "$dir.new/mmdebstrap.log")"
root="$dir/root"
[ -x "$dir.new/root/usr/libexec/virtiofsd" ] || die "no /usr/libexec/virtiofsd in the trixie root"
cat >"$dir.new/virtiofsd" <<EOS
#!/bin/sh
# Debian 13's virtiofsd, run with its own root's loader (made by scripts/rust-virtiofsd.sh)
exec $root$loader --library-path $root$libdir $root/usr/libexec/virtiofsd "\$@"
EOS
chmod 755 "$dir.new/virtiofsd" "$dir.new"
mv "$dir.new" "$dir"
"$wrapper" --version >/dev/null 2>&1 || die "$wrapper does not run: $("$wrapper" --version 2>&1 | tail -n 3)"
: >"$dir/ok"
echo "$wrapper"
