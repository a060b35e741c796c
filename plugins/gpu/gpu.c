/* SPDX-License-Identifier: MIT */
/*
 * gpu: vmsilo's virtio-gpu. Wayland forwarding through the cross-domain context (with a
 * per-VM security context and app id on vmsilo's patched crosvm, the plain compositor socket
 * on upstream crosvm), OpenGL through virgl2, Vulkan through venus and the virgl render
 * server. See gpu.md.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmsilo/plugin.h>

#include "gpu.h"

enum gpu_mode { GPU_OFF, GPU_ON, GPU_CUSTOM };
/* security-context: VMSILO_KEY_AUTO stores auto as -1 */
enum security_context { SC_AUTO = -1, SC_NO = 0, SC_YES = 1 };

#define DEFAULT_RENDER_SERVER "/usr/libexec/virgl_render_server"

struct gpu {
        const struct vmsilo_host *host;
        int mode;
        int wayland, opengl, vulkan; /* -1: not set */
        int security_context;
        unsigned long long check_timeout_ms;
        char *render_server; /* NULL: DEFAULT_RENDER_SERVER under the host's root */
        char *color;
        char *app_id;         /* NULL: vmsilo:NAME:COLOR */
        char *wayland_socket; /* NULL: $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY */
};

struct features {
        int wayland, opengl, vulkan;
};

/* A color name (letters) or #RGB, #RRGGBB, #RRGGBBAA: it ends up in the app id. */
static int color_valid(const char *v, char *why, size_t why_size) {
        (void) why;
        (void) why_size;
        size_t n = strlen(v);

        if (v[0] == '#') {
                if (n != 4 && n != 7 && n != 9)
                        return 0;
                return strspn(v + 1, "0123456789abcdefABCDEF") == n - 1;
        }
        return n > 0 && n <= 32 &&
               strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
}

/* Printable ASCII without blanks, quotes or backslashes: an app id any VMM can carry. */
static int app_id_valid(const char *v, char *why, size_t why_size) {
        (void) why;
        (void) why_size;
        size_t n = strlen(v);

        if (n == 0 || n > 255)
                return 0;
        for (const char *c = v; *c; c++)
                if (*c <= ' ' || *c > '~' || *c == '"' || *c == '\'' || *c == '\\')
                        return 0;
        return 1;
}

static const char *const modes[] = { "off", "on", "custom", NULL };

#define FIELD(f) offsetof(struct gpu, f)
static const struct vmsilo_key gpu_keys[] = {
        { .name = "mode",
          .type = VMSILO_KEY_ENUM,
          .offset = FIELD(mode),
          .def = "off",
          .values = modes,
          .expected = "off, on or custom",
          .help = "off; on: Wayland and OpenGL; custom: the three keys below" },
        { .name = "wayland",
          .type = VMSILO_KEY_BOOL,
          .offset = FIELD(wayland),
          .help = "custom only: forward Wayland (cross-domain context)" },
        { .name = "opengl",
          .type = VMSILO_KEY_BOOL,
          .offset = FIELD(opengl),
          .help = "custom only: OpenGL (virgl)" },
        { .name = "vulkan",
          .type = VMSILO_KEY_BOOL,
          .offset = FIELD(vulkan),
          .help = "custom only: Vulkan (venus and the render server)" },
        { .name = "security-context",
          .type = VMSILO_KEY_BOOL,
          .flags = VMSILO_KEY_AUTO,
          .offset = FIELD(security_context),
          .def = "auto",
          .help = "a per-VM Wayland security context: auto (when the VMM has one), yes, no" },
        { .name = "color",
          .type = VMSILO_KEY_STRING,
          .offset = FIELD(color),
          .def = "gray",
          .validate = color_valid,
          .expected = "a color name (letters only) or #RGB, #RRGGBB or #RRGGBBAA",
          .help = "the VM's color in its app id" },
        { .name = "app-id",
          .type = VMSILO_KEY_STRING,
          .offset = FIELD(app_id),
          .validate = app_id_valid,
          .expected = "1 to 255 printable characters without spaces, quotes or backslashes",
          .help = "the app id of the VM's windows (default vmsilo:NAME:COLOR)" },
        { .name = "wayland-socket",
          .type = VMSILO_KEY_PATH,
          .offset = FIELD(wayland_socket),
          .help = "the compositor socket (default $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY)" },
        { .name = "render-server",
          .type = VMSILO_KEY_PATH,
          .offset = FIELD(render_server),
          .help = "virglrenderer's render server, for vulkan" },
        { .name = "check-timeout",
          .type = VMSILO_KEY_UINT,
          .offset = FIELD(check_timeout_ms),
          .def = "2000",
          .min = 10,
          .max = 60000,
          .expected = "milliseconds from 10 to 60000",
          .help = "how long preflight waits for the compositor" },
        { .name = NULL },
};

