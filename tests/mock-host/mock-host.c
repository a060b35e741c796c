/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock-host.h"

static struct mock_host *M(const struct vmsilo_host *h) {
        return (struct mock_host *) h->core;
}

static char *dup0(const char *s) {
        return s ? strdup(s) : NULL;
}

static void mock_log(const struct vmsilo_host *h, int level, const char *fmt, ...) {
        struct mock_host *m = M(h);
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (getenv("MOCK_HOST_VERBOSE"))
                fprintf(stderr, "mock log %d: %s\n", level, s ? s : "?");
        if (m->n_logs < MOCK_MAX) {
                m->log_levels[m->n_logs] = level;
                m->logs[m->n_logs++] = s;
        } else
                free(s);
}

static const char *mock_vm_name(const struct vmsilo_host *h) {
        return M(h)->vm_name;
}

static uint32_t mock_vm_id(const struct vmsilo_host *h) {
        return M(h)->vm_id;
}

static const char *mock_runtime_dir(const struct vmsilo_host *h) {
        return M(h)->runtime_dir;
}

static int mock_vmm(const struct vmsilo_host *h) {
        return M(h)->vmm;
}

static int mock_vmm_has(const struct vmsilo_host *h, const char *flag) {
        const char *const *f = M(h)->vmm_flags;

        for (; f && *f; f++)
                if (strcmp(*f, flag) == 0)
                        return 1;
        return 0;
}

static int mock_add_device(const struct vmsilo_host *h, const struct vmsilo_device *d) {
        struct mock_host *m = M(h);
        struct vmsilo_device *c;

        if (m->n_devices >= MOCK_MAX)
                return -ENOSPC;
        c = &m->devices[m->n_devices++];
        *c = *d;
        c->path = dup0(d->path);
        c->id = dup0(d->id);
        c->name = dup0(d->name);
        c->mac = dup0(d->mac);
        c->kind = dup0(d->kind);
        c->socket = dup0(d->socket);
        c->tag = dup0(d->tag);
        c->options = dup0(d->options);
        c->pci_address = dup0(d->pci_address);
        return 0;
}

static int push(char **items, int *n, const char *s) {
        if (*n >= MOCK_MAX)
                return -ENOSPC;
        items[(*n)++] = strdup(s);
        return 0;
}

static int mock_add_kernel_param(const struct vmsilo_host *h, const char *p) {
        return push(M(h)->kernel_params, &M(h)->n_kernel_params, p);
}

static int mock_add_vmm_arg(const struct vmsilo_host *h, int vmm, const char *arg) {
        struct mock_host *m = M(h);

        if (m->n_vmm_args < MOCK_MAX)
                m->vmm_arg_vmm[m->n_vmm_args] = vmm;
        return push(m->vmm_args, &m->n_vmm_args, arg);
}

static int mock_pass_fd(const struct vmsilo_host *h, int fd) {
        struct mock_host *m = M(h);

        if (fd < 0) {
                if (!m->dry_run || m->n_fds >= MOCK_MAX)
                        return -EBADF;
                m->fds[m->n_fds] = -1; /* a placeholder slot, as the core keeps one */
                return 100 + m->n_fds++;
        }
        if (m->n_fds >= MOCK_MAX) {
                close(fd);
                return -ENOSPC;
        }
        m->fds[m->n_fds++] = fd;
        return fd;
}

static int mock_spawn_helper(const struct vmsilo_host *h, const struct vmsilo_helper *helper) {
        struct mock_host *m = M(h);
        char buf[4096];
        size_t len;

        snprintf(buf, sizeof(buf), "%s:", helper->name);
        for (size_t i = 0; helper->argv && helper->argv[i]; i++) {
                len = strlen(buf);
                snprintf(buf + len, sizeof(buf) - len, " %s", helper->argv[i]);
        }
        if (m->n_helpers < MOCK_MAX) {
                m->helper_ready[m->n_helpers] = (int) helper->ready;
                m->helper_sockets[m->n_helpers] = dup0(helper->socket);
        }
        push(m->helpers, &m->n_helpers, buf);
        return m->spawn_result;
}

