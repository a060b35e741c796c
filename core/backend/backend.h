/* SPDX-License-Identifier: MIT */
#pragma once

#include "util/strv.h"

struct vm;
struct vm_device;

/* A VMM backend: renders the VM description into an argv and knows how to stop the VMM. */
#define VMM_UP_INCOMING 2

struct backend {
        const char *name;
        int vmm;                 /* enum vmsilo_vmm */
        int console_vmm_listens; /* 1: the VMM listens on the console socket; 0: it connects */
        int agent_via_port;      /* 1: the agent is a virtio-console port, multiplexed */
        const char *binary_default;
        /* the configured binary path of this backend */
        const char *(*binary)(const struct vm *vm);
        /* `--help` texts for capability queries, stored in vm->probe_* (cached on disk) */
        int (*probe)(struct vm *vm);
        /* backend checks: every missing capability the config needs; returns failures */
        int (*preflight)(struct vm *vm);
        int (*render)(struct vm *vm, struct strv *argv);
        /* 1 when `flag` is supported */
        int (*has)(const struct vm *vm, const char *flag);
        /* 1 when the VMM can do `capability` (plugin.h, vmm_can); else 0 and what it lacks
         * in `missing` ("crosvm has no '--gpu'"). Called after a successful probe. */
        int (*can)(const struct vm *vm, const char *capability, char *missing, size_t size);
        /* optional: rules of one device beyond its capabilities; 1 ok, else 0 and why */
        int (*check)(const struct vm *vm, const struct vm_device *d, char *missing, size_t size);
        /* where the guest agent answers: "unix:PATH" or "vsock:CID:PORT", malloc()ed */
        char *(*agent_address)(const struct vm *vm);
        /* asks a running VMM to stop: graceful (power button) or hard (quit now) */
        int (*request_stop)(const char *binary, const char *runtime_dir, int hard);
        /* snapshots (NULL: the backend has none). restore: in the supervisor, once the VMM
         * is up with vm->snapshot set to a restore, load the state, attach what a snapshot
         * cannot hold, run the guest. save: stop a running VM, write its device state to
         * state_path, end the VMM. Both log at debug only: callers fall back. */
        int (*restore)(struct vm *vm);
        int (*save)(const char *runtime_dir, const char *state_path);
        /* 1 once the VMM has built the machine and runs its vCPUs, 0 not yet (or no answer),
         * VMM_UP_INCOMING when it answers, paused, waiting for a snapshot's state */
        int (*is_up)(const char *runtime_dir, unsigned timeout_ms);
        /* continues a paused VM; NULL when the VMM cannot pause */
        int (*resume)(const char *binary, const char *runtime_dir);
        int events; /* 1: the VMM reports events on VM_EVENTS_SOCKET (QMP) */
};

extern const struct backend crosvm_backend;
extern const struct backend qemu_backend;

const struct backend *backend_find(const char *name);

/* Probes if needed, then asks the backend. 1/0, or negative errno if probing failed. */
int backend_has(struct vm *vm, const char *flag);

/* Runs `binary ARGS...` (argv[0] = binary) and returns its stdout (malloc()ed), from an
 * on-disk cache keyed by the binary's path, size and mtime, the arguments and `salt`
 * (anything else the answer depends on; may be NULL). NULL with errno set on failure.
 * `cache_dir` (NULL: no cache) is made 0700; one that is a symlink or not ours is not used
 * (warned about once); entries are 0600 files written through a new file and a rename. */
char *probe_cached(const char *cache_dir, const char *binary, const char *const *argv,
                   const char *salt);
/* Why the last probe_cached() failed: the tool's exit status or signal and its stderr, or
 * strerror(errno). Valid until the next probe. */
const char *probe_failure(void);
/* Pure: writes that text for a tool that ended with `status` (128 + N: signal N). */
void probe_describe_failure(char *buf, size_t size, int status, const char *err);

/* Probes if needed, then asks the backend for a capability (plugin.h, vmm_can). 1 yes; 0 no,
 * with what is missing in vm->missing; negative errno if probing failed. */
int backend_can(struct vm *vm, const char *capability);

/* Whether the backend can render `d`: 0, or -EOPNOTSUPP with the reason in vm->missing, or
 * a negative errno if probing failed. */
int backend_check_device(struct vm *vm, const struct vm_device *d);

/* Resolves `name` in $PATH unless it contains a slash. malloc()ed or NULL (-ENOENT). */
char *find_binary(const char *name);

/* crosvm key=value quoting: the value as is when it is safe, else "..." with \" and \\. */
char *kv_quote(const char *value);

/* 1 if `token` appears in `text` delimited by non-[A-Za-z0-9_-] characters. */
int text_has_token(const char *text, const char *token);
