/* SPDX-License-Identifier: MIT */
/*
 * Run in the guest by share-attack.sh (built static on the host): the attacks that busybox
 * cannot make. `share-attack-tool DIR` tries, in DIR (a virtio-fs share):
 *   socket   bind() a unix socket (FUSE MKNOD with S_IFSOCK)
 *   creat-suid  open(O_CREAT) with mode 04755
 *   tmpfile-sgid  open(O_TMPFILE) with mode 02755, then linkat() it in
 *   fcap     setxattr(security.capability) granting cap_setuid to a file
 * and prints "NAME rc=0" (it worked) or "NAME rc=1 (error)" for each.
 * `share-attack-tool --fcaps DIR`, on the host: prints every file below DIR that has a
 * security.capability attribute.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

static void report(const char *name, int ok) {
        if (ok)
                printf("%s rc=0\n", name);
        else
                printf("%s rc=1 (%s)\n", name, strerror(errno));
}

static int try_socket(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0), r;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "sock");
        r = fd >= 0 && bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
        if (fd >= 0)
                close(fd);
        return r;
}

static int try_creat_suid(void) {
        int fd = open("creat-suid", O_CREAT | O_WRONLY | O_EXCL, 04755);

        if (fd < 0)
                return 0;
        close(fd);
        return 1;
}

static int try_tmpfile_sgid(void) {
        char path[64];
        int fd = open(".", O_TMPFILE | O_WRONLY, 02755), r;

        if (fd < 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        r = linkat(AT_FDCWD, path, AT_FDCWD, "tmpfile-sgid", AT_SYMLINK_FOLLOW) == 0;
        close(fd);
        return r;
}

static int try_fcap(void) {
        /* struct vfs_cap_data, revision 2: permitted and inheritable of cap_setuid (7) */
        uint32_t cap[5] = { 0x02000000 | 1 /* VFS_CAP_REVISION_2 | EFFECTIVE */, 1u << 7, 0, 0, 0 };
        int fd = open("fcap", O_CREAT | O_WRONLY, 0755);

        if (fd < 0)
                return 0;
        close(fd);
        return setxattr("fcap", "security.capability", cap, sizeof(cap), 0) == 0;
}

static int print_fcap(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st;
        (void) type;
        (void) ftw;
        if (lgetxattr(path, "security.capability", NULL, 0) >= 0)
                printf("%s\n", path);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "--fcaps") == 0)
                return nftw(argv[2], print_fcap, 16, FTW_PHYS) == 0 ? 0 : 2;
        if (argc != 2 || chdir(argv[1]) < 0) {
                fprintf(stderr, "usage: share-attack-tool DIR\n");
                return 2;
        }
        report("socket", try_socket());
        report("creat-suid", try_creat_suid());
        report("tmpfile-sgid", try_tmpfile_sgid());
        report("fcap", try_fcap());
        return 0;
}
