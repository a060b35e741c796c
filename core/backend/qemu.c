/* SPDX-License-Identifier: MIT */
/*
 * The QEMU backend: renders the same VM description for qemu-system-x86_64, for machines
 * without crosvm (and for our CI, where every part of a start runs for real under TCG).
 */
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "backend/kvmprobe.h"
#include "backend/qmp.h"
#include "plugin/vm.h"
#include "backend/snapshot-plan.h"
#include "util/json.h"
#include "util/log.h"
#include "util/process.h"
#include "vmsilo/plugin.h"

/* QEMU's option syntax: a ',' inside a value is written ',,'. Returns a malloc()ed copy. */
static char *qopt(const char *value) {
        size_t n = 1;
        char *q, *o;

        for (const char *c = strempty(value); *c; c++)
                n += *c == ',' ? 2 : 1;
        q = o = malloc(n);
        if (!q)
                return NULL;
        for (const char *c = strempty(value); *c; c++) {
                *o++ = *c;
                if (*c == ',')
                        *o++ = ',';
        }
        *o = 0;
        return q;
}

static const char *qemu_binary(const struct vm *vm) {
        return vm->config.qemu_path;
}

static void choose_accel(struct vm *vm) {
        char reason[256];

        if (!streq(vm->config.qemu_accel, "auto")) {
                vm->accel = streq(vm->config.qemu_accel, "kvm") ? "kvm" : "tcg";
                log_info("qemu: using %s: forced by 'accel = %s' in [qemu]", vm->accel,
                         vm->config.qemu_accel);
                return;
        }
        if (kvm_usable("/dev/kvm", 500, reason, sizeof(reason))) {
                vm->accel = "kvm";
                log_info("qemu: using KVM: %s", reason);
        } else {
                vm->accel = "tcg";
                log_notice("qemu: using TCG (slow): %s", reason);
        }
}

/* QEMU's device list also depends on its installed modules (qemu-system-gui adds audio and
 * display devices): their directory's mtime is part of the probe cache key. */
static void modules_stamp(char *buf, size_t size) {
        static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu/qemu", "/usr/lib/qemu",
                                            "/usr/lib64/qemu" };
        struct stat st;

        snprintf(buf, size, "modules=none");
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (stat(dirs[i], &st) == 0) {
                        snprintf(buf, size, "modules=%lld.%09ld", (long long) st.st_mtim.tv_sec,
                                 st.st_mtim.tv_nsec);
                        return;
                }
}

static int qemu_probe(struct vm *vm) {
        _cleanup_free_ char *bin = find_binary(vm->config.qemu_path);
        const char *version[] = { NULL, "--version", NULL };
        const char *devices[] = { NULL, "-device", "help", NULL };
        char salt[64];

        if (!bin)
                return log_error_errno(
                        ENOENT,
                        "qemu binary '%s' not found; install qemu-system-x86 or set 'path =' in [qemu]",
                        vm->config.qemu_path);
        version[0] = devices[0] = bin;
        modules_stamp(salt, sizeof(salt));
        vm->probe_top = probe_cached(vm->settings->cache_dir, bin, version, salt);
        if (vm->probe_top)
                vm->probe_run = probe_cached(vm->settings->cache_dir, bin, devices, salt);
        if (!vm->probe_top || !vm->probe_run) {
                free(vm->probe_top);
                vm->probe_top = NULL;
                return log_error_errno(errno, "failed to probe '%s' with '-device help': %s", bin,
                                       probe_failure());
        }
        if (!vm->accel)
                choose_accel(vm);
        return 0;
}

/* Device names, e.g. "vhost-user-fs-pci" ("-device help" lists them as name "..."). */
static int qemu_has(const struct vm *vm, const char *flag) {
        _cleanup_free_ char *quoted = strdup_printf("\"%s\"", flag);

        if (!vm->probe_run || !quoted)
                return 0;
        return strstr(vm->probe_run, quoted) != NULL;
}

