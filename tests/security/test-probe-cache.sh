# Probe cache: a user's VMM probe answers are cached in ~/.cache/vmsilo (never /tmp/.cache,
# where another user could have made the directory first), in a 0700 directory of their own,
# as 0600 files written through a new file and a rename. A cache dir that is a symlink or
# belongs to someone else is not used: nothing is read from it or written through it.
. "$(dirname "$0")/lib.sh"

chmod 755 "$T"
u=$(make_test_user probe)
evil=$(make_test_user evil)
home="$T/home-$u"
mkdir -p "$home"
chown "$u:" "$home"
usermod -d "$home" "$u" || fail "usermod"
mkdir -p "$T/urun"
chown "$u:" "$T/urun"
make_qemu_vm pc
chown "$u" "$CONF/vms/pc.conf" # the user's own VM (not root's)
chmod -R a+rX "$T/etc" "$T/img"

# runs vmsilo-core as the user, with no HOME and no XDG_CACHE_HOME in the environment
as_u() {
        as_user "$u" env -u HOME -u XDG_CACHE_HOME -u VMSILO_CACHE_DIR \
                VMSILO_RUNTIME_DIR="$T/urun" VMSILO_STATE_DIR="$home/state" "$@"
}

# another user got to /tmp/.cache/vmsilo first (world-writable, theirs)
if [ ! -e /tmp/.cache ]; then
        as_user "$evil" mkdir -p -m 0777 /tmp/.cache/vmsilo
        as_user "$evil" chmod 0777 /tmp/.cache /tmp/.cache/vmsilo
        trap 'rm -rf /tmp/.cache; security_cleanup' EXIT
fi

expect 0 as_u "$VMSILO" run pc true
expect 0 as_u "$VMSILO" stop pc
if [ -n "$(find /tmp/.cache -user "$u" 2>/dev/null)" ]; then
        find /tmp/.cache -user "$u" -ls >&2
        fail "the user's probe cache went to /tmp/.cache"
fi
cache="$home/.cache/vmsilo"
[ -d "$cache" ] || fail "no probe cache in ~/.cache/vmsilo"
[ "$(stat -c '%a %U' "$cache")" = "700 $u" ] || fail "cache dir is $(stat -c '%a %U' "$cache")"
[ "$(stat -c '%a' "$home/.cache")" = 700 ] || fail "~/.cache is $(stat -c '%a' "$home/.cache")"
n=0
for f in "$cache"/* "$cache"/.[!.]*; do
        [ -e "$f" ] || continue
        case "$f" in */probe-*) ;; *) fail "stray file in the cache: $f" ;; esac
        [ "$(stat -c '%a %U' "$f")" = "600 $u" ] || fail "entry $f is $(stat -c '%a %U' "$f")"
        n=$((n + 1))
done
[ "$n" -ge 1 ] || fail "no cache entries"

# a planted symlink as the cache dir: not written through
mkdir -p "$T/evil-dir"
chown "$evil:" "$T/evil-dir"
chmod 777 "$T/evil-dir"
ln -s "$T/evil-dir" "$T/planted"
expect 0 as_u env VMSILO_CACHE_DIR="$T/planted" "$VMSILO" check pc
err_has "not using the probe cache '$T/planted': it is not a directory of yours"
[ -z "$(ls -A "$T/evil-dir")" ] || fail "wrote through a planted symlink: $(ls -A "$T/evil-dir")"

# a directory of another user (world-writable): neither read nor written
expect 0 as_u env VMSILO_CACHE_DIR="$T/evil-dir" "$VMSILO" check pc
err_has "not using the probe cache '$T/evil-dir': it is not a directory of yours"
[ -z "$(ls -A "$T/evil-dir")" ] || fail "wrote into another user's cache dir"

true
