/* SPDX-License-Identifier: MIT */
/*
 * sound: vmsilo's virtio-snd, playback and capture through the desktop user's PipeWire.
 * vmsilo's patched crosvm talks to PipeWire's pulse socket itself (`--virtio-snd
 * backend=pulse`); upstream crosvm has no such backend, so there a vhost-user sound backend
 * (rust-vmm's vhost-device-sound) runs as a helper; QEMU joins the pulse socket with its own
 * `pa` audiodev and an HDA codec. See sound.md.
 */
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmsilo/plugin.h>

#include "sound.h"

#define DEFAULT_BACKEND "vhost-device-sound"
#define DEFAULT_TIMEOUT_MS 2000
#define HELPER_SOCKET "sound.sock"
/* the key only vmsilo's patched crosvm lists for --virtio-snd */
#define PATCHED_PROBE "virtio-snd:pulse_socket_path"

/* How the VMM reaches the user's sound server. */
enum route { ROUTE_UNKNOWN = 0, ROUTE_PULSE = 1, ROUTE_VHOST_USER = 2, ROUTE_QEMU = 3 };

struct sound {
        const struct vmsilo_host *host;
        int playback, capture;
        unsigned check_timeout_ms;
        char *pipewire_socket; /* NULL: from the environment, as libpipewire finds it */
        char *pulse_socket;    /* NULL: $XDG_RUNTIME_DIR/pulse/native */
        char *pulse_cookie;    /* NULL: ${XDG_CONFIG_HOME:-$HOME/.config}/pulse/cookie */
        char *backend;         /* vhost-user sound backend: a path or a name in $PATH */
};

