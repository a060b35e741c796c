/* SPDX-License-Identifier: MIT */
#pragma once

#include <poll.h>
#include <stddef.h>

/*
 * The supervisor's agent multiplexer, for VMMs whose agent channel is a virtio-console port
 * (one host connection): it holds the one connection to the guest agent and serves any
 * number of `run` clients on agent.sock, each with its own sessions, by rewriting session
 * ids. Frames from the guest are bounded and checked (the guest is untrusted). With protocol
 * 2 a slow client only stalls its own sessions (the guest gets their credit back only as the
 * client drains them); a client that breaks the protocol or exceeds a bound is dropped.
 * Memory stays bounded whatever the guest and the clients send.
 */
struct agent_mux;

struct agent_mux *agent_mux_new(const char *guest_path, const char *client_path);
struct agent_mux *agent_mux_free(struct agent_mux *m);

/* Fills pollfds (at most `max`); returns how many. */
int agent_mux_fill_pollfds(struct agent_mux *m, struct pollfd *fds, int max);
void agent_mux_dispatch(struct agent_mux *m, const struct pollfd *fds, int n);
/* Connects to the guest side if not connected (the VMM may not listen yet). */
void agent_mux_try_connect(struct agent_mux *m);
/* Queues a POWEROFF frame for the guest agent: 0, or -ENOTCONN when no agent said HELLO
 * yet (a booting guest), -ENOBUFS when the queue to the guest is full. */
int agent_mux_request_poweroff(struct agent_mux *m);
/* Bytes the mux holds in buffers now (tests, fuzzing: memory must stay bounded). */
size_t agent_mux_memory(const struct agent_mux *m);
