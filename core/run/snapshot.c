/* SPDX-License-Identifier: MIT */
/*
 * Exec templates: a guest booted once to the point where its agent waits for a command,
 * saved (device state + RAM file), and restored by each `exec` into a new VM instead of
 * booting one. Lives in the cache dir (exec-template-HASH/{key,ram,state}, 0700/0600),
 * keyed by everything that shapes it, built once under a lock and published by rename.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/statfs.h>
#include <time.h>

#include "backend/backend.h"
#include "plugin/vm.h"
#include "proto/framer.h"
#include "run/snapshot.h"
#include "run/supervisor.h"
#include "util/log.h"
#include "util/process.h"
#include "util/socket-util.h"
#include "util/state.h"

#define TEMPLATE_FORMAT "vmsilo exec template 1"
#define PAGE 4096

struct snapshot_template {
        char *dir; /* cache/exec-template-HASH */
        char *ram;
        char *state;
        unsigned long long ram_size;
};

struct snapshot_template *snapshot_template_free(struct snapshot_template *t) {
        if (!t)
                return NULL;
        free(t->dir);
        free(t->ram);
        free(t->state);
        free(t);
        return NULL;
}

const char *snapshot_template_dir(const struct snapshot_template *t) {
        return t->dir;
}

static void file_stamp(FILE *f, const char *what, const char *path) {
        struct stat st = {};

        (void) stat(strempty(path), &st);
        fprintf(f, "%s=%s\t%lld %lld.%09ld %llu:%llu\n", what, strempty(path),
                (long long) st.st_size, (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
}

/* Everything that shapes the template, one "name=value" a line. */
static char *template_key(const struct vm *vm, const char *vmm) {
        const struct vm_config *c = &vm->config;
        char *key = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&key, &len);

        if (!f)
                return NULL;
        fprintf(f, "%s\nvmsilo=%s\n", TEMPLATE_FORMAT, VMSILO_VERSION);
        file_stamp(f, "kernel", c->kernel);
        file_stamp(f, "initrd", c->initrd);
        file_stamp(f, "vmm", vmm);
        fprintf(f, "version=%.*s\n", (int) strcspn(strempty(vm->probe_top), "\n"),
                strempty(vm->probe_top));
        fprintf(f, "memory=%llu\ncpus=%llu\nmachine=%s\naccel=%s\n", c->memory_mib, c->cpus,
                strempty(c->qemu_machine), strempty(vm->accel));
        for (size_t i = 0; i < c->kernel_params.n; i++)
                fprintf(f, "kernel-param=%s\n", c->kernel_params.items[i]);
        for (size_t i = 0; i < c->qemu_extra_args.n; i++)
                fprintf(f, "vmm-arg=%s\n", c->qemu_extra_args.items[i]);
        if (fclose(f) != 0) {
                free(key);
                return NULL;
        }
        return key;
}

static uint64_t fnv1a(const char *s) {
        uint64_t h = 1469598103934665603ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

static char *read_text(const char *path, size_t max) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char *buf;
        ssize_t n;

        if (fd < 0)
                return NULL;
        buf = malloc(max + 1);
        n = buf ? read(fd, buf, max) : -1;
        if (n < 0) {
                free(buf);
                return NULL;
        }
        buf[n] = 0;
        return buf;
}

/* 0 when dir holds a complete template for `key` that only `uid` can change. */
static int template_valid(const struct snapshot_template *t, const char *key, uid_t uid) {
        _cleanup_free_ char *path = strdup_printf("%s/key", t->dir);
        _cleanup_free_ char *stored = path ? read_text(path, 65536) : NULL;
        struct stat st;

        if (!stored || !streq(stored, key))
                return -ESTALE;
        if (stat(t->dir, &st) < 0 || st.st_uid != uid || (st.st_mode & 0077))
                return -EPERM;
        if (stat(t->ram, &st) < 0 || !S_ISREG(st.st_mode) ||
            (unsigned long long) st.st_size != t->ram_size)
                return -EBADF;
        if (stat(t->state, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
                return -EBADF;
        return 0;
}

static int remove_tree(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        return rmdir(dir) < 0 && errno != ENOENT ? negative_errno() : 0;
}

/* Zero pages become holes: the template and every copy of it allocate only what the guest
 * uses (init_on_free=1 in the template's guest zeroes what it frees). */
static int punch_zero_pages(const char *path) {
        static const uint8_t zero[PAGE];
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        struct stat st;
        uint8_t *map;
        off_t run = -1;

        if (fd < 0 || fstat(fd, &st) < 0)
                return negative_errno();
        map = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED)
                return negative_errno();
        for (off_t o = 0; o <= st.st_size; o += PAGE) {
                int is_zero = o < st.st_size && memcmp(map + o, zero, PAGE) == 0;

                if (is_zero && run < 0)
                        run = o;
                else if (!is_zero && run >= 0) {
                        (void) fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, run,
                                         o - run);
                        run = -1;
                }
        }
        munmap(map, (size_t) st.st_size);
        return fsync(fd) < 0 ? negative_errno() : 0;
}

/* A connection to the guest agent, for the few commands of a template and a restore. */
struct agent_conn {
        int fd;
        struct framer in;
        char err[512]; /* what the command wrote to stderr, for the reason */
        size_t err_len;
};

static int agent_send(int fd, const uint8_t *buf, int n) {
        if (n < 0)
                return n;
        return send(fd, buf, (size_t) n, MSG_NOSIGNAL) == n ? 0 : negative_errno();
}

/* HELLO until the guest's HELLO: its agent waits for commands. */
static int agent_hello(struct agent_conn *c, uint64_t deadline) {
        struct vmsilo_proto_hello h = { .version = VMSILO_PROTO_VERSION,
                                        .max_payload = VMSILO_PROTO_MAX_PAYLOAD,
                                        .ident = "vmsilo-core",
                                        .ident_len = 11 };
        uint64_t next = 0;

        for (;;) {
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                struct vmsilo_proto_hdr hdr;
                const uint8_t *payload;
                uint8_t frame[128];
                int r;

                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                if (now_ms() >= next) {
                        r = agent_send(c->fd, frame,
                                       vmsilo_proto_encode_hello(frame, sizeof(frame), &h));
                        if (r < 0)
                                return r;
                        next = now_ms() + 500;
                }
                if (poll(&p, 1, 50) <= 0)
                        continue;
                r = framer_read(&c->in, c->fd);
                if (r <= 0)
                        return r == 0 ? -ECONNRESET : r;
                while ((r = framer_next(&c->in, &hdr, &payload)) > 0)
                        if (hdr.type == VMSILO_MSG_HELLO)
                                return 0;
                if (r < 0)
                        return r;
        }
}

/* Runs argv with `input` as its stdin; its exit status, or a negative errno. */
static int agent_command(struct agent_conn *c, const char *const *argv, const void *input,
                         size_t input_len, uint64_t deadline) {
        static uint8_t frame[VMSILO_PROTO_MAX_FRAME];
        struct vmsilo_proto_start st = { .cwd = "/", .user = "", .argv = argv };
        const uint32_t session = 1;
        int r;

        while (argv[st.argc])
                st.argc++;
        r = agent_send(c->fd, frame, vmsilo_proto_encode_start(frame, sizeof(frame), session, &st));
        if (r >= 0 && input_len > 0)
                r = agent_send(c->fd, frame,
                               vmsilo_proto_encode_data(frame, sizeof(frame), session,
                                                        VMSILO_MSG_STDIN, input, input_len));
        if (r >= 0)
                r = agent_send(c->fd, frame,
                               vmsilo_proto_encode_data(frame, sizeof(frame), session,
                                                        VMSILO_MSG_STDIN, NULL, 0));
        while (r >= 0) {
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                struct vmsilo_proto_hdr hdr;
                struct vmsilo_proto_exit e;
                const uint8_t *payload;

                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                if (poll(&p, 1, 50) <= 0)
                        continue;
                r = framer_read(&c->in, c->fd);
                if (r <= 0)
                        return r == 0 ? -ECONNRESET : r;
                while ((r = framer_next(&c->in, &hdr, &payload)) > 0) {
                        if (hdr.session != session)
                                continue;
                        if (hdr.type == VMSILO_MSG_STDERR) {
                                size_t room = sizeof(c->err) - 1 - c->err_len;
                                size_t n = hdr.len < room ? hdr.len : room;

                                memcpy(c->err + c->err_len, payload, n);
                                c->err_len += n;
                                c->err[c->err_len] = 0;
                        }
                        if (hdr.type == VMSILO_MSG_ERROR)
                                return -EPROTO;
                        if (hdr.type != VMSILO_MSG_EXIT)
                                continue;
                        if (vmsilo_proto_decode_exit(payload, hdr.len, &e) < 0)
                                return -EPROTO;
                        return e.kind == VMSILO_EXIT_SIGNAL ? 128 + (int) e.value : (int) e.value;
                }
        }
        return r;
}

static int agent_connect(struct agent_conn *c, const char *address) {
        if (strncmp(address, "unix:", 5) != 0)
                return -EAFNOSUPPORT;
        c->fd = unix_connect(address + 5, 0);
        return c->fd;
}

static void agent_done(struct agent_conn *c) {
        safe_close(c->fd);
}

/* The template's guest: its agent is up. A fresh connection per try, since the VMM may not
 * have its end ready yet. */
static int wait_agent(const char *address, unsigned timeout_s) {
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000;
        struct agent_conn *c = calloc(1, sizeof(*c));
        int r = -ENOMEM;

        while (c) {
                c->fd = -1;
                r = agent_connect(c, address);
                if (r >= 0)
                        r = agent_hello(c, deadline);
                agent_done(c);
                if (r >= 0 || now_ms() >= deadline)
                        break;
                sleep_ms(100);
        }
        free(c);
        return r;
}

/* Mounts: "TAG MOUNTPOINT ro|rw" each; the device was just hot-plugged, so each mount is
 * retried until the guest has probed it. */
static const char resume_script[] =
        "vmsilo-resume \"$1\" || exit 1; shift; n=$#; i=0; "
        /* the devices were just hot-plugged: wait (no fork, so the guest's CPUs probe
         * them instead of starting processes) until the driver has all of them */
        "bound() { set -- /sys/bus/virtio/drivers/virtiofs/virtio*; [ -e \"$1\" ] && [ $# -ge $n ]; }; "
        "until bound; do i=$((i + 1)); [ $i -lt 3000000 ] || { echo 'no virtio-fs device' >&2; exit 1; }; done; "
        "for m in \"$@\"; do set -- $m; mkdir -p \"$2\"; i=0; "
        "until mount -t virtiofs -o \"$3\" \"$1\" \"$2\"; do "
        "i=$((i + 1)); [ $i -lt 100 ] || { echo \"cannot mount '$1' on '$2'\" >&2; exit 1; }; "
        "usleep 10000; done; done";

int snapshot_resume_guest(const char *address, char *const *mounts, unsigned timeout_s,
                          char **ret_why) {
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000;
        struct agent_conn *c = calloc(1, sizeof(*c));
        struct strv argv = {};
        uint8_t seed[64];
        struct timespec ts;
        int r;

        if (!c)
                return -ENOMEM;
        c->fd = -1;
        r = strv_push(&argv, "/bin/sh");
        if (r >= 0)
                r = strv_push(&argv, "-c");
        if (r >= 0)
                r = strv_push(&argv, resume_script);
        if (r >= 0)
                r = strv_push(&argv, "sh");
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        if (r >= 0)
                r = strv_pushf(&argv, "%lld.%09ld", (long long) ts.tv_sec, ts.tv_nsec);
        for (size_t i = 0; r >= 0 && mounts && mounts[i]; i++)
                r = strv_push(&argv, mounts[i]);
        if (r >= 0 && getrandom(seed, sizeof(seed), 0) != sizeof(seed))
                r = negative_errno();
        if (r >= 0)
                r = agent_connect(c, address);
        if (r >= 0)
                r = agent_hello(c, deadline);
        log_debug("restore: the guest's agent answered: %d", r);
        if (r >= 0)
                r = agent_command(c, (const char *const *) argv.items, seed, sizeof(seed),
                                  deadline);
        log_debug("restore: the guest's set-up ended: %d", r);
        explicit_bzero(seed, sizeof(seed));
        if (r != 0 && ret_why) {
                c->err[strcspn(c->err, "\n")] = 0;
                if (r > 0)
                        *ret_why = strdup_printf(
                                "the restored guest's set-up failed (status %d): %s", r, c->err);
                else
                        *ret_why = strdup_printf("the restored guest's agent: %s", strerror(-r));
        }
        agent_done(c);
        free(c);
        strv_done(&argv);
        return r > 0 ? -EIO : r;
}

static struct snapshot_template *template_new(const char *cache_dir, const char *key,
                                              unsigned long long memory_mib) {
        struct snapshot_template *t = calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        t->dir = strdup_printf("%s/exec-template-%016llx", cache_dir,
                               (unsigned long long) fnv1a(key));
        t->ram = strdup_printf("%s/ram", strempty(t->dir));
        t->state = strdup_printf("%s/state", strempty(t->dir));
        t->ram_size = memory_mib << 20;
        if (!t->dir || !t->ram || !t->state)
                return snapshot_template_free(t);
        return t;
}

static int write_key(const char *dir, const char *key) {
        _cleanup_free_ char *path = strdup_printf("%s/key", dir);
        _cleanup_close_ int fd = -1;
        size_t n = strlen(key);

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        return write(fd, key, n) == (ssize_t) n && fsync(fd) == 0 ? 0 : negative_errno();
}

/* Templates of the same kernel path with another key are stale: removed. */
static void prune_stale(const char *cache_dir, const struct snapshot_template *t, const char *key) {
        const char *kline = strstr(key, "\nkernel=");
        size_t klen = kline ? strcspn(kline + 1, "\t") + 1 : 0;
        DIR *d = opendir(cache_dir);
        struct dirent *de;

        if (!d || !kline) {
                if (d)
                        closedir(d);
                return;
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *dir = NULL, *kpath = NULL, *other = NULL;

                if (strncmp(de->d_name, "exec-template-", 14) != 0 || strchr(de->d_name, '.'))
                        continue;
                dir = strdup_printf("%s/%s", cache_dir, de->d_name);
                kpath = strdup_printf("%s/key", strempty(dir));
                other = kpath ? read_text(kpath, 65536) : NULL;
                if (!dir || !other || streq(dir, t->dir) || !strstr(other, "\nkernel="))
                        continue;
                if (strncmp(strstr(other, "\nkernel="), kline, klen) == 0) {
                        log_debug("removing the stale exec template '%s'", dir);
                        (void) remove_tree(dir);
                }
        }
        closedir(d);
}

/* Boots the template VM, waits for its agent, saves it into DIR.tmp, then publishes. */
static int template_build(const struct settings *s, const char *template_vm,
                          const struct backend *b, const struct snapshot_template *t,
                          const char *key, char **ret_why) {
        _cleanup_free_ char *tmp = strdup_printf("%s.tmp", t->dir);
        _cleanup_free_ char *ram = strdup_printf("%s.tmp/ram", t->dir);
        _cleanup_free_ char *state = strdup_printf("%s.tmp/state", t->dir);
        _cleanup_free_ char *run = settings_runtime_dir(s, template_vm), *addr = NULL;
        struct vm_snapshot snap = { .mode = VM_SNAPSHOT_SAVE,
                                    .ram_path = ram,
                                    .ram_fd = -1,
                                    .state_fd = -1,
                                    .ram_ready_fd = -1 };
        struct start_options so = { .stop_timeout_s = 10, .up_timeout_s = 60, .snapshot = &snap };
        uint64_t t0 = now_ms();
        int r;

        if (!tmp || !ram || !state || !run)
                return -ENOMEM;
        (void) remove_tree(tmp);
        if (mkdir(tmp, 0700) < 0) {
                r = negative_errno();
                *ret_why = strdup_printf("cannot create '%s': %s", tmp, strerror(-r));
                return r;
        }
        if (vm_start(s, template_vm, &so) != 0) {
                *ret_why = strdup("the template VM did not start");
                (void) remove_tree(tmp);
                return -EIO;
        }
        addr = vm_agent_address(run);
        r = addr ? wait_agent(addr, 120) : -ENOENT;
        if (r < 0)
                *ret_why = strdup_printf("the template's agent did not answer: %s", strerror(-r));
        if (r >= 0) {
                r = b->save(run, state);
                if (r < 0)
                        *ret_why = strdup_printf("saving the template failed: %s", strerror(-r));
        }
        /* the VMM quits after a save: let its supervisor undo, then make sure */
        for (uint64_t end = now_ms() + 10000; state_is_running(run) > 0 && now_ms() < end;)
                sleep_ms(10);
        if (access(run, F_OK) == 0)
                (void) vm_stop(s, template_vm, 10);
        if (r >= 0)
                r = punch_zero_pages(ram);
        if (r >= 0 && (chmod(ram, 0600) < 0 || chmod(state, 0600) < 0))
                r = negative_errno();
        if (r >= 0)
                r = write_key(tmp, key);
        if (r >= 0)
                (void) remove_tree(t->dir);
        if (r >= 0 && rename(tmp, t->dir) < 0)
                r = negative_errno();
        if (r < 0) {
                if (!*ret_why)
                        *ret_why = strdup_printf("writing the template failed: %s", strerror(-r));
                (void) remove_tree(tmp);
                return r;
        }
        log_info("built the exec template '%s' in %llu ms", t->dir,
                 (unsigned long long) (now_ms() - t0));
        return 0;
}

static int template_lock(const struct snapshot_template *t) {
        _cleanup_free_ char *path = strdup_printf("%s.lock", t->dir);
        int fd;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_EX) < 0) {
                safe_close(fd);
                return negative_errno();
        }
        return fd;
}