static int mock_push_undo(const struct vmsilo_host *h, const char *action) {
        return push(M(h)->undos, &M(h)->n_undos, action);
}

static int mock_push_unlink(const struct vmsilo_host *h, const char *path) {
        return push(M(h)->unlinks, &M(h)->n_unlinks, path);
}

static uint32_t mock_vm_uid(const struct vmsilo_host *h) {
        return M(h)->uid;
}

static uint32_t mock_vm_gid(const struct vmsilo_host *h) {
        return M(h)->gid;
}

static char *mock_root_path(const struct vmsilo_host *h, const char *path) {
        char *s = NULL;

        if (asprintf(&s, "%s%s", M(h)->root, path) < 0)
                return NULL;
        return s;
}

static int mock_dry_run(const struct vmsilo_host *h) {
        return M(h)->dry_run;
}

static void mock_describe(const struct vmsilo_host *h, const char *fmt, ...) {
        struct mock_host *m = M(h);
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (s && m->n_steps < MOCK_MAX)
                m->steps[m->n_steps++] = s;
        else
                free(s);
}

void mock_host_init(struct mock_host *m) {
        memset(m, 0, sizeof(*m));
        m->vm_name = "test";
        m->vm_id = 3;
        m->runtime_dir = "/run/vmsilo/test";
        m->vmm = VMSILO_VMM_CROSVM;
        m->root = "";
        m->host = (struct vmsilo_host){
                .size = sizeof(struct vmsilo_host),
                .abi_minor = VMSILO_PLUGIN_ABI_MINOR,
                .core = m,
                .log = mock_log,
                .vm_name = mock_vm_name,
                .vm_id = mock_vm_id,
                .runtime_dir = mock_runtime_dir,
                .vmm = mock_vmm,
                .vmm_has = mock_vmm_has,
                .add_device = mock_add_device,
                .add_kernel_param = mock_add_kernel_param,
                .add_vmm_arg = mock_add_vmm_arg,
                .pass_fd = mock_pass_fd,
                .spawn_helper = mock_spawn_helper,
                .push_undo = mock_push_undo,
                .push_unlink = mock_push_unlink,
                .vm_uid = mock_vm_uid,
                .vm_gid = mock_vm_gid,
                .root_path = mock_root_path,
                .dry_run = mock_dry_run,
                .describe = mock_describe,
        };
}

static void free_all(char **items, int n) {
        for (int i = 0; i < n; i++)
                free(items[i]);
}

void mock_host_done(struct mock_host *m) {
        free_all(m->logs, m->n_logs);
        free_all(m->kernel_params, m->n_kernel_params);
        free_all(m->vmm_args, m->n_vmm_args);
        free_all(m->helpers, m->n_helpers);
        free_all(m->helper_sockets, m->n_helpers < MOCK_MAX ? m->n_helpers : MOCK_MAX);
        free_all(m->undos, m->n_undos);
        free_all(m->unlinks, m->n_unlinks);
        free_all(m->steps, m->n_steps);
        for (int i = 0; i < m->n_devices; i++) {
                struct vmsilo_device *d = &m->devices[i];

                free((char *) d->path);
                free((char *) d->id);
                free((char *) d->name);
                free((char *) d->mac);
                free((char *) d->kind);
                free((char *) d->socket);
                free((char *) d->tag);
                free((char *) d->options);
                free((char *) d->pci_address);
        }
        for (int i = 0; i < m->n_fds; i++)
                if (m->fds[i] >= 0)
                        close(m->fds[i]);
        mock_host_init(m);
}

int mock_host_logged(const struct mock_host *m, const char *text) {
        for (int i = 0; i < m->n_logs; i++)
                if (m->logs[i] && strstr(m->logs[i], text))
                        return 1;
        return 0;
}

char *mock_host_join(char *const *items, int n) {
        size_t len = 1;
        char *s;

        for (int i = 0; i < n; i++)
                len += strlen(items[i]) + 1;
        s = calloc(1, len);
        if (!s)
                return NULL;
        for (int i = 0; i < n; i++) {
                if (i)
                        strcat(s, " ");
                strcat(s, items[i]);
        }
        return s;
}
