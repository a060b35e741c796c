# Bash completion, as installed, driven the way bash drives it (COMP_WORDS, COMP_CWORD, the
# function, COMPREPLY): commands and options (checked against `vmsilo-core --help` and each
# command's --help, so a new command or option without completion fails here), VM names from
# `vmsilo-core list --json` (start offers stopped VMs, stop running ones), --root honoured,
# and the names read from vms/*.conf when the binary cannot answer.
. "$(dirname "$0")/lib.sh"

command -v bash >/dev/null || fail "bash not installed"
stage_install
COMPLETION="$ROOT/usr/share/bash-completion/completions/vmsilo-core"
[ -f "$COMPLETION" ] || fail "completion not installed at $COMPLETION"

use_crosvm upstream
make_vm web
make_vm work
make_vm banking
expect 0 "$VMSILO" start web
mkdir -p "$T/other/etc/vmsilo/vms"
cp "$CONF/vms/work.conf" "$T/other/etc/vmsilo/vms/alt.conf"

# what --help says: the commands, the global long options, each command's long options
"$VMSILO" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 {print $1}' | sort >"$T/help-commands"
[ "$(wc -l <"$T/help-commands")" -ge 10 ] || fail "cannot read the commands from --help"
"$VMSILO" --help | sed -n '/^Options:/,/^$/p' | grep -o -- '--[a-z][a-z-]*' | sort -u >"$T/help-global"
for c in $(cat "$T/help-commands"); do
        "$VMSILO" "$c" --help | grep -o -- '--[a-z][a-z-]*=\{0,1\}' | sort -u >"$T/help-$c"
done

cat >"$T/drive.bash" <<'EOS'
set -u
. "$COMPLETION"
# comp WORD...: completes the last word; prints COMPREPLY sorted, one per line
comp() {
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _vmsilo_core
        printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}
same() { # same NAME EXPECTED-WORDS COMP-WORDS...
        local name=$1 want got
        want=$(printf '%s\n' $2 | sed '/^$/d' | sort)
        shift 2
        got=$(comp "$@")
        [ "$got" = "$want" ] || { echo "FAIL: $name: '$*' gave [$(echo $got)], expected [$(echo $want)]"; bad=1; }
}
covers() { # covers NAME FILE COMP-WORDS...: every line of FILE is offered
        local name=$1 file=$2 got missing
        shift 2
        got=$(comp "$@")
        missing=$(printf '%s\n' "$got" | comm -13 - "$file" | tr '\n' ' ')
        [ -z "$missing" ] || { echo "FAIL: $name: '$*' does not offer: $missing"; bad=1; }
}
bad=0
covers "commands" "$T/help-commands" vmsilo-core ""
same "commands are exactly --help's" "$(cat "$T/help-commands")" vmsilo-core ""
same "command prefix" "start stop shell status" vmsilo-core s
covers "global options" "$T/help-global" vmsilo-core --
same "after --root comes a directory" "$T/other" vmsilo-core --root "$T/oth"
for c in $(cat "$T/help-commands"); do
        covers "options of $c" "$T/help-$c" vmsilo-core "$c" -
done
same "check: every VM" "banking web work" vmsilo-core check ""
same "print --json: every VM" "banking web work" vmsilo-core print --json ""
same "start: stopped VMs" "banking work" vmsilo-core start ""
same "start --foreground --timeout 5: stopped VMs" "banking work" vmsilo-core start --foreground --timeout 5 ""
same "stop: running VMs" "web" vmsilo-core stop ""
same "resume: paused VMs (none)" "" vmsilo-core resume ""
same "status: every VM" "banking web work" vmsilo-core status ""
same "prefix" "web work" vmsilo-core cleanup w
same "global options before the command" "banking web work" vmsilo-core -v --runtime-dir "$VMSILO_RUNTIME_DIR" check ""
same "one NAME only" "" vmsilo-core check web ""
same "--timeout takes seconds" "" vmsilo-core stop --timeout ""
same "run: NAME after options" "banking web work" vmsilo-core run -t -u root -e A=1 ""
same "run: after NAME comes the guest's command" "" vmsilo-core run web -
same "run: its options" "--no-start --no-tty" vmsilo-core run --no-
same "shell: NAME" "banking web work" vmsilo-core shell --agent ""
same "list takes no NAME" "" vmsilo-core list ""
same "exec --shared=DIR" "--shared=$T/other" vmsilo-core exec --shared="$T/oth"
(
        unset VMSILO_CONF_PATH
        same "--root: the VMs of that root" "alt" vmsilo-core --root "$T/other" check ""
        same "--root=DIR" "alt" vmsilo-core --root="$T/other" check ""
        [ "$bad" = 0 ]
) || bad=1
same "no binary: vms/*.conf of the config dirs" "banking web work" /nonexistent/vmsilo-core check ""
exit $bad
EOS
PATH="$(dirname "$VMSILO"):$PATH" COMPLETION="$COMPLETION" T="$T" bash "$T/drive.bash" >"$T/drive.out" 2>&1 ||
        { cat "$T/drive.out" >&2; fail "completion"; }
[ ! -s "$T/drive.out" ] || { cat "$T/drive.out" >&2; fail "completion printed something"; }
expect 0 "$VMSILO" stop web