/* A modular QEMU (Debian, Fedora, Arch) needs its audio-pa module; a monolithic one has it. */
static int qemu_has_pa(const struct vm *vm) {
        static const char *const dirs[] = { "/usr/lib/*/qemu", "/usr/lib64/qemu", "/usr/lib/qemu" };
        int modular = 0, pa = 0;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *root = confdirs_path(&vm->settings->dirs, dirs[i]);
                _cleanup_free_ char *pattern = root ? strdup_printf("%s/audio-*.so", root) : NULL;
                glob_t g;

                if (!pattern || glob(pattern, 0, NULL, &g) != 0)
                        continue;
                modular = 1;
                for (size_t j = 0; j < g.gl_pathc; j++) {
                        const char *base = strrchr(g.gl_pathv[j], '/');

                        pa |= base && streq(base, "/audio-pa.so");
                }
                globfree(&g);
        }
        return !modular || pa;
}

static int qemu_can(const struct vm *vm, const char *capability, char *missing, size_t size) {
        static const struct {
                const char *name, *device, *missing;
        } map[] = {
                { "gpu", "virtio-gpu-pci", NULL },
                { "gpu opengl", "virtio-gpu-gl-pci", NULL },
                { "gpu wayland", NULL, "the qemu backend has no Wayland cross-domain device" },
                { "gpu wayland security context", NULL,
                  "the qemu backend has no Wayland cross-domain device" },
                { "gpu wayland socket", NULL,
                  "the qemu backend has no Wayland cross-domain device" },
                { "gpu vulkan", NULL, "the qemu backend has no Vulkan (venus) context" },
                { "vhost-user fs", "vhost-user-fs-pci", NULL },
                { "vhost-user sound", NULL, "the qemu backend has no vhost-user sound device" },
                { "vhost-user fs backend tag", NULL, "QEMU gives the tag on the device" },
                { "shared dir", NULL, "the qemu backend has no built-in shared directory" },
                { "net tap name", NULL, "the qemu backend takes taps as open fds" },
                { "vfio guest address", NULL,
                  "the qemu backend does not place VFIO devices at a guest address" },
                { "vfio iommu", NULL, "the qemu backend has no IOMMU choice for VFIO devices" },
        };

        if (streq(capability, "sound pulse backend")) {
                if (!qemu_has(vm, "intel-hda") || !qemu_has(vm, "hda-duplex") ||
                    !qemu_has(vm, "hda-output")) {
                        snprintf(
                                missing, size,
                                "qemu has no device 'intel-hda' or 'hda-duplex'; install qemu-system-x86");
                        return 0;
                }
                if (!qemu_has_pa(vm)) {
                        snprintf(
                                missing, size,
                                "qemu has audio modules but not 'audio-pa.so', which the PulseAudio audiodev needs; install it (Debian: qemu-system-gui)");
                        return 0;
                }
                return 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                if (!streq(map[i].name, capability))
                        continue;
                if (map[i].device && qemu_has(vm, map[i].device))
                        return 1;
                if (map[i].device)
                        snprintf(missing, size, "qemu has no device '%s'", map[i].device);
                else
                        snprintf(missing, size, "%s", map[i].missing);
                return 0;
        }
        snprintf(missing, size, "the qemu backend knows no capability '%s'", capability);
        return 0;
}

static int qemu_check(const struct vm *vm, const struct vm_device *d, char *missing, size_t size) {
        (void) vm;
        if (d->type == VMSILO_DEVICE_GPU && !d->options && (d->features & VMSILO_GPU_OPENGL) &&
            isempty(d->render_node)) {
                snprintf(
                        missing, size,
                        "opengl needs a GPU render node, but there is no /dev/dri/renderD* device");
                return 0;
        }
        if ((d->type == VMSILO_DEVICE_GPU || d->type == VMSILO_DEVICE_SOUND) && d->options) {
                snprintf(missing, size, "plugin '%s' gave its %s device as crosvm options",
                         d->owner, d->type == VMSILO_DEVICE_GPU ? "gpu" : "sound");
                return 0;
        }
        return 1;
}

static int qemu_preflight(struct vm *vm) {
        static const char *const needed[] = { "virtio-blk-pci", "virtio-net-pci",
                                              "virtio-serial-pci", "vhost-user-fs-pci" };
        int failures = 0;

        for (size_t i = 0; i < ELEMENTSOF(needed); i++)
                if (!qemu_has(vm, needed[i])) {
                        log_error(
                                "qemu '%s' has no device '%s'; install qemu-system-x86 7.2 or later",
                                vm->config.qemu_path, needed[i]);
                        failures++;
                }
        return failures;
}

