/* SPDX-License-Identifier: MIT */
/*
 * example: an out-of-tree vmsilo-core plugin, built only against the installed SDK
 * (`pkg-config --cflags vmsilo-plugin`). It shows every stage a real plugin goes through:
 *
 *   configure   a key table (struct vmsilo_key): the core parses message = WORD,
 *               stamp-directory = /ABS/PATH, sound = yes|no and pulse-socket = /ABS/PATH, and
 *               reports a bad value with file:line; configured() checks a cross-key rule
 *   preflight   the stamp directory exists and is writable; with sound = yes, the VMM can
 *               render the typed sound device (checks only, changes nothing)
 *   prepare     writes DIR/NAME.stamp; the removal is registered with push_undo() *before*
 *               the file is made, so stop, a failed start and `cleanup` after a crash all
 *               remove it (undo() below); `print` lists the step instead (dry run)
 *   contribute  the kernel parameter example.message=WORD, and with sound = yes a typed
 *               sound device (the backend writes it in its VMM's syntax)
 *
 * It needs a core with plugin ABI 1.1 (the key table): init() refuses an older one.
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
        char *message;                  /* keys: stored by the core, freed by teardown */
        char *directory;                /* NULL: no stamp file */
        int sound;
        char *pulse_socket;
};

/* A kernel parameter value: letters, digits, '.', '_' and '-', 1 to 64 of them. */
static int word_valid(const char *s, char *why, size_t why_size) {
        (void) why;
        (void) why_size;
        size_t n = strlen(s);

        return n > 0 && n <= 64 &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* The core parses and stores these; a bad value is reported as
 * "FILE:LINE: example: invalid value 'V' for 'KEY' in [example]: expected EXPECTED". */
static const struct vmsilo_key example_keys[] = {
        { .name = "message",
          .type = VMSILO_KEY_STRING,
          .offset = offsetof(struct example, message),
          .def = "hello",
          .validate = word_valid,
          .expected = "1 to 64 letters, digits, '.', '_' or '-'",
          .help = "the value of the guest's example.message= kernel parameter" },
        { .name = "stamp-directory",
          .type = VMSILO_KEY_PATH,
          .flags = VMSILO_KEY_EMPTY,
          .offset = offsetof(struct example, directory),
          .help = "where prepare writes NAME.stamp (empty: no stamp file)" },
        { .name = "sound",
          .type = VMSILO_KEY_BOOL,
          .offset = offsetof(struct example, sound),
          .def = "no",
          .help = "give the VM a sound device on the desktop's pulse socket" },
        { .name = "pulse-socket",
          .type = VMSILO_KEY_PATH,
          .offset = offsetof(struct example, pulse_socket),
          .help = "the desktop's pulse socket, for sound = yes" },
        { .name = NULL },
};

static int example_init(const struct vmsilo_host *host, void **ret_state) {
        struct example *e;

        if (!VMSILO_HOST_HAS(host, check_device)) {
                host->log(host, VMSILO_LOG_ERROR,
                          "needs a vmsilo-core with plugin ABI 1.1 or later (this one has 1.%u)",
                          (unsigned) host->abi_minor);
                return -EPROTONOSUPPORT;
        }
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->host = host;
        *ret_state = e;
        return 0;
}

/* Rules across keys: reported with the file and line of the key (log_at). */
static int example_configured(void *state) {
        struct example *e = state;
        const struct vmsilo_host *h = e->host;

        if (e->pulse_socket && !e->sound) {
                h->log_at(h, VMSILO_LOG_ERROR, NULL, "pulse-socket",
                          "'pulse-socket' takes effect only with 'sound = yes' in [example]");
                return -EINVAL;
        }
        if (e->sound && !e->pulse_socket) {
                h->log_at(h, VMSILO_LOG_ERROR, NULL, "sound",
                          "'sound = yes' needs 'pulse-socket' in [example]");
                return -EINVAL;
        }
        return 0;
}

/* The typed device: what it is, never how a VMM spells it. */
static struct vmsilo_device sound_device(const struct example *e) {
        return (struct vmsilo_device){
                .size = sizeof(struct vmsilo_device),
                .type = VMSILO_DEVICE_SOUND,
                .fd = -1,
                .features = VMSILO_SOUND_PLAYBACK,
                .server = e->pulse_socket, /* borrowed for the call */
        };
}

static int example_preflight(void *state) {
        struct example *e = state;
        const struct vmsilo_host *h = e->host;

        const char *missing = NULL;
        int r = 0;

        if (e->directory && access(e->directory, W_OK | X_OK) < 0)
                r = h->log_errno(h, VMSILO_LOG_ERROR, errno,
                                 "stamp directory '%s' is not a writable directory: %m",
                                 e->directory);
        if (e->sound) {
                struct vmsilo_device d = sound_device(e);

                /* a capability by name: the backend knows its VMM's flags */
                if (h->vmm_can(h, "sound pulse backend", &missing) == 0)
                        r = h->log_errno(h, VMSILO_LOG_ERROR, EOPNOTSUPP,
                                         "%s; set 'sound = no' in [example]", missing);
                else if (h->check_device(h, &d) < 0) /* logs what the backend lacks */
                        r = -EOPNOTSUPP;
        }
        return r;
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
        if (fd < 0)
                return h->log_errno(h, VMSILO_LOG_ERROR, errno, "failed to create '%s': %m", path);
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                return r;
        }
        fprintf(f, "vm=%s id=%u message=%s\n", h->vm_name(h), (unsigned) h->vm_id(h), e->message);
        if (fclose(f) != 0)
                return h->log_errno(h, VMSILO_LOG_ERROR, errno, "failed to write '%s': %m", path);
        return 0;
}

static int example_contribute(void *state) {
        struct example *e = state;
        const struct vmsilo_host *h = e->host;
        char param[128];
        int r;

        snprintf(param, sizeof(param), "example.message=%s", e->message);
        r = h->add_kernel_param(h, param);
        if (r >= 0 && e->sound) {
                struct vmsilo_device d = sound_device(e);

                r = h->add_device(h, &d); /* copied: `d` may go */
        }
        return r;
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
        if (unlink(path) < 0 && errno != ENOENT) /* already gone: idempotent */
                return h->log_errno(h, VMSILO_LOG_ERROR, errno, "failed to remove '%s': %m", path);
        return 0;
}

static void example_teardown(void *state) {
        struct example *e = state;

        if (!e)
                return;
        vmsilo_keys_free(example_keys, e, 0);
        free(e);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "example",
        .version = "1.1.0",
        .init = example_init,
        .preflight = example_preflight,
        .prepare = example_prepare,
        .contribute = example_contribute,
        .undo = example_undo,
        .teardown = example_teardown,
        .keys = example_keys,
        .key_size = sizeof(struct vmsilo_key),
        .configured = example_configured,
};
