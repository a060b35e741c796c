/* SPDX-License-Identifier: MIT */
#pragma once

#include "util/strv.h"

struct agent_request {
        char *const *argv; /* the command, exactly as given */
        const struct strv *env;
        const char *user;
        const char *cwd;
        int pty;
        unsigned connect_timeout_s; /* how long the guest may take to answer */
};

/*
 * Runs a command in a running VM through its guest agent (docs/guest-protocol.md) at
 * `address` ("unix:PATH" or "vsock:CID:PORT"), streaming stdin/stdout/stderr and forwarding
 * signals. Returns the command's status (0..255, 128+N for a signal), or a negative errno
 * after logging why there is none.
 */
int agent_run(const char *vm_name, const char *address, const struct agent_request *req);

/* The same over a connection made already (consumed), e.g. through the client socket. */
int agent_run_fd(const char *vm_name, int fd, const struct agent_request *req);

/* Connects to an agent address ("unix:PATH" or "vsock:CID:PORT"). Returns the fd. */
int agent_connect(const char *address);
