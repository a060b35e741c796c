/* SPDX-License-Identifier: MIT */
#pragma once

#include <poll.h>

/*
 * The console relay of a running VM: the VMM's serial console (a unix stream socket, which
 * the VMM connects to or listens on, depending on the backend) is copied to console.log and
 * to every client of console.sock; what clients type goes to the VMM. console.log is bounded:
 * at `log_max` bytes it becomes console.log.1 and a new one starts.
 */
struct console;

/* Creates the relay; `backend_fd` is a listener (accept once) or, when `connect_path` is
 * set, the relay connects there (retrying) once the VMM is up. `log_dir` (consumed; -1: no
 * log) is where console.log is written; an existing one becomes console.log.1 first. */
struct console *console_new(int backend_listen_fd, const char *connect_path,
                            const char *client_socket, int log_dir, unsigned long long log_max);
struct console *console_free(struct console *c);

/* Fills up to `max` pollfds; returns how many. */
int console_fill_pollfds(struct console *c, struct pollfd *fds, int max);
/* Handles the events of the pollfds console_fill_pollfds() gave. */
void console_dispatch(struct console *c, const struct pollfd *fds, int n);
/* For VMMs that listen: try to connect now (no-op once connected). */
void console_try_connect(struct console *c);
