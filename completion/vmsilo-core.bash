# bash completion for vmsilo-core(1): commands, options and VM names.
# VM names come from `vmsilo-core list --json` (with the --root/--runtime-dir/--plugin-dir
# options already on the line), else from vms/*.conf in the configuration directories.

_vmsilo_core_vms() {
        # $1: all, running (also paused or starting), paused or stopped (also needing
        # cleanup); the global options of the line are in _vmsilo_core_global
        local want=$1 json dir d names=""
        json=$("${_vmsilo_core_cmd}" "${_vmsilo_core_global[@]}" list --json 2>/dev/null)
        if [[ $json == \[* ]]; then
                local obj name state
                while read -r obj; do
                        [[ $obj =~ \"name\":\ *\"([^\"]*)\" ]] || continue
                        name=${BASH_REMATCH[1]}
                        [[ $obj =~ \"state\":\ *\"([^\"]*)\" ]] && state=${BASH_REMATCH[1]} || state=
                        case $want in
                        running) [[ $state == running || $state == paused || $state == starting ]] || continue ;;
                        paused) [[ $state == paused ]] || continue ;;
                        stopped) [[ $state == stopped || $state == "needs cleanup" ]] || continue ;;
                        esac
                        names+="$name "
                done < <(printf '%s\n' "$json" | sed 's/}, *{/}\n{/g')
                printf '%s\n' "$names"
                return
        fi
        # no usable binary: read the configuration directories as the core would
        local root=${_vmsilo_core_root:-${VMSILO_ROOT:-}} IFS=:
        local dirs=${VMSILO_CONF_PATH:-/etc/vmsilo:/run/vmsilo:/usr/local/lib/vmsilo:/usr/lib/vmsilo}
        for dir in $dirs; do
                for d in "$root$dir"/vms/*.conf; do
                        [[ -e $d ]] || continue
                        d=${d##*/}
                        names+="${d%.conf} "
                done
        done
        printf '%s\n' "$names"
}

_vmsilo_core() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        local commands="plugins list status check print start stop resume cleanup log run shell exec"
        local global_opts="--root --plugin-dir --runtime-dir -v --verbose -q --quiet -h --help --version"
        local i word cmd="" cmd_at=0 nargs=0
        _vmsilo_core_cmd=${COMP_WORDS[0]}
        _vmsilo_core_global=()
        _vmsilo_core_root=
        COMPREPLY=()

        # the command: the first word that is not a global option or its argument
        for ((i = 1; i < COMP_CWORD; i++)); do
                word=${COMP_WORDS[i]}
                case $word in
                --root | --plugin-dir | --runtime-dir)
                        _vmsilo_core_global+=("$word" "${COMP_WORDS[i + 1]}")
                        [[ $word == --root ]] && _vmsilo_core_root=${COMP_WORDS[i + 1]}
                        ((i++))
                        ;;
                --root=* | --plugin-dir=* | --runtime-dir=*)
                        _vmsilo_core_global+=("$word")
                        [[ $word == --root=* ]] && _vmsilo_core_root=${word#--root=}
                        ;;
                -*) ;;
                *)
                        cmd=$word
                        cmd_at=$i
                        break
                        ;;
                esac
        done

        if [[ -z $cmd ]]; then
                case $prev in
                --root | --plugin-dir | --runtime-dir)
                        COMPREPLY=($(compgen -d -- "$cur"))
                        return
                        ;;
                esac
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
                fi
                return
        fi

        # positional words after the command so far (options and their arguments skipped)
        local opts with_arg vms=all
        case $cmd in
        plugins | list) opts="--json --help" with_arg="" ;;
        check | print | status) opts="--json --help" with_arg="" ;;
        start) opts="--foreground --timeout --help" with_arg="--timeout" vms=stopped ;;
        stop) opts="--timeout --help" with_arg="--timeout" vms=running ;;
        cleanup) opts="--help" with_arg="" ;;
        resume) opts="--help" with_arg="" vms=paused ;;
        log) opts="--console --supervisor --lines --help" with_arg="--lines" ;;
        run) opts="-t --tty -T --no-tty -u --user -e --env -w --workdir --no-start --help"
                with_arg="-u --user -e --env -w --workdir" ;;
        shell) opts="--agent --ssh --root --help" with_arg="" ;;
        exec) opts="-q --quiet --initrd-console --cold --prepare --shared= --kernel --initrd --help"
                with_arg="--kernel --initrd" ;;
        *) return ;;
        esac
        for ((i = cmd_at + 1; i < COMP_CWORD; i++)); do
                word=${COMP_WORDS[i]}
                if [[ " $with_arg " == *" $word "* ]]; then
                        ((i++))
                elif [[ $word == -- && $cmd == exec ]]; then
                        return # the rest goes to the VMM
                elif [[ $word != -* ]]; then
                        ((nargs++))
                fi
        done

        case $prev in
        --timeout | --lines | -u | --user | -e | --env) return ;;
        -w | --workdir) return ;; # a directory inside the VM
        --kernel | --initrd)
                COMPREPLY=($(compgen -f -- "$cur"))
                return
                ;;
        esac
        if [[ $cmd == exec && $cur == --shared=* ]]; then
                COMPREPLY=($(compgen -d -P --shared= -- "${cur#--shared=}"))
                return
        fi
        # run: options only before NAME; after NAME comes the command for the VM
        if [[ $cur == -* && ! ($cmd == run && nargs -ge 1) ]]; then
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
                [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
                return
        fi
        case $cmd in
        plugins | list | exec) return ;;
        esac
        if ((nargs == 0)); then
                COMPREPLY=($(compgen -W "$(_vmsilo_core_vms "$vms")" -- "$cur"))
        fi
}

complete -F _vmsilo_core vmsilo-core