static int render_disk(const struct vm_device *d, size_t i, struct strv *argv) {
        _cleanup_free_ char *file = qopt(d->path), *serial = qopt(d->id);
        int r;

        if (!file || !serial)
                return -ENOMEM;
        r = strv_pushf(argv, "-drive");
        if (r >= 0)
                r = strv_pushf(
                        argv, "file=%s,format=raw,if=none,id=disk%zu%s,cache=%s,aio=threads%s",
                        file, i, d->flags & VMSILO_DEVICE_RO ? ",readonly=on" : "",
                        d->flags & VMSILO_DEVICE_NO_DIRECT ? "writeback" : "none",
                        d->flags & (VMSILO_DEVICE_NO_SPARSE | VMSILO_DEVICE_RO) ? ""
                                                                                : ",discard=unmap");
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_pushf(argv, "virtio-blk-pci,drive=disk%zu%s%s", i, d->id ? ",serial=" : "",
                               serial);
        return r;
}

static int render_net(const struct vm_device *d, size_t i, struct strv *argv) {
        int r;

        /* vhost-net only where the host has it (not on this project's CI machines) */
        const char *vhost = access("/dev/vhost-net", R_OK | W_OK) == 0 ? "on" : "off";

        r = strv_push(argv, "-netdev");
        if (r >= 0 && d->fd >= 0 && !d->name)
                r = strv_pushf(argv, "tap,id=net%zu,fd=%d,vhost=%s", i, d->fd, vhost);
        else if (r >= 0)
                r = strv_pushf(argv, "tap,id=net%zu,ifname=%s,script=no,downscript=no,vhost=%s", i,
                               strempty(d->name), vhost);
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_pushf(argv, "virtio-net-pci,netdev=net%zu%s%s", i, d->mac ? ",mac=" : "",
                               strempty(d->mac));
        return r;
}

static int render_vhost_user(const struct vm_device *d, size_t i, struct strv *argv) {
        int r;

        if (!streq_ptr(d->kind, "fs"))
                return log_error_errno(
                        EOPNOTSUPP,
                        "plugin '%s' declared a vhost-user '%s' device; the qemu backend supports only 'fs'",
                        d->owner, strempty(d->kind));
        _cleanup_free_ char *sock = qopt(d->socket), *tag = qopt(d->tag);

        if (!sock || !tag)
                return -ENOMEM;
        r = strv_push(argv, "-chardev");
        if (r >= 0)
                r = strv_pushf(argv, "socket,id=vhu%zu,path=%s", i, sock);
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_pushf(argv, "vhost-user-fs-pci,chardev=vhu%zu,tag=%s", i, tag);
        return r;
}

/* virgl (OpenGL) on a headless EGL display */
static int render_gpu(const struct vm_device *d, struct strv *argv) {
        _cleanup_free_ char *node = qopt(d->render_node);
        int r;

        if (!node)
                return -ENOMEM;
        r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_push(argv, d->features & VMSILO_GPU_OPENGL ? "virtio-gpu-gl-pci"
                                                                    : "virtio-gpu-pci");
        if (r >= 0 && (d->features & VMSILO_GPU_OPENGL))
                r = strv_push(argv, "-display");
        if (r >= 0 && (d->features & VMSILO_GPU_OPENGL))
                r = strv_pushf(argv, "egl-headless,rendernode=%s", node);
        return r;
}

/* the pulse socket through QEMU's own `pa` audiodev and an HDA codec */
static int render_sound(const struct vm_device *d, struct strv *argv) {
        _cleanup_free_ char *server = qopt(d->server);
        int r;

        if (!server)
                return -ENOMEM;
        r = strv_push(argv, "-audiodev");
        if (r >= 0)
                r = strv_pushf(argv, "pa,id=snd0,server=unix:%s", server);
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_push(argv, "intel-hda");
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_pushf(argv, "%s,audiodev=snd0",
                               d->features & VMSILO_SOUND_CAPTURE ? "hda-duplex" : "hda-output");
        return r;
}

