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
enum security_context { SC_AUTO, SC_YES, SC_NO };
/* How the compositor socket reaches crosvm. */
enum wayland_flag { WL_UNSUPPORTED = -1, WL_UNKNOWN = 0, WL_SECURITY_CONTEXT = 1, WL_SOCK = 2 };

#define DEFAULT_RENDER_SERVER "/usr/libexec/virgl_render_server"
#define DEFAULT_COLOR "gray"
#define DEFAULT_TIMEOUT_MS 2000

struct gpu {
        const struct vmsilo_host *host;
        int mode;
        int wayland, opengl, vulkan; /* -1: not set */
        int security_context;
        unsigned check_timeout_ms;
        char *render_server; /* NULL: DEFAULT_RENDER_SERVER under the host's root */
        char *color;
        char *app_id;         /* NULL: vmsilo:NAME:COLOR */
        char *wayland_socket; /* NULL: $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY */
};

struct features {
        int wayland, opengl, vulkan;
};

static int gpu_init(const struct vmsilo_host *host, void **ret_state) {
        struct gpu *g = calloc(1, sizeof(*g));

        if (!g)
                return -ENOMEM;
        g->host = host;
        g->mode = GPU_OFF;
        g->wayland = g->opengl = g->vulkan = -1;
        g->security_context = SC_AUTO;
        g->check_timeout_ms = DEFAULT_TIMEOUT_MS;
        g->color = strdup(DEFAULT_COLOR);
        if (!g->color) {
                free(g);
                return -ENOMEM;
        }
        *ret_state = g;
        return 0;
}

