/* SPDX-License-Identifier: MIT */
/*
 * Which virtiofsd is installed: QEMU's C one (Debian 12: /usr/lib/qemu/virtiofsd, `-o
 * source=...`, no --tag) or the Rust one (`--shared-dir`, `--tag`, later `--readonly` and
 * `--translate-uid`). Told apart by what `VIRTIOFSD --help` lists; run once per process.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "virtiofs.h"

#define PROBE_TIMEOUT_MS 3000
#define PROBE_MAX_OUTPUT 65536

extern char **environ;

static const char *launcher_override;

void virtiofs_set_launcher(const char *path) {
        launcher_override = path;
}

/* virtiofs-launch is installed in the directory of this plugin's .so. */
char *launcher_path(void) {
        Dl_info info = {};
        const char *slash;
        char *p = NULL;

        if (launcher_override)
                return strdup(launcher_override);
        if (dladdr((void *) launcher_path, &info) == 0 || !info.dli_fname ||
            !(slash = strrchr(info.dli_fname, '/')))
                return strdup(LAUNCHER_NAME);
        if (asprintf(&p, "%.*s/%s", (int) (slash - info.dli_fname), info.dli_fname, LAUNCHER_NAME) <
            0)
                return NULL;
        return p;
}

static const char *const default_paths[] = { "/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd" };

static int executable(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *find_in_path(const char *name) {
        const char *path = getenv("PATH");
        char *copy, *dir, *save = NULL, *found = NULL;

        if (strchr(name, '/'))
                return executable(name) ? strdup(name) : NULL;
        copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
        if (!copy)
                return NULL;
        for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
                char *c = NULL;

                if (asprintf(&c, "%s/%s", dir, name) < 0)
                        break;
                if (executable(c))
                        found = c;
                else
                        free(c);
        }
        free(copy);
        return found;
}

static char *resolve(const struct virtiofs *o) {
        if (o->virtiofsd)
                return find_in_path(o->virtiofsd);
        for (size_t i = 0; i < sizeof(default_paths) / sizeof(default_paths[0]); i++)
                if (executable(default_paths[i]))
                        return strdup(default_paths[i]);
        return find_in_path("virtiofsd");
}

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs `bin --help` (through `launcher --probe --` when there is one: a user's C virtiofsd
 * exits when it cannot drop the supplementary groups, even for --help), stdout and stderr
 * into *ret_out (NUL-terminated); returns the wait status. */