static int gpu_init(const struct vmsilo_host *host, void **ret_state) {
        struct gpu *g = calloc(1, sizeof(*g));

        if (!g)
                return -ENOMEM;
        g->host = host;
        g->wayland = g->opengl = g->vulkan = -1;
        *ret_state = g;
        return 0;
}

/* `on` is vmsilo's `gpu = true`: Wayland and OpenGL; `custom` starts from the same. */
static struct features features_of(const struct gpu *g) {
        struct features f = { 1, 1, 0 };

        if (g->mode == GPU_CUSTOM) {
                if (g->wayland >= 0)
                        f.wayland = g->wayland;
                if (g->opengl >= 0)
                        f.opengl = g->opengl;
                if (g->vulkan >= 0)
                        f.vulkan = g->vulkan;
        }
        return f;
}

/* The compositor socket: configured, else $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY (wayland-0). */
static char *wayland_socket(const struct gpu *g) {
        const char *dir = getenv("XDG_RUNTIME_DIR"), *display = getenv("WAYLAND_DISPLAY");
        char *s = NULL;

        if (g->wayland_socket)
                return strdup(g->wayland_socket);
        if (!display || !display[0])
                display = "wayland-0";
        if (display[0] == '/')
                return strdup(display);
        if (!dir || dir[0] != '/')
                return NULL;
        if (asprintf(&s, "%s/%s", dir, display) < 0)
                return NULL;
        return s;
}

static char *app_id(const struct gpu *g) {
        char *s = NULL;

        if (g->app_id)
                return strdup(g->app_id);
        if (asprintf(&s, "vmsilo:%s:%s", g->host->vm_name(g->host), g->color) < 0)
                return NULL;
        return s;
}

/* The first /dev/dri/renderD* character device under the host's root, unprefixed. */
static char *render_node(const struct gpu *g) {
        char *dir = g->host->root_path(g->host, "/dev/dri"), *found = NULL;
        struct dirent *e;
        DIR *d;

        if (!dir)
                return NULL;
        d = opendir(dir);
        while (d && !found && (e = readdir(d))) {
                char *full = NULL;
                struct stat st;

                if (strncmp(e->d_name, "renderD", 7) != 0)
                        continue;
                if (asprintf(&full, "%s/%s", dir, e->d_name) < 0)
                        break;
                if (stat(full, &st) == 0 && S_ISCHR(st.st_mode) &&
                    asprintf(&found, "/dev/dri/%s", e->d_name) < 0)
                        found = NULL;
                free(full);
        }
        if (d)
                closedir(d);
        free(dir);
        return found;
}

static int check_render_node(const struct gpu *g, const char *feature) {
        char *node = render_node(g);

        if (node) {
                free(node);
                return 0;
        }
        g->host->log(
                g->host, VMSILO_LOG_ERROR,
                "%s needs a GPU render node, but there is no /dev/dri/renderD* device; load the GPU's DRM driver or set '%s = no' with 'mode = custom'",
                feature, strcmp(feature, "opengl") == 0 ? "opengl" : "vulkan");
        return -ENODEV;
}

static int check_render_server(const struct gpu *g) {
        const struct vmsilo_host *h = g->host;
        char *path = g->render_server ? strdup(g->render_server)
                                      : h->root_path(h, DEFAULT_RENDER_SERVER);
        int r = 0;

        if (!path)
                return -ENOMEM;
        if (access(path, X_OK) < 0) {
                r = -errno;
                h->log(h, VMSILO_LOG_ERROR,
                       "vulkan needs the virgl render server, but '%s' is not executable: %s; install virglrenderer's render server (Debian: virgl-server) or set 'render-server' in [gpu]",
                       g->render_server ? g->render_server : DEFAULT_RENDER_SERVER, strerror(-r));
        }
        free(path);
        return r;
}

