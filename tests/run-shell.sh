#!/bin/sh
# Runs shell tests, each in its own process; prints PASS/FAIL per script.
set -u
failed=0
for t in "$@"; do
        case "$t" in */lib.sh) continue ;; esac
        if out=$(sh "$t" 2>&1); then
                echo "PASS: $t"
        else
                echo "FAIL: $t"
                printf '%s\n' "$out" | sed 's/^/    /'
                failed=$((failed + 1))
        fi
done
[ "$failed" -eq 0 ] || { echo "$failed shell test(s) failed"; exit 1; }