static int run_capture(const char *launcher, const char *bin, char **ret_out) {
        posix_spawn_file_actions_t fa;
        char *direct[] = { (char *) bin, "--help", NULL },
             *launched[] = { (char *) launcher, "--probe", "--", (char *) bin, "--help", NULL },
             **argv = launcher && access(launcher, X_OK) == 0 ? launched : direct, *out;
        long long deadline = now_ms() + PROBE_TIMEOUT_MS;
        size_t len = 0;
        int pipefd[2], status = 0, r;
        pid_t pid;

        out = calloc(1, PROBE_MAX_OUTPUT + 1);
        if (!out)
                return -ENOMEM;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                free(out);
                return -errno;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[1]);
        if (r != 0) {
                close(pipefd[0]);
                free(out);
                return -r;
        }
        for (;;) {
                struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
                long long left = deadline - now_ms();
                ssize_t n;

                r = left > 0 ? poll(&p, 1, (int) left) : 0;
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) { /* a virtiofsd that hangs on --help is not usable either */
                        (void) kill(pid, SIGKILL);
                        break;
                }
                n = read(pipefd[0], out + len, PROBE_MAX_OUTPUT - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t) n;
                if (len == PROBE_MAX_OUTPUT)
                        break;
        }
        close(pipefd[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        *ret_out = out;
        return status;
}

/* `flag` as a word of its own: "--tag" matches "  --tag <TAG>", not "--tagged". */
static int help_has(const char *text, const char *flag) {
        size_t n = strlen(flag);

        for (const char *p = text; (p = strstr(p, flag)); p += n) {
                char before = p == text ? ' ' : p[-1], after = p[n];

                if (before != '-' && !(before >= 'a' && before <= 'z') &&
                    !(after >= 'a' && after <= 'z') && after != '-' && after != '_')
                        return 1;
        }
        return 0;
}

/* The last line(s) of what the program printed, for an error message. */
static const char *tail(const char *out) {
        size_t n = strlen(out);

        while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
                n--;
        return n > 300 ? out + n - 300 : out;
}

static int probe_failed(struct virtiofs *o, const char *bin, int status, const char *out) {
        const struct vmsilo_host *h = o->host;
        char *msg = strdup(out ? tail(out) : "");

        for (char *c = msg; c && *c; c++)
                if (*c == '\n' || *c == '\t')
                        *c = ' ';
        if (status < 0)
                h->log(h, VMSILO_LOG_ERROR, "cannot run virtiofsd '%s': %s", bin,
                       strerror(-status));
        else if (WIFSIGNALED(status))
                h->log(h, VMSILO_LOG_ERROR, "virtiofsd '%s --help' was killed by signal %d: %s",
                       bin, WTERMSIG(status), msg ? msg : "");
        else
                h->log(h, VMSILO_LOG_ERROR, "virtiofsd '%s --help' failed with status %d: %s", bin,
                       WEXITSTATUS(status), msg ? msg : "");
        free(msg);
        return -ENOEXEC;
}

static void features(struct probe *p, const char *out) {
        p->has_tag = help_has(out, "--tag");
        p->has_readonly = help_has(out, "--readonly");
        p->has_translate = help_has(out, "--translate-uid");
        p->has_announce = help_has(out, "--announce-submounts");
        p->has_modcaps = help_has(out, "--modcaps") || help_has(out, "modcaps");
        p->has_rlimit = help_has(out, "--rlimit-nofile");
}

int virtiofsd_probe(struct virtiofs *o) {
        const struct vmsilo_host *h = o->host;
        struct probe *p = &o->probe;
        char *out = NULL;
        int status;

        if (p->done)
                return p->ok ? 0 : -ENOEXEC;
        p->done = 1;
        p->launcher = launcher_path();
        if (!p->launcher)
                return -ENOMEM;
        p->binary = resolve(o);
        if (!p->binary) {
                if (o->virtiofsd)
                        h->log(h, VMSILO_LOG_ERROR,
                               "virtiofsd '%s' not found%s or not executable: fix 'virtiofsd =' in [virtiofs]",
                               o->virtiofsd, strchr(o->virtiofsd, '/') ? "" : " in $PATH");
                else
                        h->log(h, VMSILO_LOG_ERROR,
                               "virtiofsd not found in /usr/libexec, /usr/lib/qemu or $PATH: install virtiofsd (Debian: qemu-system-common or virtiofsd) or set 'virtiofsd =' in [virtiofs]");
                return -ENOENT;
        }
        status = run_capture(p->launcher, p->binary, &out);
        if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                probe_failed(o, p->binary, status, out);
                free(out);
                return -ENOEXEC;
        }
        if (help_has(out, "--shared-dir"))
                p->flavour = FLAVOUR_RUST;
        else if (strstr(out, "source=PATH") || strstr(out, "-o source="))
                p->flavour = FLAVOUR_C;
        features(p, out);
        free(out);
        if (o->flavour != FLAVOUR_AUTO) {
                /* the configuration says which one it is; trust it with all its options */
                p->flavour = o->flavour;
                p->has_tag = p->has_readonly = p->has_translate = p->has_announce =
                        o->flavour == FLAVOUR_RUST;
                p->has_modcaps = p->has_rlimit = 1; /* both flavours have had them for years */
        } else if (p->flavour == FLAVOUR_AUTO) {
                h->log(h, VMSILO_LOG_ERROR,
                       "cannot tell from its --help whether '%s' is the C or the Rust virtiofsd: set 'flavour = c' or 'flavour = rust' in [virtiofs]",
                       p->binary);
                return -ENOEXEC;
        }
        p->ok = 1;
        return 0;
}