/* The template VM's key, once its VMM is probed; 0 and NULL key when it cannot snapshot. */
static int open_key(const struct settings *s, const char *template_vm, char **ret_key,
                    const struct backend **ret_backend, unsigned long long *ret_memory,
                    char **ret_why) {
        _cleanup_free_ char *vmm = NULL;
        struct vm vm;
        int r;

        *ret_key = NULL;
        r = vm_open(&vm, s, template_vm);
        if (r >= 0 && (!vm.backend->save || !vm.backend->restore)) {
                *ret_why = strdup_printf("%s has no snapshots", vm.backend->name);
                vm_close(&vm);
                return 0;
        }
        if (r >= 0)
                r = backend_has(&vm, "vmgenid");
        if (r == 0)
                *ret_why = strdup_printf("'%s' has no 'vmgenid' device", vm.config.qemu_path);
        if (r > 0) {
                vmm = find_binary(vm.backend->binary(&vm));
                *ret_key = vmm ? template_key(&vm, vmm) : NULL;
                *ret_backend = vm.backend;
                *ret_memory = vm.config.memory_mib;
                r = *ret_key ? 0 : -ENOMEM;
        }
        vm_close(&vm);
        return r;
}

int snapshot_template_get(const struct settings *s, const char *template_vm, int build,
                          struct snapshot_template **ret, char **ret_why) {
        _cleanup_free_ char *key = NULL;
        struct snapshot_template *t;
        const struct backend *b = NULL;
        unsigned long long memory = 0;
        int r, lock;

        *ret = NULL;
        r = open_key(s, template_vm, &key, &b, &memory, ret_why);
        if (r < 0 || !key)
                return r < 0 && !*ret_why
                               ? (*ret_why = strdup("the template VM's configuration"), r)
                               : r;
        t = template_new(s->cache_dir, key, memory);
        if (!t)
                return -ENOMEM;
        r = template_valid(t, key, s->uid);
        if (r < 0 && build) {
                (void) mkdir(s->cache_dir, 0700);
                lock = template_lock(t);
                r = lock < 0 ? lock : template_valid(t, key, s->uid);
                if (lock >= 0 && r < 0) {
                        log_notice("building the exec template '%s'", t->dir);
                        r = template_build(s, template_vm, b, t, key, ret_why);
                        if (r >= 0)
                                prune_stale(s->cache_dir, t, key);
                }
                safe_close(lock);
        }
        if (r < 0) {
                if (!*ret_why)
                        *ret_why = strdup_printf("no usable template in '%s'", t->dir);
                snapshot_template_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

void snapshot_template_discard(struct snapshot_template *t) {
        int lock = template_lock(t);

        (void) remove_tree(t->dir);
        safe_close(lock);
}

static int on_tmpfs(const char *dir) {
        struct statfs sf;

        return statfs(dir, &sf) == 0 && (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
}

/* Copies the data extents of `in` (the template's holes stay holes). */
static int copy_sparse(int in, int out, off_t size) {
        uint8_t *map = mmap(NULL, (size_t) size, PROT_READ, MAP_SHARED, in, 0);
        off_t data, hole = 0;
        int r = 0;

        if (map == MAP_FAILED)
                return negative_errno();
        (void) madvise(map, (size_t) size, MADV_SEQUENTIAL);
        while (r >= 0 && (data = lseek(in, hole, SEEK_DATA)) >= 0) {
                hole = lseek(in, data, SEEK_HOLE);
                if (hole < 0)
                        hole = size;
                for (off_t o = data; r >= 0 && o < hole;) {
                        ssize_t n = pwrite(out, map + o, (size_t) (hole - o), o);

                        if (n <= 0)
                                r = n < 0 ? negative_errno() : -EIO;
                        o += n > 0 ? n : 0;
                }
        }
        if (r >= 0 && errno != ENXIO)
                r = negative_errno();
        munmap(map, (size_t) size);
        return r;
}

/* In a child, so that the copy runs while the VM starts: 1 byte on `done` when complete. */
static pid_t start_copy(int in, int out, off_t size, int *ret_ready) {
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return negative_errno();
        }
        if (pid == 0) {
                uint64_t t0 = now_ms();
                struct stat st;

                safe_close(p[0]);
                errno = 0;
                if (copy_sparse(in, out, size) < 0)
                        _exit(1);
                if (fstat(out, &st) == 0)
                        log_debug("restore: private RAM copy, %lld KiB allocated, %llu ms",
                                  (long long) st.st_blocks / 2,
                                  (unsigned long long) (now_ms() - t0));
                _exit(write(p[1], "1", 1) == 1 ? 0 : 1);
        }
        safe_close(p[1]);
        *ret_ready = p[0];
        return pid;
}

/* 1 if the file system of `dir` has room for `bytes` more. */
static int has_room(const char *dir, unsigned long long bytes) {
        struct statvfs sv;

        return statvfs(dir, &sv) == 0 &&
               (unsigned long long) sv.f_bavail * sv.f_frsize >= bytes + bytes / 8;
}

int snapshot_restore_plan(const struct snapshot_template *t, const char *tmp_dir,
                          struct vm_snapshot *ret) {
        _cleanup_close_ int in = open(t->ram, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_close_ int state = open(t->state, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_close_ int out = -1;
        const char *dir = "/dev/shm";
        struct stat st;
        int ready = -1;
        pid_t pid;

        if (in < 0 || state < 0 || fstat(in, &st) < 0)
                return negative_errno();
        /* the runtime dir when it is a tmpfs with room for what the template allocated (a
         * small /run would fail the copy half-way), else /dev/shm */
        if (tmp_dir && on_tmpfs(tmp_dir) &&
            has_room(tmp_dir, (unsigned long long) st.st_blocks * 512))
                dir = tmp_dir;
        out = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (out < 0)
                return negative_errno();
        if ((unsigned long long) st.st_size != t->ram_size)
                return -EBADF;
        if (ftruncate(out, st.st_size) < 0)
                return negative_errno();
        pid = start_copy(in, out, st.st_size, &ready);
        if (pid < 0)
                return pid;
        *ret = (struct vm_snapshot){
                .mode = VM_SNAPSHOT_RESTORE,
                .ram_fd = TAKE_FD(out),
                .state_fd = TAKE_FD(state),
                .state_path = t->state,
                .ram_ready_fd = ready,
                .copier = pid,
        };
        return 0;
}

void snapshot_restore_plan_done(struct vm_snapshot *plan) {
        plan->ram_fd = safe_close(plan->ram_fd);
        plan->state_fd = safe_close(plan->state_fd);
        plan->ram_ready_fd = safe_close(plan->ram_ready_fd);
        if (plan->copier > 0)
                (void) process_stop(plan->copier, 0, 1000);
        plan->copier = 0;
}
