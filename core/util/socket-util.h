/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/socket.h>

/* A connected SOCK_STREAM socket of `family` (CLOEXEC, plus `flags` such as SOCK_NONBLOCK),
 * or a negative errno. */
int socket_connect(int family, int flags, const struct sockaddr *sa, socklen_t len);

/* The same for the unix socket at `path`; -ENAMETOOLONG if it does not fit. */
int unix_connect(const char *path, int flags);

/* A non-blocking listening unix stream socket at `path` (a stale file there is replaced),
 * or a negative errno. */
int unix_listen(const char *path);
