#!/bin/sh
# Runs each CUnit test binary as its own process; fails if any fails.
set -u
failed=0
for t in "$@"; do
        if "$t"; then
                echo "PASS: $t"
        else
                echo "FAIL: $t (exit $?)"
                failed=$((failed + 1))
        fi
done
[ "$failed" -eq 0 ] || { echo "$failed unit test program(s) failed"; exit 1; }
