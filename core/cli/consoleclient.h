/* SPDX-License-Identifier: MIT */
#pragma once

/* Attaches the terminal to a running VM's serial console (console.sock): raw mode when
 * stdin is a terminal, restored on every exit path; Ctrl-] detaches. Returns an exit code. */
int console_attach(const char *vm_name, const char *socket_path);
/* The same over a connected console stream (consumed), e.g. through the client socket. */
int console_attach_fd(const char *vm_name, int sock);
