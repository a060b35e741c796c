/* SPDX-License-Identifier: MIT */
#pragma once

/* Sends one QMP command (e.g. "system_powerdown", "quit") to the QMP socket at `path`,
 * after the capabilities handshake. 0 when QEMU answered with "return". */
int qmp_execute(const char *path, const char *command, unsigned timeout_ms);

/* Connects to the QMP socket at `path` and does the capabilities handshake. Returns the
 * connection's fd (O_CLOEXEC) or a negative errno. */
int qmp_open(const char *path, unsigned timeout_ms);

/* Sends one command, `json` (a whole line, borrowed), on a connection from qmp_open() and
 * waits for its reply, skipping events. 0 on "return", -EIO on "error"; the reply line
 * (malloc()ed) in ret_reply in both cases if it is not NULL. */
int qmp_call(int fd, const char *json, unsigned timeout_ms, char **ret_reply);