/* Whether the VMM forwards Wayland through a security context: 1, 0, or -1 when it cannot
 * forward Wayland at all (said, with what to do, unless `quiet`). */
static int use_security_context(const struct gpu *g, int quiet) {
        const struct vmsilo_host *h = g->host;
        const char *missing = NULL;
        int r;

        if (g->security_context == SC_YES) {
                r = h->vmm_can(h, "gpu wayland security context", &missing);
                if (r == 0 && !quiet)
                        h->log(h, VMSILO_LOG_ERROR,
                               "%s ('security-context = yes' in [gpu]); install vmsilo's patched crosvm or set 'security-context = auto'",
                               missing);
                return r > 0 ? 1 : -1;
        }
        r = h->vmm_can(h, "gpu wayland", &missing);
        if (r == 0 && !quiet)
                h->log(h, VMSILO_LOG_ERROR,
                       "%s, so Wayland cannot be forwarded; use a crosvm built with Wayland support, or set 'wayland = no' with 'mode = custom'",
                       missing);
        if (r <= 0)
                return -1;
        if (g->security_context == SC_NO)
                return 0;
        r = h->vmm_can(h, "gpu wayland security context", &missing);
        if (r == 0 && !quiet)
                h->log(h, VMSILO_LOG_NOTICE,
                       "%s: the windows of this VM reach the compositor without a security context or an app id",
                       missing);
        return r > 0;
}

static int check_compositor(const struct gpu *g, int security_context) {
        const struct vmsilo_host *h = g->host;
        char *path = wayland_socket(g), err[256] = "";
        const struct gpu_wayland *wl;
        struct wayland_probe p;
        int r;

        if (!path) {
                h->log(h, VMSILO_LOG_ERROR,
                       "no Wayland socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'wayland-socket' in [gpu] to the compositor socket of the VM's user");
                return -ENOENT;
        }
        wl = vmsilo_companion(h, GPU_WAYLAND_FILE, GPU_WAYLAND_SYMBOL);
        r = wl ? wl->probe(path, (unsigned) g->check_timeout_ms, &p, err, sizeof(err)) : -ELIBACC;
        if (!wl)
                ; /* the core said why */
        else if (r == -ETIMEDOUT)
                h->log(h, VMSILO_LOG_ERROR,
                       "the Wayland compositor at '%s' did not answer a round trip within %llu ms",
                       path, g->check_timeout_ms);
        else if (r < 0)
                h->log(h, VMSILO_LOG_ERROR,
                       "the Wayland compositor socket '%s' does not accept connections: %s", path,
                       err);
        else if (security_context && !p.has_security_context) {
                h->log(h, VMSILO_LOG_ERROR,
                       "the Wayland compositor at '%s' has no 'wp_security_context_manager_v1', which a Wayland security context needs; use a compositor with security-context-v1 or set 'security-context = no' in [gpu]",
                       path);
                r = -EPROTONOSUPPORT;
        } else
                h->log(h, VMSILO_LOG_DEBUG,
                       "the Wayland compositor at '%s' answered with %u globals", path, p.globals);
        free(path);
        return r;
}

/* Fills the typed device; its strings are malloc()ed (device_done() frees them). */
static int device_of(const struct gpu *g, struct features f, struct vmsilo_device *d) {
        *d = (struct vmsilo_device){ .size = sizeof(*d), .type = VMSILO_DEVICE_GPU, .fd = -1 };
        d->features = (f.wayland ? VMSILO_GPU_WAYLAND : 0) | (f.opengl ? VMSILO_GPU_OPENGL : 0) |
                      (f.vulkan ? VMSILO_GPU_VULKAN : 0) |
                      (g->security_context == SC_YES ? VMSILO_GPU_SECURITY_CONTEXT : 0) |
                      (g->security_context == SC_NO ? VMSILO_GPU_NO_SECURITY_CONTEXT : 0);
        d->helper = strdup(g->render_server ? g->render_server : DEFAULT_RENDER_SERVER);
        d->render_node = f.opengl ? render_node(g) : NULL;
        if (f.wayland) {
                d->server = wayland_socket(g);
                d->app_id = app_id(g);
                if (!d->server || !d->app_id)
                        return d->server ? -ENOMEM : -ENOENT;
        }
        return d->helper ? 0 : -ENOMEM;
}

static void device_done(struct vmsilo_device *d) {
        free((char *) d->helper);
        free((char *) d->render_node);
        free((char *) d->server);
        free((char *) d->app_id);
}

