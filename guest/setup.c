/* Boot-time setup: API file systems, console, kernel modules, hostname, resolv.conf. */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

struct early_mount {
        const char *what;
        const char *where;
        const char *type;
        unsigned long flags;
        const char *data;
};

static const struct early_mount early_mounts[] = {
        { "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
        { "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
        { "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
        { "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666" },
        { "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
        { "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
};

int setup_early_mounts(void) {
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(early_mounts); i++) {
                const struct early_mount *m = &early_mounts[i];

                (void) mkdir(m->where, 0755);
                if (mount(m->what, m->where, m->type, m->flags, m->data) < 0 && errno != EBUSY) {
                        r = -errno;
                        log_msg("failed to mount '%s': %m", m->where);
                }
        }
        return r;
}

/* stdin/stdout/stderr on /dev/console, in case the kernel found no console node. */
void setup_console(void) {
        int fd = open("/dev/console", O_RDWR | O_NOCTTY);

        if (fd < 0)
                return;
        for (int i = 0; i < 3; i++)
                if (fd != i)
                        dup2(fd, i);
        if (fd > 2)
                close(fd);
}

static int load_module(const char *name) {
        char path[512];
        int fd, r = 0;

        if (snprintf(path, sizeof(path), "/lib/modules/%s", name) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
                r = -errno;
        close(fd);
        return r;
}

int setup_modules(void) {
        char *line = NULL;
        size_t cap = 0;
        FILE *fp;
        int r = 0;

        fp = fopen("/lib/modules/order", "re");
        if (!fp)
                return errno == ENOENT ? 0 : -errno;
        while (getline(&line, &cap, fp) > 0) {
                int k;

                line[strcspn(line, " \t\r\n")] = '\0';
                if (line[0] == '\0' || line[0] == '#')
                        continue;
                k = load_module(line);
                if (k < 0) {
                        log_msg("failed to load module '%s': %s", line, strerror(-k));
                        r = k;
                } else {
                        log_dbg("loaded module '%s'", line);
                }
        }
        free(line);
        fclose(fp);
        return r;
}

int setup_hostname(const struct config *cfg) {
        const char *name = cfg->hostname[0] ? cfg->hostname : "vmsilo";

        if (sethostname(name, strlen(name)) < 0) {
                log_msg("failed to set the hostname to '%s': %m", name);
                return -errno;
        }
        log_dbg("hostname '%s'", name);
        return 0;
}

int setup_resolv_conf(const struct config *cfg, const char *root) {
        char path[4096], text[CMDLINE_MAX_ITEMS * 64] = "";
        int r;

        if (cfg->n_nameservers == 0)
                return 0;
        for (size_t i = 0; i < cfg->n_nameservers; i++) {
                strcat(text, "nameserver ");
                strcat(text, cfg->nameservers[i]);
                strcat(text, "\n");
        }
        r = path_join(path, sizeof(path), root, "/etc");
        if (r == 0)
                r = mkdir_p(path, 0755);
        if (r == 0)
                r = path_join(path, sizeof(path), root, "/etc/resolv.conf");
        if (r == 0) {
                (void) unlink(path);
                r = write_file(path, text, O_TRUNC);
        }
        if (r < 0)
                log_msg("failed to write '/etc/resolv.conf': %s", strerror(-r));
        return r;
}
