/* Root and overlay: root= read-only as the lower layer, a tmpfs or a freshly made ext2
 * file system on the disk with the given serial as the upper one, overlayfs at SYSROOT.
 * PID 1 stays in the initramfs; commands are chrooted into SYSROOT (see
 * docs/guest-protocol.md, "Root file system"). */
#include "setup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define LOWER "/run/vmsilo/lower"
#define UPPERFS "/run/vmsilo/upper"
#define DEVICE_WAIT_MS 5000

static int wait_for_path(const char *path) {
        long long deadline = now_ms() + DEVICE_WAIT_MS;

        while (access(path, F_OK) < 0) {
                if (now_ms() > deadline)
                        return -ENODEV;
                usleep(10000);
        }
        return 0;
}

/* The ext2/3/4 magic: the ext4 driver mounts all three without trying the others (each
 * failed guess logs a kernel error on the console). */
static int is_ext(const char *dev) {
        unsigned char magic[2];
        int fd = open(dev, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return 0;
        n = pread(fd, magic, sizeof(magic), 1080);
        close(fd);
        return n == 2 && magic[0] == 0x53 && magic[1] == 0xef;
}

/* Mounts dev as ext4 if it is one, else tries every block file system the kernel knows. */
static int mount_block(const char *dev, const char *where, unsigned long flags) {
        char types[4096], *line, *save = NULL;
        int r = -ENODEV;

        if (mkdir_p(where, 0755) < 0)
                return -EIO;
        if (is_ext(dev))
                return mount(dev, where, "ext4", flags, NULL) < 0 ? -errno : 0;
        if (read_small_file("/proc/filesystems", types, sizeof(types)) < 0)
                return -EIO;
        for (line = strtok_r(types, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "nodev", 5) == 0)
                        continue;
                while (*line == '\t' || *line == ' ')
                        line++;
                if (mount(dev, where, line, flags, NULL) == 0)
                        return 0;
                if (errno != EINVAL && errno != ENODEV)
                        r = -errno;
        }
        return r;
}

static int find_serial(const char *serial, char *dev, size_t size) {
        DIR *d = opendir("/sys/block");
        struct dirent *de;
        int r = -ENODEV;

        if (!d)
                return -errno;
        while (r < 0 && (de = readdir(d))) {
                char path[512], value[128];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/serial", de->d_name);
                if (read_small_file(path, value, sizeof(value)) < 0 || strcmp(value, serial) != 0)
                        continue;
                snprintf(dev, size, "/dev/%s", de->d_name);
                r = 0;
        }
        closedir(d);
        return r;
}

static int raw_upper(const char *serial) {
        long long deadline = now_ms() + DEVICE_WAIT_MS;
        char dev[300];
        /* 4 KiB blocks and an inode per 64 KiB: the inode tables, which mke2fs writes in
         * full, stay small (32 MiB for an 8 GiB disk) */
        char *mkfs[] = { "/sbin/mke2fs", "-F", "-b", "4096", "-i", "65536", dev, NULL };
        int r;

        while ((r = find_serial(serial, dev, sizeof(dev))) < 0 && now_ms() < deadline)
                usleep(10000);
        if (r < 0) {
                log_msg("no disk with serial '%s' for the overlay", serial);
                return r;
        }
        r = run_wait(mkfs, 1);
        if (r != 0) {
                log_msg("failed to make a file system on '%s'", dev);
                return -EIO;
        }
        r = mount_block(dev, UPPERFS, MS_NOATIME);
        if (r < 0)
                log_msg("failed to mount the overlay disk '%s': %s", dev, strerror(-r));
        log_dbg("overlay upper layer on '%s'", dev);
        return r;
}

static int mount_overlay(const struct config *cfg) {
        const char *opts = "lowerdir=" LOWER ",upperdir=" UPPERFS "/upper,workdir=" UPPERFS "/work";
        int r;

        if (cfg->overlay == OVERLAY_TMPFS) {
                r = mkdir_p(UPPERFS, 0755);
                if (r == 0 && mount("tmpfs", UPPERFS, "tmpfs", 0, "mode=0755") < 0)
                        r = -errno;
                if (r < 0)
                        log_msg("failed to mount the tmpfs overlay: %s", strerror(-r));
        } else {
                r = raw_upper(cfg->overlay_serial);
        }
        if (r < 0)
                return r;
        if (mkdir_p(UPPERFS "/upper", 0755) < 0 || mkdir_p(UPPERFS "/work", 0755) < 0 ||
            mkdir_p(SYSROOT, 0755) < 0 || mount("overlay", SYSROOT, "overlay", 0, opts) < 0) {
                log_msg("failed to mount the overlay: %m");
                return -errno;
        }
        return 0;
}

/* The API file systems, visible in the new root too. */
static void bind_api_mounts(void) {
        static const char *const api[] = { "/dev", "/proc", "/sys", "/run", "/tmp" };

        for (size_t i = 0; i < ELEMENTSOF(api); i++) {
                char where[256];

                snprintf(where, sizeof(where), SYSROOT "%s", api[i]);
                (void) mkdir(where, 0755);
                if (mount(api[i], where, NULL, MS_BIND | MS_REC, NULL) < 0)
                        log_msg("failed to make '%s' visible in the root: %m", api[i]);
        }
}

int setup_root(const struct config *cfg, const char **ret_root) {
        int ro = cfg->overlay != OVERLAY_NONE || !cfg->root_rw;
        int r;

        if (!cfg->root[0]) {
                if (cfg->overlay != OVERLAY_NONE)
                        log_msg("ignoring 'vmsilo.overlay' without 'root='");
                *ret_root = "/";
                return 0;
        }
        if (wait_for_path(cfg->root) < 0) {
                log_msg("root device '%s' did not appear", cfg->root);
                return -ENODEV;
        }
        r = mount_block(cfg->root, cfg->overlay != OVERLAY_NONE ? LOWER : SYSROOT,
                        ro ? MS_RDONLY : 0);
        if (r < 0) {
                log_msg("failed to mount the root '%s': %s", cfg->root, strerror(-r));
                return r;
        }
        log_dbg("root '%s' mounted %s", cfg->root, ro ? "read-only" : "read-write");
        if (cfg->overlay != OVERLAY_NONE) {
                r = mount_overlay(cfg);
                if (r < 0)
                        return r;
        }
        bind_api_mounts();
        *ret_root = SYSROOT;
        return 0;
}

int setup_shares(const struct config *cfg, const char *root) {
        int r = 0;

        for (size_t i = 0; i < cfg->n_mounts; i++) {
                const struct cfg_mount *m = &cfg->mounts[i];
                char where[4096];

                if (path_join(where, sizeof(where), root, m->path) < 0 ||
                    mkdir_p(where, 0755) < 0 ||
                    mount(m->tag, where, "virtiofs", m->ro ? MS_RDONLY : 0, NULL) < 0) {
                        log_msg("failed to mount virtiofs '%s' on '%s': %m", m->tag, m->path);
                        r = -EIO;
                        continue;
                }
                log_dbg("virtiofs '%s' on '%s'", m->tag, m->path);
        }
        return r;
}
