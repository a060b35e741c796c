/* Boot-time setup steps of vmsilo-init. Each returns 0 or a negative errno and logs its
 * own failure once. */
#ifndef VMSILO_GUEST_SETUP_H
#define VMSILO_GUEST_SETUP_H

#include "cmdline.h"

#define SYSROOT "/sysroot"

int setup_early_mounts(void);
void setup_console(void);
int setup_modules(void);
int setup_hostname(const struct config *cfg);
int setup_network(const struct config *cfg, const char *root);
/* Mounts root= (and the overlay) at SYSROOT; writes the root to use for commands ("/" or
 * SYSROOT) to ret_root. */
int setup_root(const struct config *cfg, const char **ret_root);
int setup_shares(const struct config *cfg, const char *root);
int setup_resolv_conf(const struct config *cfg, const char *root);

#endif