static int sound_init(const struct vmsilo_host *host, void **ret_state) {
        struct sound *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->host = host;
        s->check_timeout_ms = DEFAULT_TIMEOUT_MS;
        *ret_state = s;
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

static int bad(struct sound *s, const char *key, const char *value, const char *expected) {
        s->host->log(s->host, VMSILO_LOG_ERROR,
                     "invalid value '%s' for '%s' in [sound]: expected %s", value, key, expected);
        return -EINVAL;
}

static int set_string(char **slot, const char *value) {
        char *v = strdup(value);

        if (!v)
                return -ENOMEM;
        free(*slot);
        *slot = v;
        return 0;
}

static int configure_path(struct sound *s, const char *key, const char *value, char **slot) {
        if (value[0] != '/')
                return bad(s, key, value, "an absolute path");
        return set_string(slot, value);
}

static int sound_configure(void *state, const char *instance, const char *key, const char *value) {
        struct sound *s = state;
        int *flag = NULL;

        if (instance) {
                s->host->log(s->host, VMSILO_LOG_ERROR, "section [sound] takes no name, found '%s'",
                             instance);
                return -EINVAL;
        }
        if (strcmp(key, "playback") == 0)
                flag = &s->playback;
        else if (strcmp(key, "capture") == 0)
                flag = &s->capture;
        if (flag) {
                if (parse_bool(value) < 0)
                        return bad(s, key, value, "yes or no");
                *flag = parse_bool(value);
                return 0;
        }
        if (strcmp(key, "pipewire-socket") == 0)
                return configure_path(s, key, value, &s->pipewire_socket);
        if (strcmp(key, "pulse-socket") == 0)
                return configure_path(s, key, value, &s->pulse_socket);
        if (strcmp(key, "pulse-cookie") == 0)
                return configure_path(s, key, value, &s->pulse_cookie);
        if (strcmp(key, "vhost-user-backend") == 0) {
                if (!value[0] || (value[0] != '/' && strchr(value, '/')))
                        return bad(s, key, value,
                                   "an absolute path or a program name to look up in $PATH");
                return set_string(&s->backend, value);
        }
        if (strcmp(key, "check-timeout") == 0) {
                char *end;
                unsigned long ms;

                errno = 0;
                ms = strtoul(value, &end, 10);
                if (errno || end == value || *end || value[0] == '-' || ms < 10 || ms > 60000)
                        return bad(s, key, value, "milliseconds from 10 to 60000");
                s->check_timeout_ms = (unsigned) ms;
                return 0;
        }
        return -ENOENT;
}

static char *strdupf(const char *fmt, ...) VMSILO_PRINTF(1, 2);
static char *strdupf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

static const char *env_abs(const char *name) {
        const char *v = getenv(name);

        return v && v[0] == '/' ? v : NULL;
}

/* As libpipewire finds it: ${PIPEWIRE_RUNTIME_DIR:-$XDG_RUNTIME_DIR}/${PIPEWIRE_REMOTE:-pipewire-0}
 */
static char *pipewire_socket(const struct sound *s) {
        const char *dir = env_abs("PIPEWIRE_RUNTIME_DIR"), *remote = getenv("PIPEWIRE_REMOTE");

        if (s->pipewire_socket)
                return strdup(s->pipewire_socket);
        if (!remote || !remote[0])
                remote = "pipewire-0";
        if (remote[0] == '/')
                return strdup(remote);
        if (!dir)
                dir = env_abs("XDG_RUNTIME_DIR");
        return dir ? strdupf("%s/%s", dir, remote) : NULL;
}

static char *pulse_socket(const struct sound *s) {
        const char *dir = env_abs("XDG_RUNTIME_DIR");

        if (s->pulse_socket)
                return strdup(s->pulse_socket);
        return dir ? strdupf("%s/pulse/native", dir) : NULL;
}

static char *pulse_cookie(const struct sound *s) {
        const char *config = env_abs("XDG_CONFIG_HOME"), *home = env_abs("HOME");

        if (s->pulse_cookie)
                return strdup(s->pulse_cookie);
        if (config)
                return strdupf("%s/pulse/cookie", config);
        return home ? strdupf("%s/.config/pulse/cookie", home) : NULL;
}

/* The backend program: an absolute path as is, a name looked up in $PATH. */
static char *find_backend(const struct sound *s) {
        const char *name = s->backend ? s->backend : DEFAULT_BACKEND;
        const char *path = getenv("PATH");
        char *copy, *dir, *save = NULL, *found = NULL;

        if (name[0] == '/')
                return access(name, X_OK) == 0 ? strdup(name) : NULL;
        copy = strdup(path && path[0] ? path : "/usr/local/bin:/usr/bin:/bin");
        for (dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
             dir = strtok_r(NULL, ":", &save)) {
                char *candidate = strdupf("%s/%s", dir, name);

                if (candidate && access(candidate, X_OK) == 0)
                        found = candidate;
                else
                        free(candidate);
        }
        free(copy);
        return found;
}

static int has(const struct sound *s, const char *flag) {
        return s->host->vmm_has(s->host, flag) > 0;
}

/* ROUTE_UNKNOWN: crosvm cannot be probed (the core reports why) */
static enum route route_of(const struct sound *s) {
        int r;

        if (s->host->vmm(s->host) == VMSILO_VMM_QEMU)
                return ROUTE_QEMU;
        r = s->host->vmm_has(s->host, PATCHED_PROBE);
        return r < 0 ? ROUTE_UNKNOWN : r > 0 ? ROUTE_PULSE : ROUTE_VHOST_USER;
}

static void fail(const struct sound *s, int *failures, const char *fmt, ...) VMSILO_PRINTF(3, 4);
static void fail(const struct sound *s, int *failures, const char *fmt, ...) {
        va_list ap;
        char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        s->host->log(s->host, VMSILO_LOG_ERROR, "%s", msg ? msg : "out of memory");
        free(msg);
        (*failures)++;
}

static void check_pipewire(const struct sound *s, int *failures) {
        char *path = pipewire_socket(s), err[256] = "";
        struct pipewire_report rep = { 0 };
        int r;

        if (!path) {
                fail(s, failures,
                     "no PipeWire socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'pipewire-socket' in [sound] to the socket of the VM's user");
                return;
        }
        r = pipewire_probe(path, s->check_timeout_ms, &rep, err, sizeof(err));
        if (r == -ETIMEDOUT)
                fail(s, failures, "the PipeWire server at '%s' did not answer within %u ms", path,
                     s->check_timeout_ms);
        else if (r < 0)
                fail(s, failures,
                     "the PipeWire server at '%s' does not answer: %s; is pipewire running?", path,
                     err);
        else {
                if (!rep.default_sink)
                        fail(s, failures,
                             "the PipeWire server at '%s' has no default sink (no 'default.audio.sink' in its 'default' metadata%s)",
                             path,
                             rep.has_metadata ? ""
                                              : ", which does not exist: is wireplumber running?");
                else if (!rep.sink_exists)
                        fail(s, failures,
                             "the default sink '%s' of the PipeWire server at '%s' is not an Audio/Sink node",
                             rep.default_sink, path);
                else if (strcmp(rep.default_sink, "auto_null") == 0)
                        s->host->log(
                                s->host, VMSILO_LOG_WARNING,
                                "the default sink of the PipeWire server at '%s' is wireplumber's dummy output 'auto_null': there is no sound device, so the VM's playback is not heard",
                                path);
                if (s->capture && !rep.default_source)
                        fail(s, failures,
                             "'capture = yes' but the PipeWire server at '%s' has no default source (no 'default.audio.source' in its 'default' metadata)",
                             path);
                else if (s->capture && !rep.source_exists)
                        fail(s, failures,
                             "'capture = yes' but the PipeWire server at '%s' has no capture source: its default source '%s' is not an Audio/Source node",
                             path, rep.default_source);
        }
        pipewire_report_done(&rep);
        free(path);
}

static void check_pulse(const struct sound *s, int *failures) {
        char *path = pulse_socket(s);
        int fd;

        if (!path) {
                fail(s, failures,
                     "no pulse socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'pulse-socket' in [sound]");
                return;
        }
        fd = unix_connect(path);
        if (fd < 0)
                fail(s, failures,
                     "pulse socket '%s' does not accept connections: %s; is pipewire-pulse running?",
                     path, strerror(-fd));
        else
                close(fd);
        free(path);
}

/* A modular QEMU (Debian, Fedora, Arch) needs its audio-pa module; a monolithic one has it. */
static void check_qemu_pa(const struct sound *s, int *failures) {
        static const char *const dirs[] = { "/usr/lib/*/qemu", "/usr/lib64/qemu", "/usr/lib/qemu" };
        const struct vmsilo_host *h = s->host;
        int modular = 0, pa = 0;

        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                char *root = h->root_path(h, dirs[i]), *pattern;
                glob_t g;

                pattern = root ? strdupf("%s/audio-*.so", root) : NULL;
                free(root);
                if (!pattern)
                        continue;
                if (glob(pattern, 0, NULL, &g) == 0) {
                        modular = 1;
                        for (size_t j = 0; j < g.gl_pathc; j++) {
                                const char *base = strrchr(g.gl_pathv[j], '/');

                                pa |= base && strcmp(base, "/audio-pa.so") == 0;
                        }
                        globfree(&g);
                }
                free(pattern);
        }
        if (modular && !pa)
                fail(s, failures,
                     "qemu has audio modules but not 'audio-pa.so', which the PulseAudio audiodev needs; install it (Debian: qemu-system-gui)");
}