/* The VMM's part: every capability the features need, then the device as a whole. */
static int preflight_vmm(const struct gpu *g, struct features f) {
        const struct vmsilo_host *h = g->host;
        const char *missing = NULL;
        int probed = h->vmm_can(h, "gpu", &missing), failures = 0, sc = -1, r;
        struct vmsilo_device d;

        if (probed == 0) {
                h->log(h, VMSILO_LOG_ERROR,
                       "%s (built without its 'gpu' feature); install a crosvm with GPU support or set 'mode = off' in [gpu]",
                       missing);
                failures++;
        }
        if (f.wayland) {
                /* a VMM that cannot be probed is the core's error: check only the rest */
                if (probed >= 0)
                        sc = use_security_context(g, 0);
                if (probed >= 0 && sc < 0)
                        failures++;
                else if (check_compositor(g, sc > 0) < 0)
                        failures++;
        }
        if (f.opengl) {
                if (probed > 0 && h->vmm_can(h, "gpu opengl", &missing) == 0) {
                        h->log(h, VMSILO_LOG_ERROR,
                               "%s for opengl; install the VMM's OpenGL support (QEMU on Debian: qemu-system-gui) or set 'opengl = no'",
                               missing);
                        failures++;
                }
                if (check_render_node(g, "opengl") < 0)
                        failures++;
        }
        if (f.vulkan) {
                if (!f.opengl && check_render_node(g, "vulkan") < 0)
                        failures++;
                r = probed >= 0 ? h->vmm_can(h, "gpu vulkan", &missing) : -1;
                if (r == 0) {
                        h->log(h, VMSILO_LOG_ERROR,
                               "%s, which vulkan needs; use a crosvm with it, or set 'vulkan = no'",
                               missing);
                        failures++;
                } else if (check_render_server(g) < 0)
                        failures++;
        }
        if (failures || probed <= 0)
                return failures;
        /* what is left: rules of the device as a whole (a socket path the VMM cannot take) */
        r = device_of(g, f, &d);
        if (r >= 0 && !(f.opengl && !d.render_node) && h->check_device(h, &d) < 0)
                failures++;
        device_done(&d);
        return failures;
}

static int gpu_preflight(void *state) {
        struct gpu *g = state;
        const struct vmsilo_host *h = g->host;
        struct features f = features_of(g);
        static const char *const keys[] = { "wayland", "opengl", "vulkan" };
        const int set[] = { g->wayland, g->opengl, g->vulkan };
        int failures = 0;

        if (g->mode == GPU_OFF)
                return 0;
        for (size_t i = 0; g->mode == GPU_ON && i < 3; i++)
                if (set[i] >= 0) {
                        h->log(h, VMSILO_LOG_ERROR,
                               "'%s' in [gpu] takes effect only with 'mode = custom' ('mode = on' is wayland and opengl); set 'mode = custom' or remove it",
                               keys[i]);
                        failures++;
                }
        if (!f.wayland && !f.opengl && !f.vulkan) {
                h->log(h, VMSILO_LOG_ERROR,
                       "'mode = custom' in [gpu] with wayland, opengl and vulkan all off; enable one or set 'mode = off'");
                failures++;
        }
        failures += preflight_vmm(g, f);
        return failures ? -EINVAL : 0;
}

static int gpu_contribute(void *state) {
        struct gpu *g = state;
        const struct vmsilo_host *h = g->host;
        struct vmsilo_device d;
        int r;

        if (g->mode == GPU_OFF)
                return 0;
        r = device_of(g, features_of(g), &d);
        if (r == -ENOENT)
                h->log(h, VMSILO_LOG_ERROR,
                       "no Wayland socket: XDG_RUNTIME_DIR is not set; set 'wayland-socket' in [gpu]");
        else if (r >= 0)
                r = h->add_device(h, &d);
        device_done(&d);
        return r;
}

static void gpu_teardown(void *state) {
        struct gpu *g = state;

        if (!g)
                return;
        vmsilo_keys_free(gpu_keys, g, 0);
        free(g);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "gpu",
        .version = "0.1.0",
        .init = gpu_init,
        .preflight = gpu_preflight,
        .contribute = gpu_contribute,
        .teardown = gpu_teardown,
        .keys = gpu_keys,
        .key_size = sizeof(struct vmsilo_key),
};
