/* SPDX-License-Identifier: MIT */
/*
 * example: an out-of-tree vmsilo-core plugin, built only against the installed SDK
 * (`pkg-config --cflags vmsilo-plugin`). It shows every stage a real plugin goes through:
 *
 *   configure   [example] message = WORD, stamp-directory = /ABS/PATH (errors name the key)
 *   preflight   the stamp directory exists and is writable (checks only, changes nothing)
 *   prepare     writes DIR/NAME.stamp; the removal is registered with push_undo() *before*
 *               the file is made, so stop, a failed start and `cleanup` after a crash all
 *               remove it (undo() below); `print` lists the step instead (dry run)
 *   contribute  the kernel parameter example.message=WORD
 *
 * See docs/plugin-guide.md for a walk through this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmsilo/plugin.h>

#define UNDO_PREFIX "remove-stamp "

struct example {
        const struct vmsilo_host *host; /* borrowed: valid until teardown */
        char *message;
        char *directory; /* NULL: no stamp file */
};

static int example_init(const struct vmsilo_host *host, void **ret_state) {
        struct example *e = calloc(1, sizeof(*e));

        if (!e)
                return -ENOMEM;
        e->host = host;
        e->message = strdup("hello");
        if (!e->message) {
                free(e);
                return -ENOMEM;
        }
        *ret_state = e;
        return 0;
}

/* A kernel parameter value: letters, digits, '.', '_' and '-', 1 to 64 of them. */
static int word_valid(const char *s) {
        size_t n = strlen(s);

        return n > 0 && n <= 64 &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int set_string(char **dst, const char *value) {
        char *s = strdup(value);

        if (!s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

static int example_configure(void *state, const char *instance, const char *key,
                             const char *value) {
        struct example *e = state;
        const struct vmsilo_host *h = e->host;

        if (instance) {
                h->log(h, VMSILO_LOG_ERROR, "section [example] takes no name, found '%s'",
                       instance);
                return -EINVAL;
        }
        if (strcmp(key, "message") == 0) {
                if (!word_valid(value)) {
                        h->log(h, VMSILO_LOG_ERROR,
                               "invalid value '%s' for 'message' in [example]: expected 1 to 64 letters, digits, '.', '_' or '-'",
                               value);
                        return -EINVAL;
                }
                return set_string(&e->message, value);
        }
        if (strcmp(key, "stamp-directory") == 0) {
                if (value[0] == 0) { /* an empty value resets: no stamp file */
                        free(e->directory);
                        e->directory = NULL;
                        return 0;
                }
                if (value[0] != '/') {
                        h->log(h, VMSILO_LOG_ERROR,
                               "invalid value '%s' for 'stamp-directory' in [example]: expected an absolute path",
                               value);
                        return -EINVAL;
                }
                return set_string(&e->directory, value);
        }
        return -ENOENT; /* the core reports the unknown key with path:line */
}

static int example_preflight(void *state) {
        struct example *e = state;
        const struct vmsilo_host *h = e->host;

        if (!e->directory)
                return 0;
        if (access(e->directory, W_OK | X_OK) < 0) {
                int r = -errno;

                h->log(h, VMSILO_LOG_ERROR, "stamp directory '%s' is not a writable directory: %s",
                       e->directory, strerror(-r));
                return r;
        }
        return 0;
}

static int stamp_path(const struct example *e, char *buf, size_t size) {
        const struct vmsilo_host *h = e->host;
        int n = snprintf(buf, size, "%s/%s.stamp", e->directory, h->vm_name(h));

        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static int example_prepare(void *state) {
        struct example *e = state;
        const struct vmsilo_host *h = e->host;
        char path[4096], action[4096 + sizeof(UNDO_PREFIX)];
        FILE *f;
        int fd, r;

        if (!e->directory)
                return 0;
        r = stamp_path(e, path, sizeof(path));
        if (r < 0)
                return r;
        h->describe(h, "write stamp file '%s'", path);
        if (h->dry_run(h))
                return 0; /* `print`: describe, change nothing */
        /* journalled before the change: a crash between the two leaks nothing */
        snprintf(action, sizeof(action), UNDO_PREFIX "%s", path);
        r = h->push_undo(h, action);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                r = -errno;
                h->log(h, VMSILO_LOG_ERROR, "failed to create '%s': %s", path, strerror(-r));
                return r;
        }
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                return r;
        }
        fprintf(f, "vm=%s id=%u message=%s\n", h->vm_name(h), (unsigned) h->vm_id(h), e->message);
        if (fclose(f) != 0) {
                r = -errno;
                h->log(h, VMSILO_LOG_ERROR, "failed to write '%s': %s", path, strerror(-r));
                return r;
        }
        return 0;
}

static int example_contribute(void *state) {
        struct example *e = state;
        const struct vmsilo_host *h = e->host;
        char param[128];

        snprintf(param, sizeof(param), "example.message=%s", e->message);
        return h->add_kernel_param(h, param);
}

/* Runs in the process that stops the VM, or in a later `cleanup`: only `action` is known. */
static int example_undo(void *state, const char *action) {
        struct example *e = state;
        const struct vmsilo_host *h = e->host;
        const char *path;

        if (strncmp(action, UNDO_PREFIX, strlen(UNDO_PREFIX)) != 0) {
                h->log(h, VMSILO_LOG_WARNING, "unknown undo action '%s', ignoring", action);
                return 0;
        }
        path = action + strlen(UNDO_PREFIX);
        if (unlink(path) < 0 && errno != ENOENT) { /* already gone: idempotent */
                int r = -errno;

                h->log(h, VMSILO_LOG_ERROR, "failed to remove '%s': %s", path, strerror(-r));
                return r;
        }
        return 0;
}

static void example_teardown(void *state) {
        struct example *e = state;

        if (!e)
                return;
        free(e->message);
        free(e->directory);
        free(e);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "example",
        .version = "1.0.0",
        .init = example_init,
        .configure = example_configure,
        .preflight = example_preflight,
        .prepare = example_prepare,
        .contribute = example_contribute,
        .undo = example_undo,
        .teardown = example_teardown,
};