static void preflight_vmm(const struct sound *s, enum route route, int *failures) {
        const char *codec = s->capture ? "hda-duplex" : "hda-output";
        char *backend;

        switch (route) {
        case ROUTE_QEMU:
                if (!has(s, "intel-hda") || !has(s, codec))
                        fail(s, failures,
                             "qemu has no device 'intel-hda' or '%s'; install qemu-system-x86",
                             codec);
                check_qemu_pa(s, failures);
                return;
        case ROUTE_UNKNOWN:
        case ROUTE_PULSE:
                return;
        case ROUTE_VHOST_USER:
                break;
        }
        if (!has(s, "--vhost-user"))
                fail(s, failures,
                     "crosvm has neither a PipeWire/Pulse backend for '--virtio-snd' nor '--vhost-user'; install vmsilo's patched crosvm or a crosvm from 2023-11 or later");
        backend = find_backend(s);
        if (!backend)
                fail(s, failures,
                     "upstream crosvm has no PipeWire/Pulse backend for '--virtio-snd', and the vhost-user sound backend '%s' was not found%s; install vmsilo's patched crosvm, or rust-vmm's vhost-device-sound (and set 'vhost-user-backend' in [sound] if it is not in $PATH)",
                     s->backend ? s->backend : DEFAULT_BACKEND,
                     s->backend && s->backend[0] == '/' ? "" : " in $PATH");
        free(backend);
        if (!s->capture)
                fail(s, failures,
                     "'capture = no' cannot be enforced with upstream crosvm: the vhost-user sound backend always offers the guest a capture stream; install vmsilo's patched crosvm, or set 'capture = yes' in [sound] to accept that");
}

