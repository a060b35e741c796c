/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock-host.h"

/* the core's own key parser, so that plugin tests see what the core does */
#include "../../core/config/keytab.c"

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
        memcpy(c, d, d->size < sizeof(*c) ? d->size : sizeof(*c));
        c->path = dup0(d->path);
        c->id = dup0(d->id);
        c->name = dup0(d->name);
        c->mac = dup0(d->mac);
        c->kind = dup0(d->kind);
        c->socket = dup0(d->socket);
        c->tag = dup0(d->tag);
        c->options = dup0(d->options);
        c->pci_address = dup0(d->pci_address);
        if (d->size < sizeof(*d)) /* an ABI 1.0 plugin: no typed fields */
                memset((char *) c + d->size, 0, sizeof(*d) - d->size);
        else {
                c->server = dup0(d->server);
                c->app_id = dup0(d->app_id);
                c->helper = dup0(d->helper);
                c->cookie = dup0(d->cookie);
                c->render_node = dup0(d->render_node);
        }
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

static int mock_vmm_can(const struct vmsilo_host *h, const char *cap, const char **ret_missing) {
        struct mock_host *m = M(h);

        for (const char *const *c = m->vmm_caps; c && *c; c++)
                if (strcmp(*c, cap) == 0)
                        return 1;
        snprintf(m->missing, sizeof(m->missing), "the mock VMM cannot do '%s'", cap);
        if (ret_missing)
                *ret_missing = m->missing;
        return 0;
}

static int mock_log_errno(const struct vmsilo_host *h, int level, int error, const char *fmt, ...) {
        char buf[4096];
        va_list ap;

        if (error < 0)
                error = -error;
        errno = error;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        mock_log(h, level, "%s", buf);
        return -error;
}

static void mock_log_at(const struct vmsilo_host *h, int level, const char *instance,
                        const char *key, const char *fmt, ...) {
        char buf[4096];
        va_list ap;

        (void) instance;
        (void) key;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        mock_log(h, level, "%s", buf);
}

static int mock_check_device(const struct vmsilo_host *h, const struct vmsilo_device *d) {
        (void) d;
        if (M(h)->check_result < 0)
                mock_log(h, VMSILO_LOG_ERROR, "the mock VMM cannot render this device");
        return M(h)->check_result;
}

static void *mock_companion(const struct vmsilo_host *h, const char *file, const char *symbol) {
        struct mock_host *m = M(h);
        void *sym = dlsym(RTLD_DEFAULT, symbol);

        if (m->n_companions < MOCK_MAX)
                m->companions[m->n_companions++] = strdup(file);
        if (!sym)
                mock_log(h, VMSILO_LOG_ERROR, "companion '%s' has no '%s'", file, symbol);
        return sym;
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
                .vmm_can = mock_vmm_can,
                .log_errno = mock_log_errno,
                .log_at = mock_log_at,
                .check_device = mock_check_device,
                .companion = mock_companion,
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
        free_all(m->instances, m->n_instances);
        free_all(m->companions, m->n_companions);
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
                free((char *) d->server);
                free((char *) d->app_id);
                free((char *) d->helper);
                free((char *) d->cookie);
                free((char *) d->render_node);
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

int mock_host_start(struct mock_host *m, const struct vmsilo_plugin *p, void **ret_state) {
        int r = p->init ? p->init(&m->host, ret_state) : 0;

        if (r < 0)
                return r;
        return keytab_defaults(p->keys, p->key_size, *ret_state, 0);
}

static int mock_instance(struct mock_host *m, const struct vmsilo_plugin *p, void *state,
                         const char *instance, void **ret) {
        int r = p->instance(state, instance, ret);

        if (r < 0)
                return r;
        for (int i = 0; i < m->n_instances; i++)
                if (strcmp(m->instances[i], instance) == 0)
                        return 0;
        r = keytab_defaults(p->keys, p->key_size, *ret, 1);
        if (r >= 0)
                r = push(m->instances, &m->n_instances, instance);
        return r;
}

int mock_host_configure(struct mock_host *m, const struct vmsilo_plugin *p, void *state,
                        const char *instance, const char *key, const char *value) {
        char bad[256], why[512];
        struct vmsilo_key k;
        void *base = state;
        int r;

        if (!keytab_find(p->keys, p->key_size, key, !!instance, &k))
                return p->configure ? p->configure(state, instance, key, value) : -ENOENT;
        if (!!(k.flags & VMSILO_KEY_INSTANCE) != !!instance || (instance && !p->instance)) {
                if (!(k.flags & VMSILO_KEY_INSTANCE) && !p->instance)
                        mock_log(&m->host, VMSILO_LOG_ERROR,
                                 "section [%s] takes no name, found '%s'", p->name, instance);
                else if (k.flags & VMSILO_KEY_INSTANCE)
                        mock_log(&m->host, VMSILO_LOG_ERROR,
                                 "'%s' belongs in a named section [%s NAME], not in [%s]", key,
                                 p->name, p->name);
                else
                        mock_log(&m->host, VMSILO_LOG_ERROR,
                                 "'%s' belongs in [%s] (without a name), not in [%s %s]", key,
                                 p->name, p->name, instance);
                return -EINVAL;
        }
        if (instance) {
                r = mock_instance(m, p, state, instance, &base);
                if (r < 0)
                        return r;
        }
        r = keytab_store(&k, base, value, bad, sizeof(bad), why, sizeof(why));
        if (r == -EINVAL)
                mock_log(&m->host, VMSILO_LOG_ERROR, "invalid value '%s' for '%s' in [%s%s%s]: %s",
                         bad, key, p->name, instance ? " " : "", instance ? instance : "", why);
        return r;
}

int mock_host_configured(struct mock_host *m, const struct vmsilo_plugin *p, void *state) {
        (void) m;
        return p->configured ? p->configured(state) : 0;
}
