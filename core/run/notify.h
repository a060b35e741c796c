/* SPDX-License-Identifier: MIT */
#pragma once

/* sd_notify(3) without libsystemd: sends `state` to $NOTIFY_SOCKET if set. 0, or negative
 * errno; a missing $NOTIFY_SOCKET is not an error. */
int notify_service_manager(const char *state);
