# A hostile guest (root) attacks a read-write share served by the Rust virtiofsd (Debian 13's,
# run here by scripts/rust-virtiofsd.sh): the same attacks as with the C one. See
# share-attack.sh.
. "$(dirname "$0")/share-attack.sh"

RUST_VIRTIOFSD=$("$TOP/scripts/rust-virtiofsd.sh") ||
        fail "cannot make the Rust virtiofsd available (scripts/rust-virtiofsd.sh needs mmdebstrap and Debian's archive)"
share_attack "$RUST_VIRTIOFSD" user
share_attack "$RUST_VIRTIOFSD" root