static int render_device(const struct vm_device *d, size_t i, struct strv *argv) {
        const char *bdf;

        switch (d->type) {
        case VMSILO_DEVICE_DISK:
                return render_disk(d, i, argv);
        case VMSILO_DEVICE_NET:
                return render_net(d, i, argv);
        case VMSILO_DEVICE_VHOST_USER:
                return render_vhost_user(d, i, argv);
        case VMSILO_DEVICE_VFIO:
                bdf = strrchr(d->path, '/');
                if (strv_push(argv, "-device") < 0)
                        return -ENOMEM;
                return strv_pushf(argv, "vfio-pci,host=%s", bdf ? bdf + 1 : d->path);
        case VMSILO_DEVICE_GPU:
                return render_gpu(d, argv);
        case VMSILO_DEVICE_SOUND:
                return render_sound(d, argv);
        }
        return -EINVAL;
}

static int render_append(struct vm *vm, struct strv *argv) {
        struct strv params = {};
        char *joined = NULL;
        size_t disk = 0;
        int r = strv_push(&params, "console=ttyS0");

        for (size_t i = 0; r >= 0 && i < vm->desc.n_devices; i++) {
                const struct vm_device *d = &vm->desc.devices[i];

                if (d->type != VMSILO_DEVICE_DISK)
                        continue;
                /* crosvm adds this itself for its root disk */
                if (d->flags & VMSILO_DEVICE_ROOT)
                        r = strv_pushf(&params, "root=/dev/vd%c %s", (char) ('a' + disk),
                                       d->flags & VMSILO_DEVICE_RO ? "ro" : "rw");
                disk++;
        }
        if (r >= 0)
                r = strv_extend(&params, &vm->desc.kernel_params);
        for (size_t i = 0; r >= 0 && i < params.n; i++) {
                char *n = strdup_printf("%s%s%s", strempty(joined), i ? " " : "", params.items[i]);

                free(joined);
                joined = n;
                if (!n)
                        r = -ENOMEM;
        }
        strv_done(&params);
        if (r >= 0)
                r = strv_push(argv, "-append");
        if (r >= 0)
                r = strv_consume(argv, TAKE_PTR(joined));
        free(joined);
        return r;
}

static int render_chardevs(struct vm *vm, struct strv *argv) {
        _cleanup_free_ char *con_path = vm_path(vm, VM_CONSOLE_BACKEND);
        _cleanup_free_ char *agent_path = vm_path(vm, VM_AGENT_SOCKET);
        _cleanup_free_ char *qmp_path = vm_path(vm, VM_CONTROL_SOCKET);
        _cleanup_free_ char *ev_path = vm_path(vm, VM_EVENTS_SOCKET);
        _cleanup_free_ char *con = qopt(con_path), *agent = qopt(agent_path), *qmp = qopt(qmp_path);
        _cleanup_free_ char *ev = qopt(ev_path);
        int r;

        if (!con || !agent || !qmp || !ev)
                return -ENOMEM;
        r = strv_push(argv, "-chardev");
        if (r >= 0)
                r = strv_pushf(argv, "socket,id=con0,path=%s,server=on,wait=off", con);
        if (r >= 0)
                r = strv_push(argv, "-serial");
        if (r >= 0)
                r = strv_push(argv, "chardev:con0");
        if (r >= 0)
                r = strv_push(argv, "-qmp");
        if (r >= 0)
                r = strv_pushf(argv, "unix:%s,server=on,wait=off", qmp);
        if (r >= 0)
                r = strv_push(argv, "-chardev");
        if (r >= 0)
                r = strv_pushf(argv, "socket,id=qmpev,path=%s,server=on,wait=off", ev);
        if (r >= 0)
                r = strv_push(argv, "-mon");
        if (r >= 0)
                r = strv_push(argv, "chardev=qmpev,mode=control");
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_push(argv, "virtio-serial-pci");
        if (r >= 0)
                r = strv_push(argv, "-chardev");
        if (r >= 0)
                r = strv_pushf(argv, "socket,id=agent0,path=%s,server=on,wait=off", agent);
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_push(argv, "virtserialport,chardev=agent0,name=org.vmsilo.agent");
        return r;
}

/* Snapshots: the template's RAM is a file (saved with x-ignore-shared, so the device state
 * is small and a restore maps a copy of the file instead of reading RAM from the stream);
 * the restore waits paused (-S) for its state (-incoming defer); a vmgenid device tells
 * kernels that have its driver to reseed after a restore. */
