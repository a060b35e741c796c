/* SPDX-License-Identifier: MIT */
/*
 * A bounded PipeWire probe: the socket is connected by hand (so the check does not depend on
 * this process's XDG_RUNTIME_DIR or PIPEWIRE_REMOTE), handed to pw_context_connect_fd(), and
 * the loop is iterated with what is left of the timeout, so a server that accepts but never
 * answers cannot hang a preflight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pipewire/pipewire.h>
#include <pipewire/extensions/metadata.h>
#include <pipewire/impl-module.h>
#include <spa/utils/result.h>
/* spa's inline JSON helpers have an unused parameter */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <spa/utils/json.h>
#pragma GCC diagnostic pop

#include <vmsilo/plugin.h>

#include "sound.h"

struct node {
        char *name;
        char *media_class;
};

struct probe {
        struct pw_core *core;
        struct pw_registry *registry;
        struct pw_metadata *metadata;
        struct spa_hook core_listener, registry_listener, metadata_listener;
        int wanted_seq, synced, error;
        char message[128];
        struct node *nodes;
        size_t n_nodes;
        struct pipewire_report *report;
};

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup0(const char *s) {
        return s ? strdup(s) : NULL;
}

/* default.audio.sink is JSON: { "name": "alsa_output.pci-0000_00_1f.3.analog-stereo" } */
static char *json_name(const char *value) {
        struct spa_json it[2];
        char key[64], name[512];

        if (!value)
                return NULL;
        spa_json_init(&it[0], value, strlen(value));
        if (spa_json_enter_object(&it[0], &it[1]) <= 0)
                return NULL;
        while (spa_json_get_string(&it[1], key, sizeof(key)) > 0) {
                if (strcmp(key, "name") == 0)
                        return spa_json_get_string(&it[1], name, sizeof(name)) > 0 ? strdup(name)
                                                                                   : NULL;
                if (spa_json_next(&it[1], NULL) <= 0)
                        break;
        }
        return NULL;
}

static int on_property(void *data, uint32_t subject, const char *key, const char *type,
                       const char *value) {
        struct probe *p = data;
        char **slot = NULL;

        (void) type;
        if (subject != PW_ID_CORE || !key)
                return 0;
        if (strcmp(key, "default.audio.sink") == 0)
                slot = &p->report->default_sink;
        else if (strcmp(key, "default.audio.source") == 0)
                slot = &p->report->default_source;
        if (slot) {
                free(*slot);
                *slot = json_name(value);
        }
        return 0;
}

static const struct pw_metadata_events metadata_events = {
        PW_VERSION_METADATA_EVENTS,
        .property = on_property,
};

static void on_global(void *data, uint32_t id, uint32_t permissions, const char *type,
                      uint32_t version, const struct spa_dict *props) {
        struct probe *p = data;

        (void) permissions;
        (void) version;
        if (strcmp(type, PW_TYPE_INTERFACE_Node) == 0 && props) {
                struct node *n = realloc(p->nodes, (p->n_nodes + 1) * sizeof(*n));

                if (!n)
                        return;
                p->nodes = n;
                n[p->n_nodes].name = dup0(spa_dict_lookup(props, PW_KEY_NODE_NAME));
                n[p->n_nodes].media_class = dup0(spa_dict_lookup(props, PW_KEY_MEDIA_CLASS));
                p->n_nodes++;
                return;
        }
        if (strcmp(type, PW_TYPE_INTERFACE_Metadata) == 0 && props && !p->metadata) {
                const char *name = spa_dict_lookup(props, PW_KEY_METADATA_NAME);

                if (!name || strcmp(name, "default") != 0)
                        return;
                p->metadata = pw_registry_bind(p->registry, id, PW_TYPE_INTERFACE_Metadata,
                                               PW_VERSION_METADATA, 0);
                if (p->metadata)
                        pw_metadata_add_listener(p->metadata, &p->metadata_listener,
                                                 &metadata_events, p);
        }
}

static const struct pw_registry_events registry_events = {
        PW_VERSION_REGISTRY_EVENTS,
        .global = on_global,
};

static void on_done(void *data, uint32_t id, int seq) {
        struct probe *p = data;

        if (id == PW_ID_CORE && seq == p->wanted_seq)
                p->synced = 1;
}

static void on_error(void *data, uint32_t id, int seq, int res, const char *message) {
        struct probe *p = data;

        (void) seq;
        if (id != PW_ID_CORE)
                return;
        p->error = res < 0 ? res : -EIO;
        snprintf(p->message, sizeof(p->message), "%s", message ? message : spa_strerror(res));
}

static const struct pw_core_events core_events = {
        PW_VERSION_CORE_EVENTS,
        .done = on_done,
        .error = on_error,
};

