# A hostile guest (root) attacks a read-write share served by the C virtiofsd (QEMU's, Debian
# 12): chown to root and other users, set-uid/set-gid files and directories, device nodes,
# FIFOs, writes through symlinks pointing outside. See share-attack.sh.
. "$(dirname "$0")/share-attack.sh"

C_VIRTIOFSD=/usr/lib/qemu/virtiofsd
[ -x "$C_VIRTIOFSD" ] || fail "no C virtiofsd at $C_VIRTIOFSD (qemu-system-common)"
share_attack "$C_VIRTIOFSD" user
share_attack "$C_VIRTIOFSD" root
