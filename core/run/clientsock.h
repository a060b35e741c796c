/* SPDX-License-Identifier: MIT */
#pragma once

#include <poll.h>

struct vm;

/*
 * The per-VM client socket, RUNBASE/NAME.sock next to the VM's runtime dir (which stays
 * 0750): owned by root and group vmsilo-NAME, mode 0660, so that members of the group reach
 * a VM that root started without sudo. The supervisor checks every peer (SO_PEERCRED and its
 * groups) and serves one request per connection, a line: "status", "stop", "agent" (a guest
 * agent session; a member's commands run as the VM's [vm] user) or "console". The answer is
 * "ok ..." (then, for agent and console, the stream) or "error MESSAGE".
 */
struct client_sock;

/* Listens on the client socket of `vm` (journalled for undo). NULL after logging why. */
struct client_sock *client_sock_new(struct vm *vm);
/* Closes the listener and ends the connections it serves (not the socket file: the undo
 * journal removes it, so that it vanishes only once the VM is gone). */
struct client_sock *client_sock_free(struct client_sock *c);

/* Fills at most `max` pollfds; returns how many. */
int client_sock_fill_pollfds(struct client_sock *c, struct pollfd *fds, int max);
/* Accepts and serves, and reaps the processes that serve connections. */
void client_sock_dispatch(struct client_sock *c, const struct pollfd *fds, int n);

/* The group whose members may use VM `name`, malloc()ed ("vmsilo-NAME"). */
char *client_sock_group(const char *name);

/*
 * The client side: connects to `path` and sends `request`. Returns the connected fd once the
 * supervisor said "ok" (its answer after "ok " in *ret_reply, malloc()ed, if not NULL);
 * -EACCES when the socket or the supervisor refuses us (the supervisor's reason logged at
 * debug level), -ENOENT or -ECONNREFUSED when no supervisor listens, -EPROTO on an error
 * answer (logged).
 */
int client_sock_request(const char *path, const char *vm_name, const char *request,
                        char **ret_reply);
