# Cell: a helper fails before it is ready (virtiofsd exits at once): start fails with its
# status and stderr, nothing is left, and the next start works.
. "$(dirname "$0")/lib.sh"

make_fault_vm h1
cat >"$T/dying-virtiofsd" <<EOS
#!/bin/sh
case "\$*" in
--help) exec $C_VIRTIOFSD --help ;;
esac
echo "dying-virtiofsd: cannot set up the sandbox" >&2
exit 3
EOS
chmod +x "$T/dying-virtiofsd"
printf '[virtiofs]\nvirtiofsd = %s\n' "$T/dying-virtiofsd" >"$CONF/vms/h1.conf.d/zz-dying.conf"
expect 1 "$VMSILO" start h1
err_has "helper 'data' exited with status 3 before it was ready"
err_has "dying-virtiofsd: cannot set up the sandbox"
assert_clean h1

rm "$CONF/vms/h1.conf.d/zz-dying.conf"
next_start_works h1