static int render_snapshot_memory(struct vm *vm, struct strv *argv) {
        const struct vm_snapshot *snap = vm->snapshot;
        _cleanup_free_ char *path = NULL;
        int r;

        if (snap->mode == VM_SNAPSHOT_RESTORE)
                path = strdup_printf("/proc/self/fd/%d", snap->ram_fd);
        else
                path = qopt(snap->ram_path);
        if (!path)
                return -ENOMEM;
        r = strv_pushf(argv, "memory-backend-file,id=mem,size=%lluM,share=on,mem-path=%s",
                       vm->config.memory_mib, path);
        if (r >= 0)
                r = strv_push(argv, "-device");
        if (r >= 0)
                r = strv_push(argv, "vmgenid,guid=auto");
        if (r >= 0 && snap->mode == VM_SNAPSHOT_RESTORE)
                r = strv_push(argv, "-S");
        if (r >= 0 && snap->mode == VM_SNAPSHOT_RESTORE)
                r = strv_push(argv, "-incoming");
        if (r >= 0 && snap->mode == VM_SNAPSHOT_RESTORE)
                r = strv_push(argv, "defer");
        return r;
}

/* vhost-user-fs is not migratable (QEMU 7.2): a restore hot-plugs it after loading. */
static int snapshot_hotplugs(const struct vm *vm, const struct vm_device *d) {
        return vm->snapshot && vm->snapshot->mode == VM_SNAPSHOT_RESTORE &&
               d->type == VMSILO_DEVICE_VHOST_USER;
}

static int qemu_render(struct vm *vm, struct strv *argv) {
        const struct vm_config *c = &vm->config;
        int r;

        r = strv_push(argv, c->qemu_path);
        if (r >= 0)
                r = strv_pushf(argv, "-name");
        if (r >= 0)
                r = strv_pushf(argv, "%s,process=vmsilo-%s", c->name, c->name);
        if (r >= 0)
                r = strv_pushf(argv, "-accel");
        if (r >= 0)
                r = strv_push(argv, vm->accel ? vm->accel : "tcg");
        if (r >= 0)
                r = strv_pushf(argv, "-machine");
        if (r >= 0)
                r = strv_push(argv, c->qemu_machine);
        if (r >= 0)
                r = strv_pushf(argv, "-m");
        if (r >= 0)
                r = strv_pushf(argv, "%lluM", c->memory_mib);
        if (r >= 0)
                r = strv_pushf(argv, "-smp");
        if (r >= 0)
                r = strv_pushf(argv, "%llu", c->cpus);
        {
                static const char *const fixed[] = { "-nodefaults", "-no-user-config", "-display",
                                                     "none", "-no-reboot" };

                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fixed); i++)
                        r = strv_push(argv, fixed[i]);
        }
        /* vhost-user backends need guest RAM they can map */
        if (r >= 0)
                r = strv_push(argv, "-object");
        if (r >= 0 && vm->snapshot)
                r = render_snapshot_memory(vm, argv);
        else if (r >= 0)
                r = strv_pushf(argv, "memory-backend-memfd,id=mem,size=%lluM,share=on",
                               c->memory_mib);
        if (r >= 0)
                r = strv_push(argv, "-numa");
        if (r >= 0)
                r = strv_push(argv, "node,memdev=mem");
        if (r >= 0)
                r = render_chardevs(vm, argv);
        for (size_t i = 0; r >= 0 && i < vm->desc.n_devices; i++)
                if (!snapshot_hotplugs(vm, &vm->desc.devices[i]))
                        r = render_device(&vm->desc.devices[i], i, argv);
        if (r >= 0)
                r = strv_push(argv, "-kernel");
        if (r >= 0)
                r = strv_push(argv, c->kernel);
        if (r >= 0 && c->initrd)
                r = strv_push(argv, "-initrd");
        if (r >= 0 && c->initrd)
                r = strv_push(argv, c->initrd);
        if (r >= 0)
                r = render_append(vm, argv);
        if (r >= 0)
                r = strv_extend(argv, &vm->desc.qemu_args);
        if (r >= 0)
                r = strv_extend(argv, &c->qemu_extra_args);
        return r;
}

static int qemu_request_stop(const char *binary, const char *runtime_dir, int hard) {
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONTROL_SOCKET);
        int r;

        (void) binary;
        if (!sock)
                return -ENOMEM;
        r = qmp_execute(sock, hard ? "quit" : "system_powerdown", 5000);
        if (hard && r == -ECONNRESET)
                return 0; /* quit may close before it answers */
        return r;
}

