/* SPDX-License-Identifier: MIT */
/*
 * virtiofs-launch: starts one virtiofsd so that nothing the guest does through the share can
 * leave a file on the host that gives anyone more than the VM's user has. Run by the
 * virtiofs plugin (as the helper's argv[0]), as root for root's VMs or as the VM's user:
 *
 *   virtiofs-launch --share=NAME --path=DIR --vm-uid=U --vm-gid=G --root=EMPTYDIR
 *                   [--read-only] -- VIRTIOFSD ARGS...
 *
 * 1. opens DIR one component at a time without following symlinks (a symlinked component
 *    is refused) and checks that it is a directory owned by U or root;
 * 2. raises RLIMIT_NOFILE while it still may (the virtiofsd gets --rlimit-nofile=0);
 * 3. becomes U/G (when started as root for a VM of another user) and enters a new user
 *    namespace whose only ids are 0 -> U and 0 -> G, and a mount namespace of its own: the
 *    virtiofsd is "root" there but holds no capability over any other host id, so it cannot
 *    chown a file to another user, make a device node, or act on other users' files;
 * 4. bind-mounts the fd checked in (1) on EMPTYDIR (the whole tree read-only for
 *    --read-only), in that
 *    private mount namespace only: the virtiofsd exports exactly the checked directory,
 *    whatever happens to DIR's path afterwards, and the host's mount table never sees it;
 * 5. installs a seccomp filter that fails with EPERM every mknod (devices, FIFOs, sockets)
 *    and every chmod, open(O_CREAT) or mkdir whose mode has the set-uid or set-gid bit;
 *    seccomp filters stack, so the virtiofsd's own filter cannot lift it (and, for a user
 *    with supplementary groups, which cannot be dropped here, setgroups() does nothing);
 * 6. execs VIRTIOFSD ARGS (which name EMPTYDIR as the shared directory).
 *
 * `virtiofs-launch --probe -- VIRTIOFSD --help` only makes setgroups() a no-op (as in 5) for
 * a user with supplementary groups, so that the C virtiofsd prints its help.
 *
 * Errors go to stderr (the core logs a helper's stderr) and exit with status 1.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../safedir.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "virtiofs-launch: add this architecture's AUDIT_ARCH_ value"
#endif

#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#define SETID_BITS (S_ISUID | S_ISGID)
#define CREATE_FLAGS (O_CREAT | (O_TMPFILE & ~O_DIRECTORY))
#define NOFILE_WANTED 1000000

struct options {
        const char *share, *path, *root, *private_run;
        uint32_t vm_uid, vm_gid;
        int read_only, probe;
        char **argv;
};

static const char *share_name = "?";

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "virtiofs-launch: share '%s': ", share_name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static uint32_t parse_id(const char *s) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || end == s || v >= 0xffffffffUL)
                die("invalid id '%s'", s);
        return (uint32_t) v;
}

static void parse(int argc, char **argv, struct options *o) {
        int i;

        for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
                const char *a = argv[i];

                if (strncmp(a, "--share=", 8) == 0)
                        share_name = o->share = a + 8;
                else if (strncmp(a, "--path=", 7) == 0)
                        o->path = a + 7;
                else if (strncmp(a, "--root=", 7) == 0)
                        o->root = a + 7;
                else if (strncmp(a, "--vm-uid=", 9) == 0)
                        o->vm_uid = parse_id(a + 9);
                else if (strncmp(a, "--vm-gid=", 9) == 0)
                        o->vm_gid = parse_id(a + 9);
                else if (strncmp(a, "--private-run=", 14) == 0)
                        o->private_run = a + 14;
                else if (strcmp(a, "--read-only") == 0)
                        o->read_only = 1;
                else if (strcmp(a, "--probe") == 0)
                        o->probe = 1;
                else
                        die("unknown option '%s'", a);
        }
        if ((!o->probe && (!o->share || !o->path || !o->root)) || i + 1 >= argc)
                die("usage: virtiofs-launch --share=NAME --path=DIR --vm-uid=U --vm-gid=G --root=DIR [--read-only] -- VIRTIOFSD ARGS...");
        o->argv = argv + i + 1;
}

/* Step 1: the directory, symlink-free, owned by the VM's user or root. */
static int open_share(const struct options *o, struct stat *st, int check_owner) {
        char *component = NULL, *owner;
        int fd = -1, r;

        r = safedir_open(o->path, &fd, &component);
        if (r == -ELOOP)
                die("component '%s' of '%s' is a symlink: share the directory it points to",
                    component, o->path);
        if (r < 0)
                die("cannot open '%s'%s%s%s: %s", o->path, component ? " at '" : "",
                    component ? component : "", component ? "'" : "", strerror(-r));
        if (fstat(fd, st) < 0)
                die("cannot stat '%s': %m", o->path);
        if (check_owner && !safedir_owner_ok(st->st_uid, o->vm_uid)) {
                owner = safedir_user_name(st->st_uid);
                die("directory '%s' is owned by '%s' (uid %u), not by the VM's user (uid %u) or root: refusing to share it",
                    o->path, owner ? owner : "?", (unsigned) st->st_uid, (unsigned) o->vm_uid);
        }
        free(component);
        return fd;
}

