/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "plugin/vm.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/process.h"
#include "vmsilo/plugin.h"

const struct backend *backend_find(const char *name) {
        if (streq(name, "crosvm"))
                return &crosvm_backend;
        if (streq(name, "qemu"))
                return &qemu_backend;
        return NULL;
}

int backend_has(struct vm *vm, const char *flag) {
        int r;

        if (vm->probe_failed)
                return -ENOEXEC;
        if (!vm->probe_top) {
                r = vm->backend->probe(vm);
                if (r < 0) {
                        vm->probe_failed = 1; /* logged once; later questions get the errno */
                        return r;
                }
        }
        return vm->backend->has(vm, flag);
}

int backend_can(struct vm *vm, const char *capability) {
        int r;

        vm->missing[0] = 0;
        r = backend_has(vm, "--help"); /* probes once */
        if (r < 0)
                return r;
        r = vm->backend->can(vm, capability, vm->missing, sizeof(vm->missing));
        if (r == 0 && !vm->missing[0])
                snprintf(vm->missing, sizeof(vm->missing), "the %s backend cannot do '%s'",
                         vm->backend->name, capability);
        return r;
}

/* The capabilities a typed device needs (ABI 1.1 fields); 1.0 devices need none. */
static int device_caps(const struct vm_device *d, const char *caps[6]) {
        size_t n = 0;

        if (d->type == VMSILO_DEVICE_GPU && !d->options) {
                caps[n++] = "gpu";
                if (d->features & VMSILO_GPU_WAYLAND)
                        caps[n++] = d->features & VMSILO_GPU_SECURITY_CONTEXT
                                            ? "gpu wayland security context"
                                            : "gpu wayland";
                if (d->features & VMSILO_GPU_OPENGL)
                        caps[n++] = "gpu opengl";
                if (d->features & VMSILO_GPU_VULKAN)
                        caps[n++] = "gpu vulkan";
        } else if (d->type == VMSILO_DEVICE_SOUND && !d->options)
                caps[n++] = "sound pulse backend";
        else if (d->type == VMSILO_DEVICE_SHARED_DIR)
                caps[n++] = "shared dir";
        else if (d->type == VMSILO_DEVICE_VFIO) {
                if (d->pci_address)
                        caps[n++] = "vfio guest address";
                if (d->iommu)
                        caps[n++] = "vfio iommu";
        }
        caps[n] = NULL;
        return (int) n;
}

int backend_check_device(struct vm *vm, const struct vm_device *d) {
        const char *caps[6];
        int r;

        device_caps(d, caps);
        for (size_t i = 0; caps[i]; i++) {
                r = backend_can(vm, caps[i]);
                if (r <= 0)
                        return r < 0 ? r : -EOPNOTSUPP;
        }
        if (vm->backend->check && !vm->backend->check(vm, d, vm->missing, sizeof(vm->missing)))
                return -EOPNOTSUPP;
        return 0;
}

char *find_binary(const char *name) {
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = NULL;
        char *saveptr = NULL;

        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0)
                        return NULL;
                return strdup(name);
        }
        copy = strdup(isempty(path) ? "/usr/local/bin:/usr/bin:/bin" : path);
        if (!copy)
                return NULL;
        for (char *dir = strtok_r(copy, ":", &saveptr); dir; dir = strtok_r(NULL, ":", &saveptr)) {
                char *candidate = strdup_printf("%s/%s", dir, name);
                struct stat st;

                if (candidate && stat(candidate, &st) == 0 && S_ISREG(st.st_mode) &&
                    access(candidate, X_OK) == 0)
                        return candidate;
                free(candidate);
        }
        errno = ENOENT;
        return NULL;
}

int text_has_token(const char *text, const char *token) {
        size_t n = strlen(token);

        for (const char *p = text; (p = strstr(p, token)); p++) {
                int before = p == text ||
                             !(isalnum((unsigned char) p[-1]) || p[-1] == '-' || p[-1] == '_');
                int after = !(isalnum((unsigned char) p[n]) || p[n] == '-' || p[n] == '_');

                if (before && after)
                        return 1;
        }
        return 0;
}

char *kv_quote(const char *value) {
        size_t n = 3;
        char *q, *o;

        value = strempty(value);
        if (*value && !strpbrk(value, ",[]\"' \t\\"))
                return strdup(value);
        for (const char *c = value; *c; c++)
                n += (*c == '"' || *c == '\\') ? 2 : 1;
        q = o = malloc(n);
        if (!q)
                return NULL;
        *o++ = '"';
        for (const char *c = value; *c; c++) {
                if (*c == '"' || *c == '\\')
                        *o++ = '\\';
                *o++ = *c;
        }
        *o++ = '"';
        *o = 0;
        return q;
}

