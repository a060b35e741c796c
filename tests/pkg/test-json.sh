# The --json output of plugins, list, check and print has exactly the fields and types that
# vmsilo-core(1), section JSON OUTPUT, documents (test-man.sh checks that the page names them).
. "$(dirname "$0")/lib.sh"

use_crosvm upstream
make_vm web
make_vm idle
mkdir -p "$CONF/vms/web.conf.d"
printf '[overlay]\ntype = raw\nsize = 1G\ndirectory = %s\n' "$T/state" >"$CONF/vms/web.conf.d/50-overlay.conf"

# keys FILTER WANT: the sorted keys of the objects FILTER selects in $T/out
keys() {
        got=$(jq -r "[$1 | keys | join(\",\")] | unique | join(\" \")" "$T/out")
        [ "$got" = "$2" ] || fail "$1 of '$cmd': keys $got, documented $2"
}
types() {
        got=$(jq -r "[$1 | to_entries[] | .key + \":\" + (.value | type)] | unique | join(\" \")" "$T/out")
        [ "$got" = "$2" ] || fail "$1 of '$cmd': types $got, documented $2"
}

cmd="plugins --json"
expect 0 "$VMSILO" plugins --json
jq -e 'type == "array" and length > 0' "$T/out" >/dev/null || fail "plugins --json is not a non-empty array"
keys '.[]' "abi,enabled_by,loaded,name,path,version"
types '.[]' "abi:number enabled_by:string loaded:boolean name:string path:string version:string"
printf '[plugin broken]\nenable = yes\npath = %s/none.so\n' "$T" >"$CONF/conf.d/99-broken.conf"
expect 3 "$VMSILO" plugins --json
[ "$(jq -c '.[] | select(.name == "broken") | [.version, .abi, .loaded]' "$T/out")" = '["",0,false]' ] ||
        fail "a plugin that does not load: $(cat "$T/out")"
rm "$CONF/conf.d/99-broken.conf"

cmd="list --json"
expect 0 "$VMSILO" start web
expect 0 "$VMSILO" list --json
keys '.[]' "name,reason,state"
types '.[]' "name:string reason:string state:string"
[ "$(jq -r '[.[] | .name + "=" + .state] | join(" ")' "$T/out")" = "idle=stopped web=running" ] ||
        fail "list --json: $(cat "$T/out")"
cmd="status --json"
expect 0 "$VMSILO" status --json web
keys '.' "helpers,host_changes,last_errors,name,reason,state,uptime_s,vmm"
types '.' "helpers:array host_changes:array last_errors:array name:string reason:string state:string uptime_s:number vmm:object"
keys '.vmm' "name,pid,state"
[ "$(jq -r '.state' "$T/out")" = running ] || fail "status --json: $(cat "$T/out")"
expect 0 "$VMSILO" stop web

cmd="check --json"
expect 0 "$VMSILO" check --json web
keys '.' "failures,ok,plugins,vm"
types '.' "failures:number ok:boolean plugins:array vm:string"
[ "$(jq -c '[.vm, .ok, .failures]' "$T/out")" = '["web",true,0]' ] || fail "check --json: $(cat "$T/out")"
jq -e '.plugins | index("overlay") != null' "$T/out" >/dev/null || fail "check --json plugins: $(cat "$T/out")"
rm "$T/img/vmlinuz"
expect 4 "$VMSILO" check --json web
[ "$(jq -c '[.ok, .failures]' "$T/out")" = '[false,1]' ] || fail "check --json failing: $(cat "$T/out")"
: >"$T/img/vmlinuz"

cmd="print --json"
expect 0 "$VMSILO" print --json web
keys '.' "argv,command,helpers,id,runtime_dir,steps,vm,vmm"
types '.' "argv:array command:string helpers:array id:number runtime_dir:string steps:array vm:string vmm:string"
jq -e '.vmm == "crosvm" and (.steps | length) == 1 and (.steps[0] | startswith("overlay: "))' "$T/out" >/dev/null ||
        fail "print --json: $(cat "$T/out")"
jq -e '[.argv[] | type] | unique == ["string"]' "$T/out" >/dev/null || fail "print --json argv"
assert_no_run_state
assert_no_processes