/* A QMP command built with a printf format whose %s arguments are JSON-quoted first. */
static int qmp_callf(int fd, unsigned timeout_ms, char **ret_reply, const char *fmt, ...)
        _printf_(4, 5);
static int qmp_callf(int fd, unsigned timeout_ms, char **ret_reply, const char *fmt, ...) {
        _cleanup_free_ char *json = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&json, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return qmp_call(fd, json, timeout_ms, ret_reply);
}

static char *json_quoted(const char *s) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        if (!f)
                return NULL;
        json_string(f, s);
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

/* "exec:cat < 'PATH'" or "exec:cat > 'PATH'", JSON-quoted; paths with a quote are refused. */
static char *exec_uri(const char *redirect, const char *path) {
        _cleanup_free_ char *uri = NULL;

        if (strchr(path, '\''))
                return errno = EINVAL, NULL;
        uri = strdup_printf("exec:cat %s '%s'", redirect, path);
        return uri ? json_quoted(uri) : NULL;
}

static const char ignore_shared[] =
        "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": "
        "[{\"capability\": \"x-ignore-shared\", \"state\": true}]}}\n";

/* Polls `query` until the "status" of its reply is none of `busy`; that status in `status`. */
static int qmp_wait_status(int fd, const char *query, const char *const *busy, char *status,
                           size_t size) {
        uint64_t deadline = now_ms() + 60000;

        for (;;) {
                _cleanup_free_ char *reply = NULL;
                int r = qmp_callf(fd, 5000, &reply, "{\"execute\": \"%s\"}\n", query);
                int waiting = 0;

                if (r < 0)
                        return r;
                (void) qmp_reply_status(reply, status, size);
                for (const char *const *b = busy; *b; b++)
                        waiting = waiting || streq(status, *b);
                if (!waiting)
                        return 0;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                sleep_ms(5);
        }
}

static int hotplug_fs(int fd, const struct vm_device *d, size_t i) {
        _cleanup_free_ char *sock = json_quoted(d->socket), *tag = json_quoted(d->tag);
        int r;

        if (!sock || !tag)
                return -ENOMEM;
        r = qmp_callf(fd, 5000, NULL,
                      "{\"execute\": \"chardev-add\", \"arguments\": {\"id\": \"vhu%zu\", "
                      "\"backend\": {\"type\": \"socket\", \"data\": {\"server\": false, "
                      "\"addr\": {\"type\": \"unix\", \"data\": {\"path\": %s}}}}}}\n",
                      i, sock);
        if (r >= 0)
                r = qmp_callf(fd, 5000, NULL,
                              "{\"execute\": \"device_add\", \"arguments\": {\"driver\": "
                              "\"vhost-user-fs-pci\", \"id\": \"fs%zu\", \"chardev\": \"vhu%zu\", "
                              "\"tag\": %s}}\n",
                              i, i, tag);
        return r;
}

/* In the supervisor, once QEMU listens: load the device state, hot-plug what a snapshot
 * cannot hold, run the guest. Logs only at debug: the caller falls back to a cold boot. */
static int qemu_restore(struct vm *vm) {
        static const char *const incoming[] = { "inmigrate", NULL };
        _cleanup_free_ char *sock = vm_path(vm, VM_CONTROL_SOCKET);
        char status[64];
        _cleanup_free_ char *uri = strdup_printf("\"fd:%d\"", vm->snapshot->state_fd);
        _cleanup_close_ int fd = -1;
        uint64_t t0 = now_ms();
        int r;

        if (!sock || !uri)
                return -ENOMEM;
        fd = qmp_open(sock, 10000);
        if (fd < 0)
                return log_debug_errno(fd, "restore: no QMP connection: %m");
        log_debug("restore: QEMU answers after %llu ms", (unsigned long long) (now_ms() - t0));
        r = qmp_call(fd, ignore_shared, 5000, NULL);
        /* the RAM copy ran while QEMU started; device state loads read guest RAM */
        if (r >= 0)
                r = snapshot_ram_wait(vm->snapshot, 30000);
        log_debug("restore: RAM copy complete after %llu ms", (unsigned long long) (now_ms() - t0));
        if (r >= 0)
                r = qmp_callf(fd, 5000, NULL,
                              "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": %s}}\n",
                              uri);
        if (r >= 0)
                r = qmp_wait_status(fd, "query-status", incoming, status, sizeof(status));
        if (r >= 0 && !streq(status, "paused"))
                r = log_debug_errno(EIO, "restore: QEMU is not paused after loading: '%s'", status);
        if (r < 0)
                return log_debug_errno(r, "restore: loading '%s' failed: %m",
                                       vm->snapshot->state_path);
        log_debug("restore: device state loaded in %llu ms", (unsigned long long) (now_ms() - t0));
        for (size_t i = 0; r >= 0 && i < vm->desc.n_devices; i++)
                if (snapshot_hotplugs(vm, &vm->desc.devices[i]))
                        r = hotplug_fs(fd, &vm->desc.devices[i], i);
        if (r < 0)
                return log_debug_errno(r, "restore: hot-plugging virtio-fs failed: %m");
        log_debug("restore: virtio-fs hot-plugged after %llu ms",
                  (unsigned long long) (now_ms() - t0));
        r = qmp_callf(fd, 5000, NULL, "{\"execute\": \"cont\"}\n");
        log_debug("restore: running after %llu ms", (unsigned long long) (now_ms() - t0));
        return r < 0 ? log_debug_errno(r, "restore: 'cont' failed: %m") : 0;
}