static uint64_t fnv1a(const char *s) {
        uint64_t h = 1469598103934665603ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

static char *cache_key(const char *binary, const char *const *argv, const char *salt) {
        struct stat st;
        char *args = NULL;
        size_t len = 0;
        FILE *f;

        if (stat(binary, &st) < 0)
                return NULL;
        f = open_memstream(&args, &len);
        if (!f)
                return NULL;
        fprintf(f, "%s\t%lld\t%lld.%09ld", binary, (long long) st.st_size,
                (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        for (size_t i = 1; argv[i]; i++)
                fprintf(f, "\t%s", argv[i]);
        fprintf(f, "\t%s\n", strempty(salt));
        if (fclose(f) != 0) {
                free(args);
                return NULL;
        }
        return args;
}

/* Makes `dir` and its missing parents 0700 (as XDG asks for ~/.cache). */
static void mkdir_private(const char *dir) {
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                (void) mkdir(p, 0700);
                *s = '/';
        }
        (void) mkdir(p, 0700);
}

/* The cache directory, opened: ours (not a symlink, owned by us, writable by us only), or a
 * negative errno. Someone else's directory is never read or written through. */
static int cache_dir_open(const char *dir) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        mkdir_private(dir);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_uid != geteuid())
                return -EPERM;
        if ((st.st_mode & 077) != 0 && fchmod(fd, 0700) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

static char *cache_read(int dfd, const char *name, const char *key) {
        _cleanup_free_ char *buf = NULL, *line = NULL;
        size_t len = 0, cap = 0;
        struct stat st;
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        FILE *f;

        if (fd < 0)
                return NULL;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
            !(f = fdopen(fd, "r"))) {
                close(fd);
                return NULL;
        }
        if (getline(&line, &cap, f) < 0 || !streq(line, key)) {
                fclose(f);
                return NULL;
        }
        buf = malloc(1 << 20);
        if (buf)
                len = fread(buf, 1, (1 << 20) - 1, f);
        fclose(f);
        if (!buf)
                return NULL;
        buf[len] = 0;
        return strdup(buf);
}

/* Atomically: a new file of ours (never an existing one, never through a symlink), renamed
 * over the entry. */
static void cache_write(int dfd, const char *name, const char *key, const char *text) {
        char tmp[128];
        FILE *f;
        int fd;

        snprintf(tmp, sizeof(tmp), ".%s.%d.%llx.tmp", name, (int) getpid(),
                 (unsigned long long) now_ms());
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                (void) unlinkat(dfd, tmp, 0);
                return;
        }
        fputs(key, f);
        fputs(text, f);
        if (fclose(f) != 0 || renameat(dfd, tmp, dfd, name) < 0)
                (void) unlinkat(dfd, tmp, 0);
}

/* Why the last probe failed, when the tool ran and said so (probe_failure) */
static char probe_error[768];

const char *probe_failure(void) {
        return probe_error[0] ? probe_error : strerror(errno);
}

/* "exited with status N: <its stderr, escaped>" or "killed by signal N (SIGNAME): ..." */
void probe_describe_failure(char *buf, size_t size, int status, const char *err) {
        _cleanup_free_ char *text = NULL;
        size_t n = err ? strlen(err) : 0;

        while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
                n--;
        text = n > 0 ? text_escape(err, n > 500 ? 500 : n) : NULL;
        if (status > 128)
                snprintf(buf, size, "killed by signal %d (SIG%s)%s%s", status - 128,
                         strempty(sigabbrev_np(status - 128)), text ? ": " : "", strempty(text));
        else
                snprintf(buf, size, "exited with status %d%s%s", status, text ? ": " : "",
                         strempty(text));
}

static char *probe_run(const char *const *argv) {
        _cleanup_free_ char *err = NULL;
        char *text = NULL;
        int r = process_capture_err((char *const *) argv, &text, 1 << 20, 10000, &err);

        probe_error[0] = 0;
        if (r < 0) {
                errno = -r;
                return NULL;
        }
        if (r != 0) {
                free(text);
                probe_describe_failure(probe_error, sizeof(probe_error), r, err);
                errno = ENOEXEC;
                return NULL;
        }
        return text;
}

char *probe_cached(const char *cache_dir, const char *binary, const char *const *argv,
                   const char *salt) {
        static int warned;
        _cleanup_free_ char *key = cache_key(binary, argv, salt);
        _cleanup_close_ int dfd = -1;
        char name[64], *text;

        if (!key)
                return NULL;
        snprintf(name, sizeof(name), "probe-%016llx", (unsigned long long) fnv1a(key));
        dfd = cache_dir ? cache_dir_open(cache_dir) : -ENOENT;
        if (IN_SET(-dfd, EPERM, ELOOP, ENOTDIR) && !warned++)
                log_warning("not using the probe cache '%s': it is not a directory of yours",
                            cache_dir);
        else if (dfd < 0 && cache_dir)
                log_debug_errno(dfd, "not using the probe cache '%s': %m", cache_dir);
        if (dfd < 0)
                return probe_run(argv);
        text = cache_read(dfd, name, key);
        if (text) {
                log_debug("using cached probe '%s/%s' for '%s'", cache_dir, name, binary);
                return text;
        }
        text = probe_run(argv);
        if (text)
                cache_write(dfd, name, key, text);
        return text;
}
