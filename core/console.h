/* SPDX-License-Identifier: MIT */
#pragma once

#include <poll.h>

/*
 * The console relay of a running VM: the VMM's serial console (a unix stream socket, which
 * the VMM connects to or listens on, depending on the backend) is copied to console.log and
 * to every client of console.sock; what clients type goes to the VMM.
 */
struct console;

/* Creates the relay; `backend_fd` is a listener (accept once) or, when `connect_path` is
 * set, the relay connects there (retrying) once the VMM is up. */
struct console *console_new(int backend_listen_fd, const char *connect_path,
                            const char *client_socket, const char *log_path);
struct console *console_free(struct console *c);

/* Fills up to `max` pollfds; returns how many. */
int console_fill_pollfds(struct console *c, struct pollfd *fds, int max);
/* Handles the events of the pollfds console_fill_pollfds() gave. */
void console_dispatch(struct console *c, const struct pollfd *fds, int n);
/* For VMMs that listen: try to connect now (no-op once connected). */
void console_try_connect(struct console *c);
