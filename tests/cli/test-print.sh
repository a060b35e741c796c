# `print` of the shipped example VM: the exact argv for both crosvm flavours, and the
# stand-in crosvm (which enforces crosv-cli.md's grammar) accepts each of them.
. "$(dirname "$0")/lib.sh"

export VMSILO_CONF_PATH="$CONF:$TOP/examples:$TOP"

expected_common() {
        cat <<EOS
--name=browser
--mem=4096
--cpus=4
--hugepages
--balloon-page-reporting
--boost-uclamp
--disable-virtio-intx
--no-i8042
--no-rtc
--s2idle
--core-scheduling=true
--initrd=/var/lib/vmsilo/images/initrd.img
EOS
}

for flavour in upstream patched; do
        use_crosvm "$flavour"
        expect 0 "$VMSILO" print --json browser
        jq -r '.argv[]' "$T/out" >"$T/argv"
        {
                echo "$T/crosvm"
                echo "--log-level=info"
                echo "--no-syslog"
                [ "$flavour" = patched ] && echo "--no-timestamps"
                echo "run"
                expected_common
                if [ "$flavour" = patched ]; then
                        echo "--serial=type=unix-stream,hardware=virtio-console,path=$RUN/browser/console-backend.sock,console,input-unix-stream,stream-non-blocking"
                else
                        echo "--serial=type=unix-stream,hardware=virtio-console,path=$RUN/browser/console-backend.sock,console,input-unix-stream"
                fi
                echo "--block=path=/var/lib/vmsilo/images/rootfs.erofs,ro=true,root=true,packed-queue=true,direct=true"
                echo "--block=path=/var/lib/vmsilo/browser/downloads.img,packed-queue=true,direct=true"
                echo "--block=path=/var/lib/vmsilo/browser-ephemeral.raw,packed-queue=true,direct=true,id=ephemeral"
                echo "--params=systemd.hostname=browser"
                echo "--params=vmsilo.overlay=raw,ephemeral"
                echo "--params=quiet"
                echo "--vsock=cid=3"
                echo "--socket=$RUN/browser/control.sock"
                echo "/var/lib/vmsilo/images/vmlinuz"
        } >"$T/want"
        # the overlay directory defaults to the state dir of the user running the test
        sed -i "s|/var/lib/vmsilo/browser-ephemeral.raw|$(jq -r '.argv[]' "$T/out" | grep -o 'path=[^,]*browser-ephemeral.raw' | cut -d= -f2)|" "$T/want"
        diff -u "$T/want" "$T/argv" || fail "$flavour: argv differs"

        # the plan names the host change
        jq -r '.steps[]' "$T/out" | grep -q "^overlay: create sparse overlay disk .*browser-ephemeral.raw' of 20480 MiB$" ||
                fail "$flavour: plan lacks the overlay step"

        # the stand-in crosvm validates the argv against crosvm-cli.md and exits at once
        set +e
        FAKE_CROSVM_EXIT=0 FAKE_CROSVM_RECORD= sh -c '"$@"' sh $(cat "$T/argv") 2>"$T/err"
        rc=$?
        set -e
        [ "$rc" -eq 0 ] || { cat "$T/err" >&2; fail "$flavour: crosvm grammar rejects the argv ($rc)"; }

        # the text form is the same argv, shell-quoted, one element per line
        expect 0 "$VMSILO" print browser
        out_has "# VM 'browser' (id 3, crosvm), runtime dir $RUN/browser"
        out_has "    --block=path=/var/lib/vmsilo/images/rootfs.erofs,ro=true,root=true,packed-queue=true,direct=true \\"
done

# print changes nothing
[ ! -e "$RUN/browser" ] || fail "print created run state"

# a path that needs crosvm quoting is quoted, not mangled
make_vm odd
mkdir -p "$T/a,b[c]"
: >"$T/a,b[c]/root.img"
sed -i "s|^root-disk = .*|root-disk = $T/a,b[c]/root.img|" "$CONF/vms/odd.conf"
expect 0 "$VMSILO" print --json odd
jq -r '.argv[]' "$T/out" | grep -qxF -- "--block=path=\"$T/a,b[c]/root.img\",ro=true,root=true,packed-queue=true,direct=true" ||
        fail "path with , [ ] not quoted for crosvm"
