# Exact crosvm argv for VM configs beyond the example: switches off, scheduler isolation vm
# and off, auto-shutdown, extra kernel params, explicit id, log level, extra args (global and
# per VM), an additional read-only disk with options; each accepted by crosvm's grammar.
. "$(dirname "$0")/lib.sh"

check_argv() { # FLAVOUR: compare with $T/want, then let the stand-in crosvm validate it
        expect 0 "$VMSILO" print --json v
        jq -r '.argv[]' "$T/out" >"$T/argv"
        diff -u "$T/want" "$T/argv" || fail "$1: argv differs"
        set +e
        FAKE_CROSVM_EXIT=0 FAKE_CROSVM_RECORD= sh -c '"$@"' sh $(cat "$T/argv") 2>"$T/err"
        rc=$?
        set -e
        [ "$rc" -eq 0 ] || { cat "$T/err" >&2; fail "$1: crosvm grammar rejects it ($rc)"; }
}

for flavour in upstream patched; do
        use_crosvm "$flavour"
        printf '[crosvm]\nextra-args = --syslog-tag=vmsilo\n' >>"$CONF/conf.d/10-crosvm.conf"
        : >"$T/img/k"
        : >"$T/img/d"
        cat >"$CONF/vms/v.conf" <<EOS
[vm]
memory = 512
cpus = 1
id = 42
kernel = $T/img/k
hugepages = no
boost-uclamp = no
s2idle = no
no-rtc = no
scheduler-isolation = vm
auto-shutdown = yes
auto-shutdown-after = 300
kernel-params = console=hvc0
kernel-params = loglevel=4
[crosvm]
log-level = debug
extra-run-args = --no-smt
[disk data]
path = $T/img/d
read-only = yes
id = data
direct = no
[overlay]
type = off
EOS
        {
                echo "$T/crosvm"
                echo "--log-level=debug"
                echo "--no-syslog"
                [ "$flavour" = patched ] && echo "--no-timestamps"
                echo "--syslog-tag=vmsilo"
                echo "run"
                echo "--name=v"
                echo "--mem=512"
                echo "--cpus=1"
                echo "--balloon-page-reporting"
                echo "--disable-virtio-intx"
                echo "--no-i8042"
                echo "--per-vm-core-scheduling"
                if [ "$flavour" = patched ]; then
                        echo "--serial=type=unix-stream,hardware=virtio-console,path=$RUN/v/console-backend.sock,console,input-unix-stream,stream-non-blocking"
                else
                        echo "--serial=type=unix-stream,hardware=virtio-console,path=$RUN/v/console-backend.sock,console,input-unix-stream"
                fi
                echo "--block=path=$T/img/d,ro=true,packed-queue=true,id=data"
                echo "--params=systemd.hostname=v"
                echo "--params=autoShutdown.enable=1"
                echo "--params=autoShutdown.after=300"
                echo "--params=console=hvc0"
                echo "--params=loglevel=4"
                echo "--vsock=cid=42"
                echo "--socket=$RUN/v/control.sock"
                echo "--no-smt"
                echo "$T/img/k"
        } >"$T/want"
        check_argv "$flavour vm"

        # scheduler isolation off, the list reset by an empty assignment in a drop-in
        mkdir -p "$CONF/vms/v.conf.d"
        printf '[vm]\nscheduler-isolation = off\nkernel-params =\n' >"$CONF/vms/v.conf.d/off.conf"
        sed -i -e 's/^--per-vm-core-scheduling$/--core-scheduling=false/' \
                -e '/^--params=console=hvc0$/d' -e '/^--params=loglevel=4$/d' "$T/want"
        check_argv "$flavour off"
        rm -r "$CONF/vms/v.conf.d"
done

# the probe is cached by path, size and mtime: a changed binary is probed again
use_crosvm patched
expect 0 "$VMSILO" print --json v
jq -r '.argv[]' "$T/out" | grep -qx -- --no-timestamps || fail "patched flavour not detected"
sleep 1
use_crosvm upstream # same path, new content and mtime
expect 0 "$VMSILO" print --json v
jq -r '.argv[]' "$T/out" | grep -qx -- --no-timestamps && fail "stale probe cache used"
true
