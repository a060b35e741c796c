/* SPDX-License-Identifier: MIT */
/* Internal to the sound plugin: the PipeWire probe (companion/pipewire.c). */
#pragma once

#include <stddef.h>

/* What the PipeWire server answered. Strings are malloc()ed; pipewire_report_done() frees. */
struct pipewire_report {
        char *default_sink;   /* node name from the `default` metadata, or NULL */
        char *default_source; /* the same for default.audio.source */
        int has_metadata;     /* the `default` metadata object exists */
        int sink_exists;      /* a node of that name with media.class Audio/Sink* */
        int source_exists; /* a node of that name with media.class Audio/Source* or Audio/Duplex */
        unsigned nodes;    /* nodes the registry announced */
};

/*
 * The companion sound/pipewire.so (companion/pipewire.c, the plugin's only user of
 * libpipewire), loaded by the preflight of a VM with sound through PipeWire:
 * h->companion(h, SOUND_PIPEWIRE_FILE, SOUND_PIPEWIRE_SYMBOL).
 */
#define SOUND_PIPEWIRE_FILE "pipewire.so"
#define SOUND_PIPEWIRE_SYMBOL "sound_pipewire"
struct sound_pipewire {
        /* Lists the registry and reads the `default` metadata of the server at `fd` (a
         * connected socket, consumed), all within `timeout_ms`. Returns 0, or a negative errno
         * with a reason in `err` (-ETIMEDOUT: no answer in time); `ret` is filled as far as
         * the probe got, and freed with pipewire_report_done() either way. */
        int (*probe)(int fd, unsigned timeout_ms, struct pipewire_report *ret, char *err,
                     size_t errsz);
};

/* sound.c */
void pipewire_report_done(struct pipewire_report *r);
/* Connects a non-blocking AF_UNIX stream socket to `path`: the fd, or a negative errno. */
int unix_connect(const char *path);