/* One round trip: sync, then iterate until its done, an error, or the deadline. */
static int round_trip(struct pw_loop *loop, struct probe *p, long long deadline) {
        p->synced = 0;
        p->wanted_seq = pw_core_sync(p->core, PW_ID_CORE, 0);
        while (!p->synced && !p->error) {
                long long left = deadline - now_ms();
                int r;

                if (left <= 0)
                        return -ETIMEDOUT;
                r = pw_loop_iterate(loop, (int) left);
                if (r < 0 && r != -EINTR) {
                        p->error = r;
                        snprintf(p->message, sizeof(p->message), "%s", spa_strerror(r));
                }
        }
        return p->error;
}

static int node_is(const struct probe *p, const char *name, const char *const *classes) {
        for (size_t i = 0; name && i < p->n_nodes; i++) {
                if (!p->nodes[i].name || strcmp(p->nodes[i].name, name) != 0 ||
                    !p->nodes[i].media_class)
                        continue;
                for (const char *const *c = classes; *c; c++)
                        if (strncmp(p->nodes[i].media_class, *c, strlen(*c)) == 0)
                                return 1;
        }
        return 0;
}

static int run_probe(struct pw_loop *loop, struct probe *p, long long deadline) {
        static const char *const sinks[] = { "Audio/Sink", NULL };
        static const char *const sources[] = { "Audio/Source", "Audio/Duplex", NULL };
        int r;

        pw_core_add_listener(p->core, &p->core_listener, &core_events, p);
        p->registry = pw_core_get_registry(p->core, PW_VERSION_REGISTRY, 0);
        if (!p->registry)
                return -ENOMEM;
        pw_registry_add_listener(p->registry, &p->registry_listener, &registry_events, p);
        r = round_trip(loop, p, deadline); /* every global */
        if (r == 0 && p->metadata)
                r = round_trip(loop, p, deadline); /* the metadata's properties */
        if (r < 0)
                return r;
        p->report->has_metadata = p->metadata != NULL;
        p->report->nodes = (unsigned) p->n_nodes;
        p->report->sink_exists = node_is(p, p->report->default_sink, sinks);
        p->report->source_exists = node_is(p, p->report->default_source, sources);
        return 0;
}

static void probe_done(struct probe *p) {
        if (p->metadata)
                pw_proxy_destroy((struct pw_proxy *) p->metadata);
        if (p->registry)
                pw_proxy_destroy((struct pw_proxy *) p->registry);
        if (p->core)
                pw_core_disconnect(p->core);
        for (size_t i = 0; i < p->n_nodes; i++) {
                free(p->nodes[i].name);
                free(p->nodes[i].media_class);
        }
        free(p->nodes);
}

static int connect_and_probe(int fd, long long deadline, struct pipewire_report *report, char *err,
                             size_t errsz) {
        struct probe p = { .report = report };
        struct pw_context *context = NULL;
        struct pw_loop *loop;
        int r;

        loop = pw_loop_new(NULL);
        /* no configuration file: a probe needs only the protocol and the metadata marshaller */
        if (loop)
                context = pw_context_new(loop,
                                         pw_properties_new(PW_KEY_CONFIG_NAME, "null",
                                                           PW_KEY_APP_NAME, "vmsilo-core check",
                                                           NULL),
                                         0);
        if (!context ||
            !pw_context_load_module(context, "libpipewire-module-protocol-native", NULL, NULL) ||
            !pw_context_load_module(context, "libpipewire-module-metadata", NULL, NULL)) {
                snprintf(err, errsz, "cannot set up a PipeWire client: %s", strerror(errno));
                r = errno ? -errno : -ENOMEM;
                close(fd);
                goto out;
        }
        p.core = pw_context_connect_fd(context, fd, NULL, 0); /* owns fd from here on */
        if (!p.core) {
                r = errno ? -errno : -EIO;
                snprintf(err, errsz, "%s", strerror(-r));
                goto out;
        }
        pw_loop_enter(loop);
        r = run_probe(loop, &p, deadline);
        pw_loop_leave(loop);
        if (r == -ETIMEDOUT)
                snprintf(err, errsz, "no answer");
        else if (r < 0)
                snprintf(err, errsz, "%s", p.message[0] ? p.message : strerror(-r));
out:
        probe_done(&p);
        if (context)
                pw_context_destroy(context);
        if (loop)
                pw_loop_destroy(loop);
        return r;
}

/* Consumes `fd`, a socket connected to the server. `ret` is filled as far as the probe got;
 * the caller frees it with pipewire_report_done() either way. */
static int pipewire_probe(int fd, unsigned timeout_ms, struct pipewire_report *ret, char *err,
                          size_t errsz) {
        long long deadline = now_ms() + timeout_ms;
        int r;

        pw_init(NULL, NULL);
        if (!getenv("PIPEWIRE_DEBUG"))
                pw_log_set_level(SPA_LOG_LEVEL_NONE);
        r = connect_and_probe(fd, deadline, ret, err, errsz);
        pw_deinit();
        return r;
}

VMSILO_EXPORT const struct sound_pipewire sound_pipewire = { .probe = pipewire_probe };
