#!/bin/sh
# Writes the scdoc source of a manual page to stdout. vmsilo-core.1 is written by hand;
# vmsilo.conf.5 and vmsilo-plugin.7 are generated from the Markdown references they share
# their text with (md2scd.awk), so that the two cannot disagree:
#   vmsilo.conf.5.scd.in    @CONF@ = docs/vmsilo.conf.md, @PLUGINS@ = every plugins/NAME/NAME.md
#   vmsilo-plugin.7.scd.in  @GUIDE@ = docs/plugin-guide.md up to "<!-- end of vmsilo-plugin(7) -->"
# usage: gen.sh TOP PAGE   (PAGE: vmsilo-core.1, vmsilo.conf.5 or vmsilo-plugin.7)
set -eu
top=$1
page=$2
man="$top/docs/man"
conv() { awk -v h1="$1" -v h2="$2" -v h3="$3" -f "$man/md2scd.awk"; }

if [ -f "$man/$page.scd" ]; then
        cat "$man/$page.scd"
        exit 0
fi
[ -f "$man/$page.scd.in" ] || { echo "gen.sh: no source for '$page'" >&2; exit 2; }
while IFS= read -r line; do
        case "$line" in
        @CONF@) conv drop '#' '##' <"$top/docs/vmsilo.conf.md" ;;
        @GUIDE@) sed '/<!-- end of vmsilo-plugin(7) -->/,$d' "$top/docs/plugin-guide.md" | conv drop '#' '##' ;;
        @PLUGINS@)
                for d in "$top"/plugins/*/; do
                        name=$(basename "$d")
                        if [ -f "$d/$name.md" ]; then
                                conv '#' '##' '##' <"$d/$name.md"
                        else
                                printf '# Plugin %s\n\nNo reference page (plugins/%s/%s.md is missing).\n\n' \
                                        "$name" "$name" "$name"
                        fi
                done
                ;;
        *) printf '%s\n' "$line" ;;
        esac
done <"$man/$page.scd.in"