/* Step 2: only root may raise the hard limit, and only before step 3. */
static void raise_nofile(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        if (geteuid() == 0 && rl.rlim_max < NOFILE_WANTED)
                rl.rlim_max = NOFILE_WANTED;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static void write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        size_t n = strlen(text);

        if (fd < 0 || write(fd, text, n) != (ssize_t) n)
                die("cannot write '%s' to %s: %m", text, path);
        close(fd);
}

/* Step 3. */
static void enter_namespaces(const struct options *o) {
        struct stat st;
        uid_t uid;
        gid_t gid;
        char map[64];

        if (geteuid() == 0) {
                if (setgroups(0, NULL) < 0)
                        die("cannot drop supplementary groups: %m");
                if (setresgid(o->vm_gid, o->vm_gid, o->vm_gid) < 0 ||
                    setresuid(o->vm_uid, o->vm_uid, o->vm_uid) < 0)
                        die("cannot become uid %u gid %u: %m", (unsigned) o->vm_uid,
                            (unsigned) o->vm_gid);
                /* changing ids made us non-dumpable: /proc/self/uid_map would stay root's */
                if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
                        die("cannot set dumpable: %m");
        }
        uid = geteuid();
        gid = getegid();
        if (uid != o->vm_uid)
                die("runs as uid %u, but the VM's user is uid %u", (unsigned) uid,
                    (unsigned) o->vm_uid);
        /* the mount point, in the VM's runtime dir (which only the VM's user or root can
         * write), empty on the host: the bind mount exists in our namespace only */
        if (mkdir(o->root, 0700) < 0 && errno != EEXIST)
                die("cannot create '%s': %m", o->root);
        if (lstat(o->root, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid)
                die("'%s' is not a directory of uid %u", o->root, (unsigned) uid);
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                die("cannot create a user and mount namespace: %m");
        write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof(map), "0 %u 1", (unsigned) uid);
        write_file("/proc/self/uid_map", map);
        snprintf(map, sizeof(map), "0 %u 1", (unsigned) gid);
        write_file("/proc/self/gid_map", map);
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                die("cannot become root of the user namespace: %m");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("cannot make the mounts private: %m");
}

/* The flags a remount must keep (a user namespace may not clear locked ones). */
static unsigned long kept_flags(const char *path) {
        static const struct {
                unsigned long st, ms;
        } map[] = { { ST_NOSUID, MS_NOSUID },         { ST_NODEV, MS_NODEV },
                    { ST_NOEXEC, MS_NOEXEC },         { ST_NOATIME, MS_NOATIME },
                    { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME } };
        struct statvfs sv;
        unsigned long f = 0;

        if (statvfs(path, &sv) < 0)
                return 0;
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
                if (sv.f_flag & map[i].st)
                        f |= map[i].ms;
        return f;
}

/* The whole bound tree read-only (mounts below the directory too); before Linux 5.12, only
 * the top: mounts below are then unbound again, not exported writable. */
