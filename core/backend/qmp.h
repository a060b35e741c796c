/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Sends one QMP command (e.g. "system_powerdown", "quit") to the QMP socket at `path`,
 * after the capabilities handshake. 0 when QEMU answered with "return". */
int qmp_execute(const char *path, const char *command, unsigned timeout_ms);

/* Connects to the QMP socket at `path` and does the capabilities handshake. Returns the
 * connection's fd (O_CLOEXEC) or a negative errno. */
int qmp_open(const char *path, unsigned timeout_ms);

/* Sends one command, `json` (a whole line, borrowed), on a connection from qmp_open() and
 * waits for its reply: the next line whose top-level key is "return" (0) or "error" (-EIO);
 * events and anything else in between are skipped. The reply line (malloc()ed) in ret_reply
 * in both cases if it is not NULL. */
int qmp_call(int fd, const char *json, unsigned timeout_ms, char **ret_reply);

/* Connects, negotiates and sends `command` (no arguments); as qmp_call(). */
int qmp_query(const char *path, const char *command, char **ret_reply, unsigned timeout_ms);

/* The "status" member of a reply's "return" object (query-status, query-migrate) in
 * `status`; -ENOENT ("" in status) when it has none. */
int qmp_reply_status(const char *reply, char *status, size_t size);

/* One asynchronous QMP event, the fields the supervisor acts on ("" when absent). */
struct qmp_event {
        char name[64];      /* BLOCK_IO_ERROR, STOP, RESUME, ... */
        char device[64];    /* BLOCK_IO_ERROR: the drive id (or node name) */
        char action[16];    /* BLOCK_IO_ERROR: stop, report, ignore */
        char reason[128];   /* BLOCK_IO_ERROR: strerror() of the failure */
        char operation[16]; /* BLOCK_IO_ERROR: read, write */
        int nospace;        /* BLOCK_IO_ERROR: ENOSPC */
};

/* A QMP connection kept open for events (a monitor of its own, so that commands on the
 * control socket are never queued behind it). */
struct qmp_events;

struct qmp_events *qmp_events_new(const char *path);
struct qmp_events *qmp_events_free(struct qmp_events *e);
/* Connects and negotiates (blocking, at most timeout_ms); no-op when connected. */
int qmp_events_connect(struct qmp_events *e, unsigned timeout_ms);
/* The fd to poll for input, or -1. */
int qmp_events_fd(const struct qmp_events *e);
/* Reads what is there and calls `cb` for each event; -ECONNRESET once QEMU closed it. */
int qmp_events_read(struct qmp_events *e, void (*cb)(const struct qmp_event *ev, void *userdata),
                    void *userdata);
