/* SPDX-License-Identifier: MIT */
/*
 * A mock of the core's host table, so a plugin's unit tests link without the core (as
 * collectd's plugin_mock.c does). It records everything a plugin declares and lets a test
 * choose what the host answers. Only for tests: not installed, not part of the ABI.
 */
#pragma once

#include <vmsilo/plugin.h>

#define MOCK_MAX 64

struct mock_host {
        struct vmsilo_host host; /* hand &mock.host to the plugin's init() */

        /* what the host answers; set before calling hooks */
        const char *vm_name;     /* default "test" */
        uint32_t vm_id;          /* default 3 */
        const char *runtime_dir; /* default "/run/vmsilo/test" */
        int vmm;                 /* default VMSILO_VMM_CROSVM */
        const char *root;        /* prefix for root_path(); default "" */
        uint32_t uid, gid;
        int dry_run;
        const char *const *vmm_flags; /* NULL-terminated flags vmm_has() says yes to */
        int spawn_result;             /* returned by spawn_helper(); default 0 */
        const char *const *vmm_caps;  /* NULL-terminated capabilities vmm_can() says yes to */
        int check_result;             /* returned by check_device(); default 0 */
        char missing[256];            /* what vmm_can() said is missing */
        char *instances[MOCK_MAX];    /* instances whose key defaults were applied */
        int n_instances;
        /* companion() files asked for, in order; the symbol is looked up in the test binary,
         * which links the companion's source (-rdynamic) */
        char *companions[MOCK_MAX];
        int n_companions;

        /* what the plugin did */
        char *logs[MOCK_MAX];
        int log_levels[MOCK_MAX];
        int n_logs;
        struct vmsilo_device devices[MOCK_MAX]; /* strings are copies */
        int n_devices;
        char *kernel_params[MOCK_MAX];
        int n_kernel_params;
        char *vmm_args[MOCK_MAX];
        int vmm_arg_vmm[MOCK_MAX];
        int n_vmm_args;
        int fds[MOCK_MAX];
        int n_fds;
        char *helpers[MOCK_MAX]; /* "name: argv0 argv1 ..." */
        int helper_ready[MOCK_MAX];
        char *helper_sockets[MOCK_MAX];
        int n_helpers;
        char *undos[MOCK_MAX];
        int n_undos;
        char *unlinks[MOCK_MAX];
        int n_unlinks;
        char *steps[MOCK_MAX];
        int n_steps;
};

/* Resets `m` to the defaults above and fills m->host. */
void mock_host_init(struct mock_host *m);
/* Frees what was recorded and closes passed fds. */
void mock_host_done(struct mock_host *m);

/*
 * The core's part of configuration, for plugins with a key table (ABI 1.1): init() and the
 * defaults; one key (the table, else configure(); errors are logged as the core words them,
 * without path:line; -ENOENT for an unknown key); the configured() hook.
 */
int mock_host_start(struct mock_host *m, const struct vmsilo_plugin *p, void **ret_state);
int mock_host_configure(struct mock_host *m, const struct vmsilo_plugin *p, void *state,
                        const char *instance, const char *key, const char *value);
int mock_host_configured(struct mock_host *m, const struct vmsilo_plugin *p, void *state);

/* 1 if some log line contains `text`. */
int mock_host_logged(const struct mock_host *m, const char *text);
/* All kernel params / vmm args joined by single spaces (malloc()ed, for assertions). */
char *mock_host_join(char *const *items, int n);