static int sound_preflight(void *state) {
        struct sound *s = state;
        enum route route;
        int failures = 0;

        if (!s->playback && !s->capture)
                return 0;
        route = route_of(s);
        preflight_vmm(s, route, &failures);
        check_pipewire(s, &failures);
        if (route != ROUTE_VHOST_USER)
                check_pulse(s, &failures);
        return failures ? -EINVAL : 0;
}

static char *helper_socket(const struct sound *s) {
        return strdupf("%s/%s", s->host->runtime_dir(s->host), HELPER_SOCKET);
}

/* upstream crosvm: start the vhost-user backend on the user's PipeWire */
static int sound_prepare(void *state) {
        struct sound *s = state;
        const struct vmsilo_host *h = s->host;
        char *backend = NULL, *sock = NULL, *pw = NULL, *dir = NULL, *remote = NULL, *slash;
        char *xdg = NULL, *pwdir = NULL;
        int r;

        if ((!s->playback && !s->capture) || route_of(s) != ROUTE_VHOST_USER)
                return 0;
        backend = find_backend(s);
        if (!backend) {
                h->log(h, VMSILO_LOG_ERROR,
                       "the vhost-user sound backend '%s' was not found; install rust-vmm's vhost-device-sound or vmsilo's patched crosvm",
                       s->backend ? s->backend : DEFAULT_BACKEND);
                return -ENOENT;
        }
        sock = helper_socket(s);
        pw = pipewire_socket(s);
        if (!pw)
                h->log(h, VMSILO_LOG_ERROR,
                       "no PipeWire socket: XDG_RUNTIME_DIR is not set; set 'pipewire-socket' in [sound]");
        /* the backend finds PipeWire as every libpipewire client does: runtime dir + remote */
        dir = pw ? strdup(pw) : NULL;
        slash = dir ? strrchr(dir, '/') : NULL;
        if (slash) {
                *slash = 0;
                remote = strdupf("PIPEWIRE_REMOTE=%s", slash + 1);
                xdg = strdupf("XDG_RUNTIME_DIR=%s", dir[0] ? dir : "/");
                pwdir = strdupf("PIPEWIRE_RUNTIME_DIR=%s", dir[0] ? dir : "/");
        }
        if (!pw)
                r = -ENOENT;
        else if (!sock || !remote || !xdg || !pwdir)
                r = -ENOMEM;
        else {
                const char *argv[] = { "env",      xdg,  pwdir,       remote,     backend,
                                       "--socket", sock, "--backend", "pipewire", NULL };
                struct vmsilo_helper helper = {
                        .size = sizeof(helper),
                        .ready = VMSILO_READY_SOCKET,
                        .name = "vhost-device-sound",
                        .argv = argv,
                        .socket = sock,
                        .timeout_ms = 5000,
                };

                h->describe(h, "start '%s' on PipeWire '%s', listening on '%s'", backend, pw, sock);
                r = h->spawn_helper(h, &helper);
        }
        free(backend);
        free(sock);
        free(pw);
        free(dir);
        free(remote);
        free(xdg);
        free(pwdir);
        return r;
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

/* A QEMU option value: ',' is doubled. */
static char *qemu_escape(const char *v) {
        size_t n = 1;
        char *q, *o;

        for (const char *c = v; *c; c++)
                n += *c == ',' ? 2 : 1;
        q = o = malloc(n);
        if (!q)
                return NULL;
        for (const char *c = v; *c; c++) {
                *o++ = *c;
                if (*c == ',')
                        *o++ = ',';
        }
        *o = 0;
        return q;
}

static int contribute_pulse(const struct sound *s) {
        const struct vmsilo_host *h = s->host;
        char *sock = pulse_socket(s), *cookie = pulse_cookie(s);
        char *qs = sock ? kv_quote(sock) : NULL, *qc = cookie ? kv_quote(cookie) : NULL;
        char *options = NULL;
        int r;

        if (!sock || !cookie) {
                h->log(h, VMSILO_LOG_ERROR,
                       "no %s: set '%s' in [sound] (XDG_RUNTIME_DIR or HOME is not set)",
                       sock ? "pulse cookie" : "pulse socket",
                       sock ? "pulse-cookie" : "pulse-socket");
                r = -ENOENT;
        } else if (qs && qc &&
                   (options = strdupf(
                            "backend=pulse,capture=%s,pulse_socket_path=%s,pulse_cookie_path=%s",
                            s->capture ? "true" : "false", qs, qc))) {
                struct vmsilo_device d = {
                        .size = sizeof(d),
                        .type = VMSILO_DEVICE_SOUND,
                        .fd = -1,
                        .options = options,
                };

                r = h->add_device(h, &d);
        } else
                r = -ENOMEM;
        free(sock);
        free(cookie);
        free(qs);
        free(qc);
        free(options);
        return r;
}

static int contribute_qemu(const struct sound *s) {
        const struct vmsilo_host *h = s->host;
        char *sock = pulse_socket(s), *esc = sock ? qemu_escape(sock) : NULL;
        char *audiodev = esc ? strdupf("pa,id=snd0,server=unix:%s", esc) : NULL;
        const char *args[] = {
                "-audiodev", audiodev,
                "-device",   "intel-hda",
                "-device",   s->capture ? "hda-duplex,audiodev=snd0" : "hda-output,audiodev=snd0"
        };
        int r = 0;

        if (!sock) {
                h->log(h, VMSILO_LOG_ERROR,
                       "no pulse socket: XDG_RUNTIME_DIR is not set; set 'pulse-socket' in [sound]");
                r = -ENOENT;
        } else if (!audiodev)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < sizeof(args) / sizeof(args[0]); i++)
                r = h->add_vmm_arg(h, VMSILO_VMM_QEMU, args[i]);
        free(sock);
        free(esc);
        free(audiodev);
        return r;
}

static int sound_contribute(void *state) {
        struct sound *s = state;
        struct vmsilo_device d = { .size = sizeof(d), .type = VMSILO_DEVICE_VHOST_USER, .fd = -1 };
        char *sock;
        int r;

        if (!s->playback && !s->capture)
                return 0;
        switch (route_of(s)) {
        case ROUTE_UNKNOWN:
                return -ENOEXEC;
        case ROUTE_QEMU:
                return contribute_qemu(s);
        case ROUTE_PULSE:
                return contribute_pulse(s);
        case ROUTE_VHOST_USER:
                break;
        }
        sock = helper_socket(s);
        if (!sock)
                return -ENOMEM;
        d.kind = "sound";
        d.socket = sock;
        r = s->host->add_device(s->host, &d);
        free(sock);
        return r;
}

static void sound_teardown(void *state) {
        struct sound *s = state;

        if (!s)
                return;
        free(s->pipewire_socket);
        free(s->pulse_socket);
        free(s->pulse_cookie);
        free(s->backend);
        free(s);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "sound",
        .version = "0.1.0",
        .init = sound_init,
        .configure = sound_configure,
        .preflight = sound_preflight,
        .prepare = sound_prepare,
        .contribute = sound_contribute,
        .teardown = sound_teardown,
};
