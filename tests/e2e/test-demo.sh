# The README's demo (scripts/demo.sh) works: it boots the demo VM, prints the command's output
# and its status 7, stops the VM and leaves no run state.
. "$(dirname "$0")/lib.sh"

expect 0 "$TOP/scripts/demo.sh"
out_has "hello from demo, kernel"
out_has "== exit status of the command in the VM: 7"
out_has "left behind in $TOP/build/demo/run: 0 entries"
pgrep -f "qemu-system-x86_64 -name demo,.*$TOP/build/demo/" >/dev/null && fail "demo VM left running"
true
