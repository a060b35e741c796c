/* User lookup in ROOT/etc/passwd and ROOT/etc/group (no NSS in a static binary). */
#ifndef VMSILO_GUEST_USER_H
#define VMSILO_GUEST_USER_H

#include <sys/types.h>

#define USER_MAX_GROUPS 32

struct user_info {
        uid_t uid;
        gid_t gid;
        char name[64];
        char home[256];
        char shell[256];
        gid_t groups[USER_MAX_GROUPS];
        int n_groups;
};

/* user: "" (root), a decimal uid, or a name. Returns 0 or -ENOENT for an unknown name. */
int user_lookup(const char *root, const char *user, struct user_info *ret);

#endif
