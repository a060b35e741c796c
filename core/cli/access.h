/* SPDX-License-Identifier: MIT */
#pragma once

#include "config/settings.h"
#include "run/agent.h"

/*
 * Where a VM runs for the caller. Root, and a user for their own VMs (a configuration file
 * they own, e.g. in ~/.config/vmsilo), use the runtime dir directly. A user on root's VM goes
 * through its client socket (clientsock.h), which only root and members of vmsilo-NAME reach,
 * and starts it through systemd (vmsilo@NAME.service; polkit decides).
 */
struct vm_place {
        char *dir;   /* the runtime dir */
        char *sock;  /* the client socket, RUNBASE/NAME.sock */
        char *group; /* vmsilo-NAME */
        int direct;  /* 1: the caller uses `dir` itself */
};

/* Fills `ret`; on failure (OOM) it is left safe to pass to vm_place_done(). */
int vm_place_find(const struct settings *s, const char *name, struct vm_place *ret);
void vm_place_done(struct vm_place *p);

/* For a caller on root's VM (not direct). Each returns an exit code; a caller who may not
 * use the VM is told which group grants access (EXIT_DENIED, or EXIT_NO_STATUS for run). */
int member_run(const struct vm_place *p, const char *name, const struct agent_request *req,
               int no_start);
int member_start(const struct vm_place *p, const char *name);
int member_stop(const struct vm_place *p, const char *name, unsigned timeout_s);
int member_console(const struct vm_place *p, const char *name);
/* "running", "stopped" or "unknown" (the caller cannot tell; said on stderr once). */
const char *member_state(const struct vm_place *p, const char *name);
