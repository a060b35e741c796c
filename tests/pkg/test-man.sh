# The manual pages, as installed: `man -l` renders each without a warning; vmsilo-core(1) has
# every command, option and exit code the binary's --help knows (so a new one without a man
# entry fails here) and the JSON schemas; vmsilo.conf(5) has every key of the core's reference
# (docs/vmsilo.conf.md) and of every plugin in plugins/ (plugins/NAME/NAME.md); vmsilo-plugin(7)
# has every hook and host function of sdk/vmsilo/plugin.h.
. "$(dirname "$0")/lib.sh"

stage_install
use_root
MANDIR="$ROOT/usr/share/man"

# render PAGE SECTION: plain text, one line per paragraph, no hyphenation, into $T/PAGE.txt
render() {
        f="$MANDIR/man$2/$1.$2"
        [ -f "$f" ] || fail "$1($2) not installed at $f"
        LC_ALL=C.UTF-8 MANWIDTH=4000 man --warnings --nh --nj -l "$f" >"$T/$1.raw" 2>"$T/$1.err" ||
                { cat "$T/$1.err" >&2; fail "man -l $f failed"; }
        [ ! -s "$T/$1.err" ] || { cat "$T/$1.err" >&2; fail "man -l $f warns"; }
        col -bx <"$T/$1.raw" >"$T/$1.txt"
        head -n 1 "$T/$1.txt" | grep -q "^$1($2) " || fail "$1($2): title line: $(head -n 1 "$T/$1.txt")"
}
# has PAGE TEXT [WHAT]: the rendered page contains TEXT (fixed string)
has() {
        grep -qF -- "$2" "$T/$1.txt" || fail "$1: no '$2'${3:+ ($3)}"
}
# section PAGE TITLE: the text of one section (from its heading to the next one) to $T/section
section() {
        awk -v t="$2" '/^[^ ]/ {on = ($0 == t)} on' "$T/$1.txt" >"$T/section"
        [ -s "$T/section" ] || fail "$1: no section '$2'"
}

render vmsilo-core 1
render vmsilo.conf 5
render vmsilo-plugin 7

# vmsilo-core(1) against the binary
commands=$("$VMSILO" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}')
[ -n "$commands" ] || fail "cannot read the commands from --help"
section vmsilo-core COMMANDS
for c in $commands; do
        grep -q "^       $c\( \|$\)" "$T/section" || fail "vmsilo-core(1): command '$c' has no entry in COMMANDS"
        for o in $("$VMSILO" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
                grep -q -- "$o" "$T/section" || fail "vmsilo-core(1): option '$o' of '$c' missing"
        done
done
section vmsilo-core OPTIONS
for o in $("$VMSILO" --help | sed -n '/^Options:/,/^$/p' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        grep -q -- "^       .*$o" "$T/section" || fail "vmsilo-core(1): global option '$o' missing"
done
section vmsilo-core "EXIT STATUS"
# the codes --help lists ("0 ok, 1 runtime failure, ...") each have an entry
codes=$("$VMSILO" --help | tr '\n' ' ' | grep -o 'Exit codes:.*' | grep -o '[0-9] [A-Za-z]' | cut -c1)
[ "$(echo "$codes" | wc -w)" -ge 8 ] || fail "cannot read the exit codes from --help"
for code in $codes; do
        grep -qx "       $code" "$T/section" || fail "vmsilo-core(1): exit code $code missing"
done
grep -q 125 "$T/section" || fail "vmsilo-core(1): exit code 125 of run missing"
section vmsilo-core "JSON OUTPUT"
for c in plugins list check print; do
        "$VMSILO" "$c" --help | grep -q -- --json || fail "'$c' has no --json"
        grep -q "^       $c --json" "$T/section" || fail "vmsilo-core(1): no JSON schema for '$c --json'"
done
for field in enabled_by loaded state failures runtime_dir steps helpers argv command; do
        grep -q "\"$field\"" "$T/section" || fail "vmsilo-core(1): JSON field '$field' missing"
done

# vmsilo.conf(5): the keys in the first column of every key table ("| key | ...") of the
# Markdown references
keys_of() {
        awk -F'|' '/^\|/ { c = $2; gsub(/^ +| +$/, "", c)
                        if (c == "key") { on = 1; next }
                        if (c ~ /^-+$/ || c ~ /^:?-+:?$/) next
                        if (on) print c; next }
                   { on = 0 }' "$1" | grep -o '`[^`]*`' | tr -d '`' | sed 's/ .*//'
}
n=0
set -f
for k in $(keys_of "$TOP/docs/vmsilo.conf.md"); do
        grep -q "^       $k\(,\|$\)\|, $k\(,\|$\)" "$T/vmsilo.conf.txt" || fail "vmsilo.conf(5): core key '$k' missing"
        n=$((n + 1))
done
set +f
[ "$n" -ge 15 ] || fail "vmsilo.conf(5): only $n core keys found in docs/vmsilo.conf.md"
for section in '[vm]' '[disk NAME]' '[crosvm]' '[qemu]'; do
        grep -qxF -- "$section" "$T/vmsilo.conf.txt" || fail "vmsilo.conf(5): no section '$section'"
done
for k in path read-only id direct packed-queue sparse log-level extra-args extra-run-args accel machine; do
        has vmsilo.conf "$k" "a key of [disk], [crosvm] or [qemu]"
done
for d in "$TOP"/plugins/*/; do
        name=$(basename "$d")
        [ -f "$d/$name.md" ] || fail "plugins/$name has no $name.md: vmsilo.conf(5) cannot list its keys"
        grep -q "^Plugin $name\( \|:\|$\)" "$T/vmsilo.conf.txt" || fail "vmsilo.conf(5): no section for plugin '$name'"
        set -f
        for k in $(keys_of "$d/$name.md"); do
                grep -qF -- "$k" "$T/vmsilo.conf.txt" || fail "vmsilo.conf(5): key '$k' of plugin '$name' missing"
        done
        set +f
done

# vmsilo-plugin(7): every hook and host function of the ABI header
members=$(sed -n '/^struct vmsilo_host {/,/^};/p; /^struct vmsilo_plugin {/,/^};/p' "$TOP/sdk/vmsilo/plugin.h" |
        grep -o '(\*[a-z_]*)' | tr -d '(*)')
[ "$(echo "$members" | wc -w)" -ge 25 ] || fail "cannot read the ABI members from plugin.h"
for m in $members; do
        grep -q "^       \(.*, \)\{0,1\}$m(" "$T/vmsilo-plugin.txt" || fail "vmsilo-plugin(7): '$m' has no entry"
done
for t in VMSILO_HOST_HAS VMSILO_PLUGIN_DEFINE "pkg-config --variable=plugindir vmsilo-plugin" mock-host ABI; do
        has vmsilo-plugin "$t"
done
