/* SPDX-License-Identifier: MIT */
/* Internal to the sound plugin: the PipeWire probe (pipewire.c). */
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
 * Connects to the PipeWire socket `path`, lists the registry and reads the `default`
 * metadata, all within `timeout_ms`. Returns 0 and fills `ret`, or a negative errno with a
 * reason in `err` (-ETIMEDOUT: no answer in time).
 */
int pipewire_probe(const char *path, unsigned timeout_ms, struct pipewire_report *ret, char *err,
                   size_t errsz);
void pipewire_report_done(struct pipewire_report *r);

/* Connects a non-blocking AF_UNIX stream socket to `path`: the fd, or a negative errno. */
int unix_connect(const char *path);
