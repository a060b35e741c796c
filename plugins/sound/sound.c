/* SPDX-License-Identifier: MIT */
/*
 * sound: vmsilo's virtio-snd, playback and capture through the desktop user's PipeWire.
 * A VMM that can join the pulse socket itself (vmsilo's patched crosvm, QEMU) gets a typed
 * sound device; otherwise (upstream crosvm) a vhost-user sound backend (rust-vmm's
 * vhost-device-sound) runs as a helper. The backend renders the device. See sound.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vmsilo/plugin.h>

#include "sound.h"

#define DEFAULT_BACKEND "vhost-device-sound"
#define HELPER_SOCKET "sound.sock"

/* How the VMM reaches the user's sound server. */
enum route {
        ROUTE_UNKNOWN = 0,    /* the VMM cannot be probed (the core says why) */
        ROUTE_PULSE = 1,      /* the VMM joins the pulse socket itself */
        ROUTE_VHOST_USER = 2, /* a vhost-user sound backend on PipeWire */
        ROUTE_NONE = 3,
};

struct sound {
        const struct vmsilo_host *host;
        int playback, capture;
        unsigned long long check_timeout_ms;
        char *pipewire_socket; /* NULL: from the environment, as libpipewire finds it */
        char *pulse_socket;    /* NULL: $XDG_RUNTIME_DIR/pulse/native */
        char *pulse_cookie;    /* NULL: ${XDG_CONFIG_HOME:-$HOME/.config}/pulse/cookie */
        char *backend;         /* vhost-user sound backend: a path or a name in $PATH */
};

#define FIELD(f) offsetof(struct sound, f)
static const struct vmsilo_key sound_keys[] = {
        { .name = "playback",
          .type = VMSILO_KEY_BOOL,
          .offset = FIELD(playback),
          .def = "no",
          .help = "give the VM a sound device that plays on the desktop" },
        { .name = "capture",
          .type = VMSILO_KEY_BOOL,
          .offset = FIELD(capture),
          .def = "no",
          .help = "let the VM record from the desktop's default source" },
        { .name = "pipewire-socket",
          .type = VMSILO_KEY_PATH,
          .offset = FIELD(pipewire_socket),
          .help = "the PipeWire socket of the VM's user" },
        { .name = "pulse-socket",
          .type = VMSILO_KEY_PATH,
          .offset = FIELD(pulse_socket),
          .help = "the pulse socket of the VM's user" },
        { .name = "pulse-cookie",
          .type = VMSILO_KEY_PATH,
          .offset = FIELD(pulse_cookie),
          .help = "the pulse cookie of the VM's user" },
        { .name = "vhost-user-backend",
          .type = VMSILO_KEY_PROGRAM,
          .offset = FIELD(backend),
          .help = "the vhost-user sound backend (default vhost-device-sound)" },
        { .name = "check-timeout",
          .type = VMSILO_KEY_UINT,
          .offset = FIELD(check_timeout_ms),
          .def = "2000",
          .min = 10,
          .max = 60000,
          .expected = "milliseconds from 10 to 60000",
          .help = "how long preflight waits for PipeWire" },
        { .name = NULL },
};