static void make_read_only(const struct options *o) {
        struct {
                uint64_t attr_set, attr_clr, propagation, userns_fd;
        } attr = { .attr_set = 0x1 /* MOUNT_ATTR_RDONLY */ };
        char src[64];
        int fd;

        if (syscall(__NR_mount_setattr, AT_FDCWD, o->root, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
                return;
        if (errno != ENOSYS)
                die("cannot make '%s' read-only: %m", o->path);
        fd = open(o->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || umount2(o->root, MNT_DETACH) < 0)
                die("cannot make '%s' read-only: %m", o->path);
        snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
        if (mount(src, o->root, NULL, MS_BIND, NULL) < 0 ||
            mount(NULL, o->root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(o->root),
                  NULL) < 0)
                die("cannot make '%s' read-only: %m", o->path);
        close(fd);
}

/* Step 4. A mount of another mount namespace cannot be bound, so the directory is opened
 * again, as in step 1, and must be the very inode that step 1 checked. */
static void bind_share(const struct options *o, const struct stat *want) {
        char src[64];
        struct stat st;
        int rfd, fd;

        fd = open_share(o, &st, 0);
        if (st.st_dev != want->st_dev || st.st_ino != want->st_ino)
                die("'%s' changed while it was being checked", o->path);
        snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
        if (mount(src, o->root, NULL, MS_BIND | MS_REC, NULL) < 0)
                die("cannot bind '%s' on '%s': %m", o->path, o->root);
        if (o->read_only)
                make_read_only(o);
        rfd = open(o->root, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0 || fstat(rfd, &st) < 0 || st.st_dev != want->st_dev ||
            st.st_ino != want->st_ino)
                die("'%s' is not the directory that was checked after binding it", o->root);
        close(rfd);
        close(fd);
        if (chdir("/") < 0)
                die("chdir /: %m");
}

static void mkdir_p(char *path) {
        for (char *p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                (void) mkdir(path, 0755);
                *p = '/';
        }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                die("cannot create '%s' in the private /run: %m", path);
}

/* The C virtiofsd writes a lock file in /var/run/virtiofsd, which only root may create: it
 * gets a tmpfs of its own on /run, with the directory of its socket (SOCKDIR) bound back in
 * when it lies below. The lock file vanishes with the namespace. */
static void private_run(const char *sockdir) {
        char run[PATH_MAX], dir[PATH_MAX], src[64], lockdir[PATH_MAX + 16];
        size_t n;
        int keep = -1;

        if (!realpath("/var/run", run) || !realpath(sockdir, dir))
                die("cannot resolve /var/run or '%s': %m", sockdir);
        n = strlen(run);
        if (strncmp(dir, run, n) == 0 && (dir[n] == '/' || dir[n] == '\0')) {
                keep = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (keep < 0)
                        die("cannot open '%s': %m", dir);
        }
        if (mount("tmpfs", run, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0)
                die("cannot mount a private tmpfs on '%s': %m", run);
        if (keep >= 0) {
                mkdir_p(dir);
                snprintf(src, sizeof(src), "/proc/self/fd/%d", keep);
                if (mount(src, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
                        die("cannot bind '%s' into the private /run: %m", dir);
                close(keep);
        }
        snprintf(lockdir, sizeof(lockdir), "%s/virtiofsd", run);
        mkdir_p(lockdir);
}

#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LOAD_ARG(n) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[n]))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define DENY SECCOMP_RET_ERRNO | EPERM
#define ALLOW SECCOMP_RET_ALLOW
/* if nr == NR: check the mode in argument `arg` (setid bits: EPERM) */
#define MODE_CHECK(nr, arg)                                             \
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 3), LOAD_ARG(arg), \
                BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SETID_BITS, 0, 1), RET(DENY)
/* if nr == NR and flags (argument `farg`) create a file: check its mode (argument `marg`) */
#define CREATE_CHECK(nr, farg, marg)                                                      \
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 5), LOAD_ARG(farg),                  \
                BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CREATE_FLAGS, 0, 3), LOAD_ARG(marg), \
                BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SETID_BITS, 0, 1), RET(DENY)
#define RELOAD_NR LOAD_NR

/* Step 5. After a MODE_CHECK/CREATE_CHECK that did not deny, the accumulator holds an
 * argument: each check is followed by LOAD_NR again. */
static void install_filter(int fake_setgroups) {
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
                RET(SECCOMP_RET_ERRNO | ENOSYS),
                LOAD_NR,
                /* a user's supplementary groups cannot be dropped in a user namespace made
                 * without privileges, and the C virtiofsd exits when setgroups() fails: it
                 * keeps them (the VM's user has them anyway), and setgroups() "succeeds" */
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setgroups, 0, 1),
                RET(fake_setgroups ? SECCOMP_RET_ERRNO | 0 : ALLOW),
#ifdef __NR_mknod
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mknod, 0, 1),
                RET(DENY),
#endif
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mknodat, 0, 1),
                RET(DENY),
                /* openat2's mode is in a struct seccomp cannot read: make callers use openat */
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
                RET(SECCOMP_RET_ERRNO | ENOSYS),
                MODE_CHECK(__NR_fchmod, 1),
                RELOAD_NR,
                MODE_CHECK(__NR_fchmodat, 2),
                RELOAD_NR,
                MODE_CHECK(__NR_fchmodat2, 2),
                RELOAD_NR,
                MODE_CHECK(__NR_mkdirat, 2),
                RELOAD_NR,
                CREATE_CHECK(__NR_openat, 2, 3),
                RELOAD_NR,
#ifdef __NR_chmod
                MODE_CHECK(__NR_chmod, 1),
                RELOAD_NR,
                MODE_CHECK(__NR_mkdir, 1),
                RELOAD_NR,
                MODE_CHECK(__NR_creat, 1),
                RELOAD_NR,
                CREATE_CHECK(__NR_open, 1, 2),
                RELOAD_NR,
#endif
                RET(ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                die("cannot set no_new_privs: %m");
        if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                die("cannot install the seccomp filter: %m");
}

int main(int argc, char **argv) {
        struct options o = {};
        struct stat st;
        int fd;

        parse(argc, argv, &o);
        if (o.probe) {
                install_filter(getgroups(0, NULL) > 0 && geteuid() != 0);
                execvp(o.argv[0], o.argv);
                die("cannot run '%s': %m", o.argv[0]);
        }
        fd = open_share(&o, &st, 1);
        close(fd);
        raise_nofile();
        enter_namespaces(&o);
        bind_share(&o, &st);
        if (o.private_run)
                private_run(o.private_run);
        install_filter(getgroups(0, NULL) > 0);
        execvp(o.argv[0], o.argv);
        die("cannot run '%s': %m", o.argv[0]);
}