/* From outside the supervisor: stop the guest, write its device state to `state_path`
 * (RAM stays in the template's RAM file: x-ignore-shared), and quit. */
static int qemu_save(const char *runtime_dir, const char *state_path) {
        static const char *const migrating[] = { "active", "setup", "device", "pre-switchover",
                                                 NULL };
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONTROL_SOCKET);
        _cleanup_free_ char *uri = exec_uri(">", state_path);
        char status[64] = "";
        _cleanup_close_ int fd = -1;
        int r;

        if (!sock || !uri)
                return -ENOMEM;
        fd = qmp_open(sock, 10000);
        if (fd < 0)
                return fd;
        r = qmp_callf(fd, 5000, NULL, "{\"execute\": \"stop\"}\n");
        if (r >= 0)
                r = qmp_call(fd, ignore_shared, 5000, NULL);
        if (r >= 0)
                r = qmp_callf(fd, 5000, NULL,
                              "{\"execute\": \"migrate\", \"arguments\": {\"uri\": %s}}\n", uri);
        if (r >= 0)
                r = qmp_wait_status(fd, "query-migrate", migrating, status, sizeof(status));
        if (r >= 0 && !streq(status, "completed"))
                r = log_debug_errno(EIO, "save: migration did not complete: '%s'", status);
        log_debug("save: migration '%s'", status);
        (void) qmp_callf(fd, 5000, NULL, "{\"execute\": \"quit\"}\n"); /* may close first */
        return r;
}

/* QEMU opens its QMP socket while it parses options, before it builds the machine; its
 * monitor answers only from the main loop, once the vCPUs run. */
static int qemu_is_up(const char *runtime_dir, unsigned timeout_ms) {
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONTROL_SOCKET);
        _cleanup_free_ char *reply = NULL;
        char status[64];

        if (!sock)
                return -ENOMEM;
        if (qmp_query(sock, "query-status", &reply, timeout_ms) < 0)
                return 0;
        (void) qmp_reply_status(reply, status, sizeof(status));
        if (streq(status, "inmigrate"))
                return VMM_UP_INCOMING;
        return streq(status, "running");
}

static int qemu_resume(const char *binary, const char *runtime_dir) {
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONTROL_SOCKET);

        (void) binary;
        if (!sock)
                return -ENOMEM;
        return qmp_execute(sock, "cont", 5000);
}

static char *qemu_agent_address(const struct vm *vm) {
        return strdup_printf("unix:%s/%s", vm->runtime_dir, VM_AGENT_MUX_SOCKET);
}

const struct backend qemu_backend = {
        .name = "qemu",
        .vmm = VMSILO_VMM_QEMU,
        .console_vmm_listens = 1,
        .agent_via_port = 1,
        .binary = qemu_binary,
        .probe = qemu_probe,
        .preflight = qemu_preflight,
        .render = qemu_render,
        .has = qemu_has,
        .can = qemu_can,
        .check = qemu_check,
        .agent_address = qemu_agent_address,
        .request_stop = qemu_request_stop,
        .restore = qemu_restore,
        .save = qemu_save,
        .is_up = qemu_is_up,
        .resume = qemu_resume,
        .events = 1,
};
