# Every malformed configuration gets one error line naming file:line and the cause, exit 3;
# nothing starts and no run state is created.
. "$(dirname "$0")/lib.sh"

use_crosvm upstream
make_vm web
VMF="$CONF/vms/web.conf"

# check_error CONFIG-TEXT EXPECTED-LINE: the VM file gets CONFIG-TEXT appended from line 7
# (after the [vm] section of make_vm); `start` must fail with exit 3 and print EXPECTED-LINE
# as its only line. Errors about a key name the key's line.
check_error() {
        make_vm web
        printf '%s\n' "$1" >>"$VMF"
        expect 3 "$VMSILO" start web
        err_has "$2"
        [ "$(grep -c . "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "more than one line for: $1"; }
        assert_no_run_state
}

check_error '[bogus]
x = 1' "$VMF:8: section [bogus] belongs to no enabled plugin; enable it with [plugin bogus] enable = yes, or remove the section"
check_error '[vm]
memroy = 1' "$VMF:8: unknown key 'memroy' in section [vm]"
check_error '[vm]
memory = lots' "$VMF:8: invalid value 'lots' for 'memory' in [vm]: expected a number from 64 to 16777216"
check_error '[vm]
cpus = 0' "$VMF:8: invalid value '0' for 'cpus' in [vm]: expected a number from 1 to 512"
check_error '[vm]
hugepages = maybe' "$VMF:8: invalid value 'maybe' for 'hugepages' in [vm]: expected yes or no"
check_error '[vm]
scheduler-isolation = some' "$VMF:8: invalid value 'some' for 'scheduler-isolation' in [vm]: expected 'full', 'vm', 'off'"
check_error '[vm]
kernel = relative/vmlinuz' "$VMF:8: invalid value 'relative/vmlinuz' for 'kernel' in [vm]: expected an absolute path"
check_error '[vm]
vmm = firecracker' "$VMF:8: invalid value 'firecracker' for 'vmm' in [vm]: expected 'crosvm', 'qemu'"
check_error 'this is not ini' "$VMF:7: syntax error: expected '[section]', 'key = value' or a comment"
check_error '[vm extra]
memory = 1024' "$VMF:8: section [vm] takes no name, found [vm extra]"
check_error '[disk data]
id = data' "$VMF:8: [disk data] has no 'path ='"
check_error '[disk data]
path = /x
id = this-id-is-way-too-long-for-crosvm' "$VMF:9: invalid value 'this-id-is-way-too-long-for-crosvm' for 'id' in [disk data]: expected 1 to 20 printable characters without , [ ] or quotes"
check_error '[overlay]
colour = red' "$VMF:8: unknown key 'colour' in section [overlay]"
check_error '[overlay]
size = huge' "$VMF:8: overlay: invalid value 'huge' for 'size' in [overlay]: expected a size such as 512M or 10G"
check_error '[crosvm]
log-level = loud' "$VMF:8: invalid value 'loud' for 'log-level' in [crosvm]"

# a key outside any section, at line 1 of a global drop-in
make_vm web
printf 'memory = 1\n' >"$CONF/conf.d/20-bad.conf"
expect 3 "$VMSILO" start web
err_has "$CONF/conf.d/20-bad.conf:1: assignment to 'memory' outside of any section"
rm "$CONF/conf.d/20-bad.conf"

# plugin sections: bad enable value, bad plugin name, plugin file missing
printf '[plugin overlay]\nenable = perhaps\n' >"$CONF/conf.d/20-bad.conf"
expect 3 "$VMSILO" start web
err_has "$CONF/conf.d/20-bad.conf:2: invalid value 'perhaps' for 'enable' in [plugin overlay]: expected yes or no"
printf '[plugin Bad!]\nenable = yes\n' >"$CONF/conf.d/20-bad.conf"
expect 3 "$VMSILO" start web
err_has "$CONF/conf.d/20-bad.conf:2: invalid section [plugin Bad!]"
printf '[plugin ghost]\nenable = yes\n' >"$CONF/conf.d/20-bad.conf"
expect 3 "$VMSILO" start web
err_has "plugin 'ghost': cannot open '$VMSILO_PLUGIN_DIR/ghost.so' (enabled by $CONF/conf.d/20-bad.conf:2): No such file or directory"
rm "$CONF/conf.d/20-bad.conf"

# masking the shipped overlay drop-in disables the plugin: its section becomes an error
ln -s /dev/null "$CONF/conf.d/50-overlay.conf"
printf '[overlay]\ntype = tmpfs\n' >>"$VMF"
expect 3 "$VMSILO" start web
err_has "$VMF:8: section [overlay] belongs to no enabled plugin"
rm "$CONF/conf.d/50-overlay.conf"

# a read-write root disk under the overlay plugin's throw-away layer: an error naming the key
# to set; with `type = off` it starts (and `print` shows no overlay)
check_error '[vm]
root-disk-read-only = no' "$VMF:8: 'root-disk-read-only = no', but plugin 'overlay' puts a tmpfs layer over the root disk and every write is lost at stop; set 'type = off' in [overlay] to write to the disk, or 'root-disk-read-only = yes'"
check_error '[vm]
root-disk-read-only = no
[overlay]
type = raw' "$VMF:8: 'root-disk-read-only = no', but plugin 'overlay' puts a raw layer over the root disk"
make_vm web
printf '[vm]\nroot-disk-read-only = no\n[overlay]\ntype = off\n' >>"$VMF"
expect 0 "$VMSILO" print --json web
jq -r '.argv[]' "$T/out" | grep -q 'vmsilo.overlay' && fail "an overlay for a read-write root disk"
make_vm web

# missing VM and bad names
expect 5 "$VMSILO" start nosuchvm
err_has "VM 'nosuchvm' not found"
expect 2 "$VMSILO" start '../etc'
err_has "invalid VM name '../etc'"
expect 2 "$VMSILO" start
expect 2 "$VMSILO" frobnicate web
err_has "unknown command 'frobnicate'"
assert_no_run_state
