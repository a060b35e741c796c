# virtiofs against the stand-in crosvm, with stand-in virtiofsd that answer --help like the
# Rust and the C one: the exact virtiofsd and crosvm argv for both crosvm flavours (and the
# stand-in accepts them), start/stop with the helpers, crosvm's own --shared-dir, the
# preflight errors, and every malformed value (exit 3, one line naming file:line).
. "$(dirname "$0")/lib.sh"

command -v socat >/dev/null || fail "socat is needed (scripts/install-deps.sh)"

# Stand-in virtiofsd: `--help` as the real ones print it; otherwise listen on --socket-path
# (as a real one does, serving nothing) until killed.
mkdir -p "$T/bin" "$T/data" "$T/docs"
cat >"$T/bin/rust-virtiofsd" <<'EOS'
#!/bin/sh
if [ "$1" = --help ]; then
        printf 'Usage: virtiofsd --shared-dir <SHARED_DIR> --socket-path <SOCKET_PATH> [OPTIONS]\n'
        printf '      --shared-dir <SHARED_DIR>\n      --tag <TAG>\n      --readonly\n'
        printf '      --translate-uid <TRANSLATE_UID>\n      --sandbox <SANDBOX>\n'
        printf '      --announce-submounts\n'
        exit 0
fi
for a; do case "$a" in --socket-path=*) sock=${a#--socket-path=} ;; esac; done
exec socat -u "UNIX-LISTEN:$sock" /dev/null
EOS
cat >"$T/bin/c-virtiofsd" <<'EOS'
#!/bin/sh
if [ "$1" = --help ]; then
        printf 'usage: virtiofsd [options]\n    -o source=PATH             shared directory tree\n'
        exit 0
fi
exit 1
EOS
chmod +x "$T/bin/rust-virtiofsd" "$T/bin/c-virtiofsd"

VMF="$CONF/vms/web.conf"

# the VM: two shares and the shared home, Rust virtiofsd
web_conf() {
        make_vm web
        cat >>"$VMF" <<EOS
[virtiofs]
virtiofsd = $T/bin/rust-virtiofsd
shared-home = $T/homes/web
[virtiofs data]
path = $T/data
xattr = yes
[virtiofs docs]
path = $T/docs
read-only = yes
cache = always
tag = documents
mount-point = /srv/docs
EOS
}

# virtiofs's part of a crosvm argv: its devices and kernel parameters, in order
virtiofs_lines() {
        grep -E '^--(vhost-user|shared-dir)=|^--params=systemd\.mount-extra=' "$1" || true
}

# the stand-in crosvm validates the argv against crosvm-cli.md and exits at once
crosvm_accepts() {
        set +e
        FAKE_CROSVM_EXIT=0 FAKE_CROSVM_RECORD= sh -c '"$@"' sh $(cat "$1") 2>"$T/err"
        rc=$?
        set -e
        [ "$rc" -eq 0 ] || { cat "$T/err" >&2; fail "$2: crosvm grammar rejects the argv ($rc)"; }
}

for flavour in upstream patched; do
        use_crosvm "$flavour"
        web_conf
        expect 0 "$VMSILO" print --json web
        jq -r '.argv[]' "$T/out" >"$T/argv"
        virtiofs_lines "$T/argv" >"$T/got"
        cat >"$T/want" <<EOS
--params=systemd.mount-extra=data:/mnt/data:virtiofs
--params=systemd.mount-extra=documents:/srv/docs:virtiofs:ro
--params=systemd.mount-extra=home:/home/user:virtiofs
--vhost-user=fs,socket=$RUN/web/virtiofs-data.sock
--vhost-user=fs,socket=$RUN/web/virtiofs-docs.sock
--vhost-user=fs,socket=$RUN/web/virtiofs-home.sock
EOS
        diff -u "$T/want" "$T/got" || fail "$flavour: crosvm argv differs"
        jq -r '.helpers[] | select(.plugin == "virtiofs") | .name + ": " + (.argv | join(" "))' \
                "$T/out" >"$T/got"
        cat >"$T/want" <<EOS
data: $BUILD/plugins/virtiofs-launch --share=data --path=$T/data --vm-uid=$(id -u) --vm-gid=$(id -g) --root=$RUN/web/virtiofs-data.root -- $T/bin/rust-virtiofsd --socket-path=$RUN/web/virtiofs-data.sock --shared-dir=$RUN/web/virtiofs-data.root --tag=data --cache=auto --sandbox=namespace --announce-submounts --xattr --translate-uid=squash-guest:0:0:4294967295 --translate-gid=squash-guest:0:0:4294967295
docs: $BUILD/plugins/virtiofs-launch --share=docs --path=$T/docs --vm-uid=$(id -u) --vm-gid=$(id -g) --root=$RUN/web/virtiofs-docs.root --read-only -- $T/bin/rust-virtiofsd --socket-path=$RUN/web/virtiofs-docs.sock --shared-dir=$RUN/web/virtiofs-docs.root --tag=documents --cache=always --sandbox=namespace --announce-submounts --readonly --translate-uid=squash-guest:0:0:4294967295 --translate-gid=squash-guest:0:0:4294967295
home: $BUILD/plugins/virtiofs-launch --share=home --path=$T/homes/web --vm-uid=$(id -u) --vm-gid=$(id -g) --root=$RUN/web/virtiofs-home.root -- $T/bin/rust-virtiofsd --socket-path=$RUN/web/virtiofs-home.sock --shared-dir=$RUN/web/virtiofs-home.root --tag=home --cache=auto --sandbox=namespace --announce-submounts --translate-uid=squash-guest:0:0:4294967295 --translate-gid=squash-guest:0:0:4294967295
EOS
        diff -u "$T/want" "$T/got" || fail "$flavour: virtiofsd argv differs"
        jq -r '.steps[]' "$T/out" | grep -qxF "virtiofs: create shared home directory '$T/homes/web' owned by uid $(id -u) gid $(id -g) (kept after stop)" ||
                fail "$flavour: plan lacks the shared home step"
        [ ! -e "$T/homes" ] || fail "print created the shared home"
        crosvm_accepts "$T/argv" "$flavour"

        # start: the virtiofsd run before crosvm, with their sockets; stop: all gone
        : >"$FAKE_CROSVM_RECORD"
        expect 0 "$VMSILO" start web
        for s in data docs home; do
                [ -S "$RUN/web/virtiofs-$s.sock" ] || fail "$flavour: no socket for '$s'"
                pgrep -f -- "$RUN/web/virtiofs-$s.sock" >/dev/null ||
                        fail "$flavour: no virtiofsd for '$s'"
        done
        [ -d "$T/homes/web" ] || fail "$flavour: shared home not created"
        grep '"run"' "$FAKE_CROSVM_RECORD" | tail -n 1 | jq -r '.[]' >"$T/ran"
        tail -n +2 "$T/argv" >"$T/planned.rest"
        tail -n +2 "$T/ran" >"$T/ran.rest"
        diff -u "$T/planned.rest" "$T/ran.rest" || fail "$flavour: started argv differs from print"
        expect 0 "$VMSILO" stop web
        pgrep -f -- "$RUN/web/virtiofs-" >/dev/null && fail "$flavour: virtiofsd left running"
        assert_no_run_state
        assert_no_processes
        [ -d "$T/homes/web" ] || fail "$flavour: the shared home was removed at stop"
        rm -rf "$T/homes"
done

# crosvm with the C virtiofsd: it cannot supply the tag crosvm asks for
use_crosvm upstream
web_conf
sed -i "s|^virtiofsd = .*|virtiofsd = $T/bin/c-virtiofsd|" "$VMF"
C_ERR="virtiofs: the C virtiofsd '$T/bin/c-virtiofsd' cannot tell crosvm the tags of the shares (crosvm reads them from the backend): install the Rust virtiofsd, or set 'backend = crosvm' in [virtiofs] to use crosvm's own --shared-dir"
expect 4 "$VMSILO" check web
err_has "$C_ERR"
expect 1 "$VMSILO" print web
err_has "$C_ERR"
expect 4 "$VMSILO" start web
err_has "$C_ERR"
assert_no_run_state

# ... or use crosvm's own virtio-fs device
for flavour in upstream patched; do
        use_crosvm "$flavour"
        make_vm web
        cat >>"$VMF" <<EOS
[virtiofs]
backend = crosvm
virtiofsd = $T/bin/c-virtiofsd
[virtiofs data]
path = $T/data
posix-acl = yes
cache = never
[virtiofs docs]
path = $T/docs
mount-point = none
EOS
        expect 0 "$VMSILO" print --json web
        jq -r '.argv[]' "$T/out" >"$T/argv"
        virtiofs_lines "$T/argv" >"$T/got"
        cat >"$T/want" <<EOS
--params=systemd.mount-extra=data:/mnt/data:virtiofs
--shared-dir=$T/data:data:type=fs:cache=never:posix_acl=true
--shared-dir=$T/docs:docs:type=fs:cache=auto:posix_acl=false
EOS
        diff -u "$T/want" "$T/got" || fail "$flavour: --shared-dir argv differs"
        [ "$(jq '[.helpers[] | select(.plugin == "virtiofs")] | length' "$T/out")" = 0 ] ||
                fail "$flavour: backend = crosvm started a virtiofsd"
        crosvm_accepts "$T/argv" "$flavour (--shared-dir)"
        expect 0 "$VMSILO" check web
done

# preflight: every failure listed
make_vm web
cat >>"$VMF" <<EOS
[virtiofs]
virtiofsd = $T/bin/rust-virtiofsd
[virtiofs a]
path = $T/data
[virtiofs b]
path = $T/data/.
tag = a
[virtiofs c]
path = $T/missing
EOS
expect 4 "$VMSILO" check web
err_has "virtiofs: shares 'a' and 'b' have the same tag 'a': set 'tag =' in one of them"
err_has "virtiofs: shares 'a' and 'b' both export '$T/data' read-write, which the guest cannot keep coherent: make one read-only or share the directory once"
err_has "virtiofs: source directory '$T/missing' of share 'c' does not exist"
printf '#!/bin/sh\necho "virtiofsd: error while loading shared libraries" >&2\nexit 127\n' >"$T/bin/broken"
chmod +x "$T/bin/broken"
make_vm web
printf '[virtiofs]\nvirtiofsd = %s\n[virtiofs a]\npath = %s\n' "$T/bin/broken" "$T/data" >>"$VMF"
expect 4 "$VMSILO" check web
err_has "virtiofs: virtiofsd '$T/bin/broken --help' failed with status 127: virtiofsd: error while loading shared libraries"
assert_no_run_state

# malformed values: exit 3, one line naming file:line (the VM file's line 8)
check_error() {
        make_vm web
        printf '%s\n' "$1" >>"$VMF"
        expect 3 "$VMSILO" start web
        err_has "$2"
        [ "$(grep -c . "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "more than one line for: $1"; }
        assert_no_run_state
}
E="$VMF:8: virtiofs: invalid value"
check_error '[virtiofs data]
path = relative/dir' "$E 'relative/dir' for 'path' in [virtiofs data]: expected an absolute path of a host directory"
check_error '[virtiofs data]
path =' "$E '' for 'path' in [virtiofs data]: expected an absolute path of a host directory"
for tag in 'a,b' 'a b' 'a:b' '0123456789012345678901234567890123456' 'x"y'; do
        check_error "[virtiofs data]
tag = $tag" "$E '$tag' for 'tag' in [virtiofs data]: expected 1 to 36 letters, digits, '.', '_' or '-'"
done
check_error '[virtiofs data]
tag =' "$E '' for 'tag' in [virtiofs data]: expected 1 to 36 letters, digits, '.', '_' or '-'"
for key in read-only xattr posix-acl; do
        check_error "[virtiofs data]
$key = maybe" "$E 'maybe' for '$key' in [virtiofs data]: expected yes or no"
done
check_error '[virtiofs data]
cache = sometimes' "$E 'sometimes' for 'cache' in [virtiofs data]: expected auto, always, never or metadata"
for mp in 'mnt/data' '/mnt/../etc' '/mnt/a b' '/mnt/a,b' '/mnt/a:b' '/'; do
        check_error "[virtiofs data]
mount-point = $mp" "$E '$mp' for 'mount-point' in [virtiofs data]: expected none or an absolute guest path of letters, digits and / . _ - + @ ~"
done
for map in 'map:1:2' 'swap:1:2:3' 'map:1:2:4294967296' 'forbid-guest:1:2:3' 'host:a:b:c'; do
        check_error "[virtiofs data]
translate-uid = $map" "$E '$map' for 'translate-uid' in [virtiofs data]: expected TYPE:FROM:TO:COUNT with TYPE guest, host, squash-guest, squash-host or map, or forbid-guest:FROM:COUNT"
done
check_error '[virtiofs data]
translate-gid = map:-1:0:1' "$E 'map:-1:0:1' for 'translate-gid' in [virtiofs data]"
check_error '[virtiofs data]
colour = red' "$VMF:8: unknown key 'colour' in section [virtiofs data]"
check_error '[virtiofs data]
virtiofsd = /usr/bin/virtiofsd' "$VMF:8: virtiofs: 'virtiofsd' belongs in [virtiofs] (without a name), not in [virtiofs data]"
check_error '[virtiofs my share]
path = /srv' "$VMF:8: virtiofs: invalid share name 'my share' in [virtiofs my share]: expected 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit"
check_error '[virtiofs -x]
path = /srv' "$VMF:8: virtiofs: invalid share name '-x' in [virtiofs -x]"
check_error '[virtiofs abcdefghijabcdefghijabcdefghijabc]
path = /srv' "$VMF:8: virtiofs: invalid share name 'abcdefghijabcdefghijabcdefghijabc'"
check_error '[virtiofs]
path = /srv' "$VMF:8: virtiofs: 'path' belongs in a named section [virtiofs NAME], not in [virtiofs]"
check_error '[virtiofs]
flavour = go' "$E 'go' for 'flavour' in [virtiofs]: expected auto, c or rust"
check_error '[virtiofs]
backend = qemu' "$E 'qemu' for 'backend' in [virtiofs]: expected virtiofsd or crosvm"
check_error '[virtiofs]
sandbox = jail' "$E 'jail' for 'sandbox' in [virtiofs]: expected namespace, chroot or none"
check_error '[virtiofs]
mount-params = fstab' "$E 'fstab' for 'mount-params' in [virtiofs]: expected vmsilo, systemd or both"
check_error '[virtiofs]
shared-home = home' "$E 'home' for 'shared-home' in [virtiofs]: expected yes, no or an absolute path"
check_error '[virtiofs]
shared-home-mount-point = home/user' "$E 'home/user' for 'shared-home-mount-point' in [virtiofs]: expected an absolute guest path of letters, digits and / . _ - + @ ~"
check_error '[virtiofs]
virtiofsd = bin/virtiofsd' "$E 'bin/virtiofsd' for 'virtiofsd' in [virtiofs]: expected an absolute path or a program name to look up in \$PATH"
check_error '[virtiofs]
colour = red' "$VMF:8: unknown key 'colour' in section [virtiofs]"
# a ':' cannot be carried by crosvm's --shared-dir, whichever key comes first
mkdir -p "$T/a:b"
check_error "[virtiofs]
backend = crosvm
[virtiofs data]
path = $T/a:b" "$VMF:10: virtiofs: host path '$T/a:b' of share 'data' contains ':', which crosvm's --shared-dir (backend = crosvm) cannot carry: rename the directory or use backend = virtiofsd"
check_error "[virtiofs data]
path = $T/a:b
[virtiofs]
backend = crosvm" "$VMF:8: virtiofs: host path '$T/a:b' of share 'data' contains ':'"
assert_no_processes
