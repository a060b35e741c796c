/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../sdk/vmsilo/plugin.h"
#include "backend.h"
#include "log.h"
#include "process.h"
#include "vm.h"

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

static char *cache_read(const char *path, const char *key) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = fopen(path, "re");
        char *body;

        if (!f)
                return NULL;
        {
                _cleanup_free_ char *line = NULL;
                size_t cap = 0;

                if (getline(&line, &cap, f) < 0 || !streq(line, key)) {
                        fclose(f);
                        return NULL;
                }
        }
        buf = malloc(1 << 20);
        if (buf)
                len = fread(buf, 1, (1 << 20) - 1, f);
        fclose(f);
        if (!buf)
                return NULL;
        buf[len] = 0;
        body = strdup(buf);
        return body;
}

static void cache_write(const char *dir, const char *path, const char *key, const char *text) {
        _cleanup_free_ char *tmp = strdup_printf("%s.%d.tmp", path, (int) getpid());
        FILE *f;

        if (!tmp)
                return;
        (void) mkdir(dir, 0755);
        f = fopen(tmp, "we");
        if (!f)
                return;
        fputs(key, f);
        fputs(text, f);
        if (fclose(f) != 0 || rename(tmp, path) < 0)
                (void) unlink(tmp);
}

char *probe_cached(const char *cache_dir, const char *binary, const char *const *argv,
                   const char *salt) {
        _cleanup_free_ char *key = cache_key(binary, argv, salt);
        _cleanup_free_ char *path = NULL;
        char *text = NULL;
        uint64_t h;
        int r;

        if (!key)
                return NULL;
        h = fnv1a(key);
        path = strdup_printf("%s/probe-%016llx", cache_dir, (unsigned long long) h);
        if (!path)
                return NULL;
        text = cache_read(path, key);
        if (text) {
                log_debug("using cached probe '%s' for '%s'", path, binary);
                return text;
        }
        r = process_capture((char *const *) argv, &text, 1 << 20, 10000);
        if (r < 0) {
                errno = -r;
                return NULL;
        }
        if (r != 0) {
                free(text);
                errno = ENOEXEC;
                return NULL;
        }
        cache_write(cache_dir, path, key, text);
        return text;
}
