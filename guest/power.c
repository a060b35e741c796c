/* Power button watching and the clean shutdown of PID 1. */
#include "power.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define DEBUG_EXIT_PORT 0xf4
#define TERM_TIMEOUT_MS 2000
#define KILL_TIMEOUT_MS 1000
#define MAX_MOUNTS 256
#define PF_KTHREAD 0x00200000UL

static int has_power_key(int fd) {
        unsigned char bits[KEY_MAX / 8 + 1] = { 0 };

        if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(bits)), bits) < 0)
                return 0;
        return !!(bits[KEY_POWER / 8] & (1 << (KEY_POWER % 8)));
}

static int button_known(const struct buttons *b, const char *name) {
        for (int i = 0; i < b->n; i++)
                if (strcmp(b->names[i], name) == 0)
                        return 1;
        return 0;
}

void buttons_scan(struct buttons *b) {
        DIR *d = opendir("/dev/input");
        struct dirent *de;

        if (!d)
                return;
        while (b->n < POWER_MAX_BUTTONS && (de = readdir(d))) {
                char path[300];
                int fd;

                if (strncmp(de->d_name, "event", 5) != 0 || strlen(de->d_name) >= 32 ||
                    button_known(b, de->d_name))
                        continue;
                snprintf(path, sizeof(path), "/dev/input/%s", de->d_name);
                fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0)
                        continue;
                if (!has_power_key(fd)) {
                        close(fd);
                        continue;
                }
                log_dbg("watching '%s' for the power button", path);
                b->fds[b->n] = fd;
                memcpy(b->names[b->n], de->d_name, strlen(de->d_name) + 1);
                b->n++;
        }
        closedir(d);
}

int buttons_pressed(int fd) {
        struct input_event ev[16];
        ssize_t n;
        int pressed = 0;

        while ((n = read(fd, ev, sizeof(ev))) > 0) {
                for (size_t i = 0; i < (size_t) n / sizeof(ev[0]); i++)
                        if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1)
                                pressed = 1;
        }
        return pressed;
}

static void reap_all(void) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

/* Whether a process other than PID 1 and kernel threads exists (kill(-1, 0) counts
 * kernel threads too, so it cannot tell). */
static int other_processes_left(void) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        int found = 0;

        if (!d)
                return 0;
        while (!found && (de = readdir(d))) {
                char path[300], stat[512], *p;
                unsigned long flags;

                if (de->d_name[0] < '1' || de->d_name[0] > '9' || strcmp(de->d_name, "1") == 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                if (read_small_file(path, stat, sizeof(stat)) < 0)
                        continue;
                p = strrchr(stat, ')');
                /* after "pid (comm)": state ppid pgrp session tty_nr tpgid flags */
                if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) == 1)
                        found = !(flags & PF_KTHREAD);
        }
        closedir(d);
        return found;
}

/* Waits until no process but PID 1 is left, or the timeout passes. */
static int wait_processes_gone(int timeout_ms) {
        long long deadline = now_ms() + timeout_ms;

        for (;;) {
                reap_all();
                if (!other_processes_left())
                        return 0;
                if (now_ms() > deadline)
                        return -ETIMEDOUT;
                usleep(20000);
        }
}

static void kill_all(void) {
        kill(-1, SIGTERM);
        kill(-1, SIGCONT);
        if (wait_processes_gone(TERM_TIMEOUT_MS) == 0)
                return;
        log_dbg("killing the processes left");
        kill(-1, SIGKILL);
        (void) wait_processes_gone(KILL_TIMEOUT_MS);
}

/* Undoes the \ooo escapes of /proc/self/mounts. */
static void unescape(char *s) {
        char *out = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
                        *out++ = (char) ((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
                        s += 3;
                } else {
                        *out++ = *s;
                }
        }
        *out = '\0';
}

static void unmount_all(void) {
        char *mounts[MAX_MOUNTS], *line = NULL, dev[4096], path[4096];
        size_t cap = 0;
        int n = 0;
        FILE *fp = fopen("/proc/self/mounts", "re");

        if (!fp)
                return;
        while (n < MAX_MOUNTS && getline(&line, &cap, fp) > 0) {
                if (sscanf(line, "%4095s %4095s", dev, path) != 2 || strcmp(path, "/") == 0)
                        continue;
                unescape(path);
                mounts[n] = strdup(path);
                if (mounts[n])
                        n++;
        }
        free(line);
        fclose(fp);
        while (n-- > 0) {
                if (umount2(mounts[n], 0) < 0) {
                        (void) mount(NULL, mounts[n], NULL, MS_REMOUNT | MS_RDONLY, NULL);
                        (void) umount2(mounts[n], MNT_DETACH);
                }
                free(mounts[n]);
        }
}

static void debug_exit(int status) {
#if defined(__x86_64__) || defined(__i386__)
        if (ioperm(DEBUG_EXIT_PORT, 4, 1) < 0) {
                log_msg("failed to access the debug exit port: %m");
                return;
        }
        outl((unsigned int) status, DEBUG_EXIT_PORT);
#else
        (void) status;
#endif
}

int request_poweroff(void) {
        char *systemctl[] = { "/usr/bin/systemctl", "poweroff", NULL };
        pid_t pid;

        if (access("/run/systemd/system", F_OK) == 0) {
                if (access(systemctl[0], X_OK) < 0)
                        systemctl[0] = "/bin/systemctl";
                log_msg("powering off: asked by the host");
                pid = run_background(systemctl);
                return pid < 0 ? (int) pid : 0;
        }
        /* vmsilo-init (and busybox init) power off cleanly on SIGUSR2 */
        log_msg("powering off: asked by the host");
        return kill(1, SIGUSR2) < 0 ? -errno : 0;
}

void system_shutdown(int flags, int status) {
        kill_all();
        sync();
        unmount_all();
        sync();
        if (flags & SHUTDOWN_ANNOUNCE)
                log_msg("powering off");
        if (flags & SHUTDOWN_DEBUGEXIT)
                debug_exit(status);
        reboot(RB_POWER_OFF);
        for (;;)
                pause();
}
