/* SPDX-License-Identifier: MIT */
/* Internal to the gpu plugin: the Wayland compositor probe (companion/wayland.c). */
#pragma once

#include <stddef.h>

/* What a round trip with the compositor found. */
struct wayland_probe {
        unsigned globals;         /* globals the registry announced */
        int has_compositor;       /* wl_compositor */
        int has_security_context; /* wp_security_context_manager_v1 */
};

/*
 * The companion gpu/wayland.so (companion/wayland.c, the plugin's only user of
 * libwayland-client), loaded by the preflight of a VM with a Wayland GPU:
 * h->companion(h, GPU_WAYLAND_FILE, GPU_WAYLAND_SYMBOL).
 */
#define GPU_WAYLAND_FILE "wayland.so"
#define GPU_WAYLAND_SYMBOL "gpu_wayland"
struct gpu_wayland {
        /* Connects to the compositor socket `path` and does one registry round trip, all
         * within `timeout_ms` (a hung compositor cannot block the caller). Returns 0 and fills
         * `ret`, or a negative errno with a reason in `err` (-ETIMEDOUT: no answer in time). */
        int (*probe)(const char *path, unsigned timeout_ms, struct wayland_probe *ret, char *err,
                     size_t errsz);
};