static int sound_init(const struct vmsilo_host *host, void **ret_state) {
        struct sound *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->host = host;
        *ret_state = s;
        return 0;
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

#define MISSING_MAX 256

/* The pulse socket when the VMM can join it, else a vhost-user backend; what the VMM lacks
 * goes to missing[0] (pulse) and missing[1] (vhost-user). */
static enum route route_of(const struct sound *s, char missing[2][MISSING_MAX]) {
        const struct vmsilo_host *h = s->host;
        const char *why = "";
        int r = h->vmm_can(h, "sound pulse backend", &why);

        snprintf(missing[0], MISSING_MAX, "%s", r == 0 ? why : "");
        if (r != 0)
                return r < 0 ? ROUTE_UNKNOWN : ROUTE_PULSE;
        r = h->vmm_can(h, "vhost-user sound", &why);
        snprintf(missing[1], MISSING_MAX, "%s", r == 0 ? why : "");
        return r < 0 ? ROUTE_UNKNOWN : r > 0 ? ROUTE_VHOST_USER : ROUTE_NONE;
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

int unix_connect(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

void pipewire_report_done(struct pipewire_report *r) {
        free(r->default_sink);
        free(r->default_source);
        *r = (struct pipewire_report){ 0 };
}

static void check_pipewire(const struct sound *s, int *failures) {
        char *path = pipewire_socket(s), err[256] = "";
        const struct sound_pipewire *pw;
        struct pipewire_report rep = { 0 };
        int r, fd;

        if (!path) {
                fail(s, failures,
                     "no PipeWire socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'pipewire-socket' in [sound] to the socket of the VM's user");
                return;
        }
        pw = vmsilo_companion(s->host, SOUND_PIPEWIRE_FILE, SOUND_PIPEWIRE_SYMBOL);
        if (!pw) { /* the core said why */
                (*failures)++;
                free(path);
                return;
        }
        fd = unix_connect(path);
        if (fd < 0) {
                r = fd;
                snprintf(err, sizeof(err), "%s", strerror(-fd));
        } else
                r = pw->probe(fd, (unsigned) s->check_timeout_ms, &rep, err, sizeof(err));
        if (r == -ETIMEDOUT)
                fail(s, failures, "the PipeWire server at '%s' did not answer within %llu ms", path,
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

static void preflight_vmm(const struct sound *s, enum route route, char missing[2][MISSING_MAX],
                          int *failures) {
        char *backend;

        if (route == ROUTE_NONE)
                fail(s, failures,
                     "%s, and %s; install vmsilo's patched crosvm, a crosvm from 2023-11 or later, or QEMU with its PulseAudio audiodev",
                     missing[0], missing[1]);
        if (route != ROUTE_VHOST_USER)
                return;
        backend = find_backend(s);
        if (!backend)
                fail(s, failures,
                     "%s, and the vhost-user sound backend '%s' was not found%s; install vmsilo's patched crosvm, or rust-vmm's vhost-device-sound (and set 'vhost-user-backend' in [sound] if it is not in $PATH)",
                     missing[0], s->backend ? s->backend : DEFAULT_BACKEND,
                     s->backend && s->backend[0] == '/' ? "" : " in $PATH");
        free(backend);
        if (!s->capture)
                fail(s, failures,
                     "'capture = no' cannot be enforced with upstream crosvm: the vhost-user sound backend always offers the guest a capture stream; install vmsilo's patched crosvm, or set 'capture = yes' in [sound] to accept that");
}

static int sound_preflight(void *state) {
        struct sound *s = state;
        char missing[2][MISSING_MAX];
        enum route route;
        int failures = 0;

        if (!s->playback && !s->capture)
                return 0;
        route = route_of(s, missing);
        preflight_vmm(s, route, missing, &failures);
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

        char missing[2][MISSING_MAX];

        if ((!s->playback && !s->capture) || route_of(s, missing) != ROUTE_VHOST_USER)
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

static int contribute_pulse(const struct sound *s) {
        const struct vmsilo_host *h = s->host;
        char *sock = pulse_socket(s), *cookie = pulse_cookie(s);
        struct vmsilo_device d = {
                .size = sizeof(d),
                .type = VMSILO_DEVICE_SOUND,
                .fd = -1,
                .features = (s->playback ? VMSILO_SOUND_PLAYBACK : 0) |
                            (s->capture ? VMSILO_SOUND_CAPTURE : 0),
                .server = sock,
                .cookie = cookie,
        };
        int r;

        if (!sock || !cookie) {
                h->log(h, VMSILO_LOG_ERROR,
                       "no %s: set '%s' in [sound] (XDG_RUNTIME_DIR or HOME is not set)",
                       sock ? "pulse cookie" : "pulse socket",
                       sock ? "pulse-cookie" : "pulse-socket");
                r = -ENOENT;
        } else
                r = h->add_device(h, &d);
        free(sock);
        free(cookie);
        return r;
}

static int sound_contribute(void *state) {
        struct sound *s = state;
        struct vmsilo_device d = { .size = sizeof(d), .type = VMSILO_DEVICE_VHOST_USER, .fd = -1 };
        char missing[2][MISSING_MAX];
        char *sock;
        int r;

        if (!s->playback && !s->capture)
                return 0;
        switch (route_of(s, missing)) {
        case ROUTE_UNKNOWN:
                return -ENOEXEC;
        case ROUTE_NONE:
                return -EOPNOTSUPP;
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
        vmsilo_keys_free(sound_keys, s, 0);
        free(s);
}

VMSILO_PLUGIN_DEFINE = {
        .abi_major = VMSILO_PLUGIN_ABI_MAJOR,
        .size = sizeof(struct vmsilo_plugin),
        .name = "sound",
        .version = "0.1.0",
        .init = sound_init,
        .preflight = sound_preflight,
        .prepare = sound_prepare,
        .contribute = sound_contribute,
        .teardown = sound_teardown,
        .keys = sound_keys,
        .key_size = sizeof(struct vmsilo_key),
};