static int parse_bool(const char *v) {
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

static int set_string(char **slot, const char *value) {
        char *s = strdup(value);

        if (!s)
                return -ENOMEM;
        free(*slot);
        *slot = s;
        return 0;
}

/* A color name (letters) or #RGB, #RRGGBB, #RRGGBBAA: it ends up in the app id. */
static int color_valid(const char *v) {
        size_t n = strlen(v);

        if (v[0] == '#') {
                if (n != 4 && n != 7 && n != 9)
                        return 0;
                return strspn(v + 1, "0123456789abcdefABCDEF") == n - 1;
        }
        return n > 0 && n <= 32 &&
               strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
}

/* Printable ASCII without quotes or backslashes, so crosvm's key=value parser takes it. */
static int app_id_valid(const char *v) {
        size_t n = strlen(v);

        if (n == 0 || n > 255)
                return 0;
        for (const char *c = v; *c; c++)
                if (*c <= ' ' || *c > '~' || *c == '"' || *c == '\'' || *c == '\\')
                        return 0;
        return 1;
}

static int bad(struct gpu *g, const char *key, const char *value, const char *expected) {
        g->host->log(g->host, VMSILO_LOG_ERROR, "invalid value '%s' for '%s' in [gpu]: expected %s",
                     value, key, expected);
        return -EINVAL;
}

static int configure_enum(struct gpu *g, const char *key, const char *value) {
        if (strcmp(key, "mode") == 0) {
                if (strcmp(value, "off") == 0)
                        g->mode = GPU_OFF;
                else if (strcmp(value, "on") == 0)
                        g->mode = GPU_ON;
                else if (strcmp(value, "custom") == 0)
                        g->mode = GPU_CUSTOM;
                else
                        return bad(g, key, value, "off, on or custom");
                return 0;
        }
        if (strcmp(value, "auto") == 0)
                g->security_context = SC_AUTO;
        else if (parse_bool(value) >= 0)
                g->security_context = parse_bool(value) ? SC_YES : SC_NO;
        else
                return bad(g, key, value, "auto, yes or no");
        return 0;
}

static int configure_path(struct gpu *g, const char *key, const char *value, char **slot) {
        if (value[0] != '/')
                return bad(g, key, value, "an absolute path");
        return set_string(slot, value);
}

static int gpu_configure(void *state, const char *instance, const char *key, const char *value) {
        struct gpu *g = state;
        int *flag = NULL;

        if (instance) {
                g->host->log(g->host, VMSILO_LOG_ERROR, "section [gpu] takes no name, found '%s'",
                             instance);
                return -EINVAL;
        }
        if (strcmp(key, "mode") == 0 || strcmp(key, "security-context") == 0)
                return configure_enum(g, key, value);
        if (strcmp(key, "wayland") == 0)
                flag = &g->wayland;
        else if (strcmp(key, "opengl") == 0)
                flag = &g->opengl;
        else if (strcmp(key, "vulkan") == 0)
                flag = &g->vulkan;
        if (flag) {
                if (parse_bool(value) < 0)
                        return bad(g, key, value, "yes or no");
                *flag = parse_bool(value);
                return 0;
        }
        if (strcmp(key, "render-server") == 0)
                return configure_path(g, key, value, &g->render_server);
        if (strcmp(key, "wayland-socket") == 0)
                return configure_path(g, key, value, &g->wayland_socket);
        if (strcmp(key, "color") == 0) {
                if (!color_valid(value))
                        return bad(g, key, value,
                                   "a color name (letters only) or #RGB, #RRGGBB or #RRGGBBAA");
                return set_string(&g->color, value);
        }
        if (strcmp(key, "app-id") == 0) {
                if (!app_id_valid(value))
                        return bad(
                                g, key, value,
                                "1 to 255 printable characters without spaces, quotes or backslashes");
                return set_string(&g->app_id, value);
        }
        if (strcmp(key, "check-timeout") == 0) {
                char *end;
                unsigned long ms;

                errno = 0;
                ms = strtoul(value, &end, 10);
                if (errno || end == value || *end || value[0] == '-' || ms < 10 || ms > 60000)
                        return bad(g, key, value, "milliseconds from 10 to 60000");
                g->check_timeout_ms = (unsigned) ms;
                return 0;
        }
        return -ENOENT;
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

static int has(const struct gpu *g, const char *flag) {
        return g->host->vmm_has(g->host, flag) > 0;
}

/* Which flag carries the compositor socket; logs why there is none when `quiet` is 0. */
static int wayland_flag(const struct gpu *g, int quiet) {
        const struct vmsilo_host *h = g->host;
        int sc = has(g, "--wayland-security-context"), sock = has(g, "--wayland-sock");

        if (g->security_context != SC_NO && sc)
                return WL_SECURITY_CONTEXT;
        if (g->security_context == SC_YES) {
                if (!quiet)
                        h->log(h, VMSILO_LOG_ERROR,
                               "crosvm has no '--wayland-security-context' ('security-context = yes' in [gpu]); install vmsilo's patched crosvm or set 'security-context = auto'");
                return WL_UNSUPPORTED;
        }
        if (sock)
                return WL_SOCK;
        if (!quiet)
                h->log(h, VMSILO_LOG_ERROR,
                       "crosvm has neither '--wayland-security-context' nor '--wayland-sock', so Wayland cannot be forwarded; install a crosvm built with Wayland support or set 'wayland = no' with 'mode = custom'");
        return WL_UNSUPPORTED;
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

static int check_compositor(const struct gpu *g, int flag) {
        const struct vmsilo_host *h = g->host;
        char *path = wayland_socket(g), err[256] = "";
        struct wayland_probe p;
        int r;

        if (!path) {
                h->log(h, VMSILO_LOG_ERROR,
                       "no Wayland socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'wayland-socket' in [gpu] to the compositor socket of the VM's user");
                return -ENOENT;
        }
        if (flag == WL_SOCK && strchr(path, ',')) {
                h->log(h, VMSILO_LOG_ERROR,
                       "the Wayland socket '%s' contains ',', which crosvm's '--wayland-sock' cannot take; use a path without ','",
                       path);
                free(path);
                return -EINVAL;
        }
        r = wayland_probe(path, g->check_timeout_ms, &p, err, sizeof(err));
        if (r == -ETIMEDOUT)
                h->log(h, VMSILO_LOG_ERROR,
                       "the Wayland compositor at '%s' did not answer a round trip within %u ms",
                       path, g->check_timeout_ms);
        else if (r < 0)
                h->log(h, VMSILO_LOG_ERROR,
                       "the Wayland compositor socket '%s' does not accept connections: %s", path,
                       err);
        else if (flag == WL_SECURITY_CONTEXT && !p.has_security_context) {
                h->log(h, VMSILO_LOG_ERROR,
                       "the Wayland compositor at '%s' has no 'wp_security_context_manager_v1', which crosvm's '--wayland-security-context' needs; use a compositor with security-context-v1 or set 'security-context = no' in [gpu]",
                       path);
                r = -EPROTONOSUPPORT;
        } else
                h->log(h, VMSILO_LOG_DEBUG,
                       "the Wayland compositor at '%s' answered with %u globals", path, p.globals);
        free(path);
        return r;
}

static int preflight_qemu(const struct gpu *g, struct features f) {
        const struct vmsilo_host *h = g->host;
        int failures = 0;

        if (f.wayland) {
                h->log(h, VMSILO_LOG_ERROR,
                       "the qemu backend has no Wayland cross-domain device; use crosvm, or set 'mode = custom' and 'wayland = no'");
                failures++;
        }
        if (f.vulkan) {
                h->log(h, VMSILO_LOG_ERROR,
                       "the qemu backend has no Vulkan (venus) context; use crosvm, or set 'vulkan = no'");
                failures++;
        }
        if (f.opengl) {
                if (!has(g, "virtio-gpu-gl-pci")) {
                        h->log(h, VMSILO_LOG_ERROR,
                               "qemu has no device 'virtio-gpu-gl-pci' for opengl; install QEMU's OpenGL display modules (Debian: qemu-system-gui)");
                        failures++;
                }
                if (check_render_node(g, "opengl") < 0)
                        failures++;
        }
        return failures;
}

static int preflight_crosvm(const struct gpu *g, struct features f) {
        const struct vmsilo_host *h = g->host;
        /* a crosvm that cannot be probed is the core's error: check only the rest */
        int probed = h->vmm_has(h, "--gpu"), failures = 0, flag = WL_UNKNOWN;

        if (probed == 0) {
                h->log(h, VMSILO_LOG_ERROR,
                       "crosvm has no '--gpu' (built without its 'gpu' feature); install a crosvm with GPU support or set 'mode = off' in [gpu]");
                failures++;
        }
        if (f.wayland) {
                if (probed >= 0)
                        flag = wayland_flag(g, 0);
                if (flag == WL_UNSUPPORTED)
                        failures++;
                else if (flag == WL_SOCK && g->security_context == SC_AUTO)
                        h->log(h, VMSILO_LOG_NOTICE,
                               "crosvm has no '--wayland-security-context': the windows of this VM reach the compositor without a security context or an app id");
                if (flag != WL_UNSUPPORTED && check_compositor(g, flag) < 0)
                        failures++;
        }
        if (f.opengl && check_render_node(g, "opengl") < 0)
                failures++;
        if (f.vulkan) {
                if (!f.opengl && check_render_node(g, "vulkan") < 0)
                        failures++;
                if (probed >= 0 && !has(g, "--gpu-render-server")) {
                        h->log(h, VMSILO_LOG_ERROR,
                               "crosvm has no '--gpu-render-server', which vulkan needs; install a crosvm with it or set 'vulkan = no'");
                        failures++;
                }
                if (check_render_server(g) < 0)
                        failures++;
        }
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
        if (h->vmm(h) == VMSILO_VMM_QEMU)
                failures += preflight_qemu(g, f);
        else
                failures += preflight_crosvm(g, f);
        return failures ? -EINVAL : 0;
}

/* A string value for crosvm's key=value parser, in double quotes when it needs them. */
static char *kv_quote(const char *v) {
        size_t n = 3;
        char *q, *o;

        if (*v && !strpbrk(v, ",[]\"' \t\\"))
                return strdup(v);
        for (const char *c = v; *c; c++)
                n += (*c == '"' || *c == '\\') ? 2 : 1;
        q = o = malloc(n);
        if (!q)
                return NULL;
        *o++ = '"';
        for (const char *c = v; *c; c++) {
                if (*c == '"' || *c == '\\')
                        *o++ = '\\';
                *o++ = *c;
        }
        *o++ = '"';
        *o = 0;
        return q;
}

static int add_argf(const struct gpu *g, int vmm, const char *fmt, ...) VMSILO_PRINTF(3, 4);
static int add_argf(const struct gpu *g, int vmm, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        r = g->host->add_vmm_arg(g->host, vmm, s);
        free(s);
        return r;
}

static int contribute_wayland(const struct gpu *g) {
        char *path = wayland_socket(g), *qpath = path ? kv_quote(path) : NULL;
        char *id = app_id(g), *qid = id ? kv_quote(id) : NULL;
        int flag = wayland_flag(g, 0), r;

        if (!path)
                g->host->log(
                        g->host, VMSILO_LOG_ERROR,
                        "no Wayland socket: XDG_RUNTIME_DIR is not set; set 'wayland-socket' in [gpu]");
        if (!path || flag == WL_UNSUPPORTED)
                r = -EOPNOTSUPP;
        else if (!qpath || !qid)
                r = -ENOMEM;
        else if (flag == WL_SECURITY_CONTEXT)
                r = add_argf(g, VMSILO_VMM_CROSVM,
                             "--wayland-security-context=wayland_socket=%s,app_id=%s", qpath, qid);
        else
                r = add_argf(g, VMSILO_VMM_CROSVM, "--wayland-sock=%s", path);
        free(path);
        free(qpath);
        free(id);
        free(qid);
        return r;
}

static int contribute_crosvm(const struct gpu *g, struct features f) {
        struct vmsilo_device d = { .size = sizeof(d), .type = VMSILO_DEVICE_GPU, .fd = -1 };
        char types[64];
        int r;

        snprintf(types, sizeof(types), "context-types=%s%s%s%s%s", f.wayland ? "cross-domain" : "",
                 f.wayland && f.opengl ? ":" : "", f.opengl ? "virgl2" : "",
                 (f.wayland || f.opengl) && f.vulkan ? ":" : "", f.vulkan ? "venus" : "");
        d.options = types;
        r = g->host->add_device(g->host, &d);
        if (r >= 0 && f.vulkan) {
                char *q = kv_quote(g->render_server ? g->render_server : DEFAULT_RENDER_SERVER);

                r = q ? add_argf(g, VMSILO_VMM_CROSVM, "--gpu-render-server=path=%s", q) : -ENOMEM;
                free(q);
        }
        if (r >= 0 && f.wayland)
                r = contribute_wayland(g);
        return r;
}

/* QEMU: virgl (OpenGL) on a headless EGL display; Wayland and Vulkan were refused in preflight. */
static int contribute_qemu(const struct gpu *g, struct features f) {
        const struct vmsilo_host *h = g->host;
        char *node;
        int r;

        if (f.wayland || f.vulkan) {
                h->log(h, VMSILO_LOG_ERROR, "the qemu backend has no %s; use crosvm",
                       f.wayland ? "Wayland cross-domain device" : "Vulkan (venus) context");
                return -EOPNOTSUPP;
        }
        node = render_node(g);
        if (!node) {
                h->log(h, VMSILO_LOG_ERROR,
                       "opengl needs a GPU render node, but there is no /dev/dri/renderD* device");
                return -ENODEV;
        }
        r = h->add_vmm_arg(h, VMSILO_VMM_QEMU, "-device");
        if (r >= 0)
                r = h->add_vmm_arg(h, VMSILO_VMM_QEMU, "virtio-gpu-gl-pci");
        if (r >= 0)
                r = h->add_vmm_arg(h, VMSILO_VMM_QEMU, "-display");
        if (r >= 0)
                r = add_argf(g, VMSILO_VMM_QEMU, "egl-headless,rendernode=%s", node);
        free(node);
        return r;
}

static int gpu_contribute(void *state) {
        struct gpu *g = state;

        if (g->mode == GPU_OFF)
                return 0;
        if (g->host->vmm(g->host) == VMSILO_VMM_QEMU)
                return contribute_qemu(g, features_of(g));
        return contribute_crosvm(g, features_of(g));
}

static void gpu_teardown(void *state) {
        struct gpu *g = state;

        if (!g)
                return;
        free(g->render_server);
        free(g->color);
        free(g->app_id);
        free(g->wayland_socket);
        free(g);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "gpu",
        .version = "0.1.0",
        .init = gpu_init,
        .configure = gpu_configure,
        .preflight = gpu_preflight,
        .contribute = gpu_contribute,
        .teardown = gpu_teardown,
};
