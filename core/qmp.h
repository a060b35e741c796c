/* SPDX-License-Identifier: MIT */
#pragma once

/* Sends one QMP command (e.g. "system_powerdown", "quit") to the QMP socket at `path`,
 * after the capabilities handshake. 0 when QEMU answered with "return". */
int qmp_execute(const char *path, const char *command, unsigned timeout_ms);
