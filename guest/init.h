/* PID 1 internals shared by vmsilo-init.c and service.c. */
#ifndef VMSILO_GUEST_INIT_H
#define VMSILO_GUEST_INIT_H

#include <sys/types.h>

#include "cmdline.h"

/* Starts argv chrooted into root with stdio on /dev/console as its controlling terminal;
 * returns the pid or a negative errno. */
pid_t spawn_on_console(const char *root, char *const argv[]);
/* Unblocks the signals PID 1 handles through a signalfd (for children before exec). */
void reset_signals(void);
/* Serves until a power-off request; never returns. */
__attribute__((noreturn)) void service_run(const struct config *cfg, const char *root, int sigfd,
                                           int uevent_fd);

#endif
