/* vmsilo-init: PID 1 of the vmsilo test and exec guests, and (as "vmsilo-agent") the
 * guest agent. Kernel command line contract and protocol: docs/guest-protocol.md. */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "init.h"
#include "power.h"
#include "resume.h"
#include "setup.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const int handled_signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPWR, SIGUSR1, SIGUSR2 };

static void fill_sigset(sigset_t *set) {
        sigemptyset(set);
        for (size_t i = 0; i < ELEMENTSOF(handled_signals); i++)
                sigaddset(set, handled_signals[i]);
}

void reset_signals(void) {
        sigset_t set;

        fill_sigset(&set);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
}

pid_t spawn_on_console(const char *root, char *const argv[]) {
        pid_t pid = fork();
        int fd;

        if (pid != 0)
                return pid < 0 ? -errno : pid;
        reset_signals();
        setsid();
        fd = open("/dev/console", O_RDWR);
        if (fd >= 0) {
                (void) ioctl(fd, TIOCSCTTY, 1);
                for (int i = 0; i < 3; i++)
                        dup2(fd, i);
                if (fd > 2)
                        close(fd);
        }
        if (strcmp(root, "/") != 0 && (chroot(root) < 0 || chdir("/") < 0)) {
                log_msg("failed to change root to '%s': %m", root);
                _exit(127);
        }
        (void) !chdir("/");
        execv(argv[0], argv);
        log_msg("failed to execute '%s': %m", argv[0]);
        _exit(127);
}

static int open_uevents(void) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
        int fd;

        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                close(fd);
                return -errno;
        }
        return fd;
}

/* Runs vmsilo.cmd, prints the exit marker and powers off. */
static __attribute__((noreturn)) void run_command(const struct config *cfg, const char *root) {
        char *argv[] = { "/bin/sh", "-c", cfg->cmd, NULL };
        int flags = cfg->exit_kind == EXIT_DEBUGEXIT ? SHUTDOWN_DEBUGEXIT : 0;
        int status = 0, code;
        char marker[256];
        pid_t pid, w;

        pid = spawn_on_console(root, argv);
        if (pid < 0) {
                log_msg("failed to start the command: %s", strerror(-pid));
                system_shutdown(SHUTDOWN_ANNOUNCE, 0);
        }
        do
                w = waitpid(-1, &status, 0);
        while (w != pid && (w > 0 || errno == EINTR));
        if (WIFSIGNALED(status)) {
                code = 128 + WTERMSIG(status);
                snprintf(marker, sizeof(marker), "VMSILO-EXIT nonce=%s signal=%d\n", cfg->nonce,
                         WTERMSIG(status));
        } else {
                code = WEXITSTATUS(status);
                snprintf(marker, sizeof(marker), "VMSILO-EXIT nonce=%s status=%d\n", cfg->nonce,
                         code);
        }
        (void) write_all(STDOUT_FILENO, marker, strlen(marker));
        system_shutdown(flags | (cfg->debug ? SHUTDOWN_ANNOUNCE : 0), code);
}

static void read_config(struct config *cfg) {
        static char buf[4096];

        memset(cfg, 0, sizeof(*cfg));
        if (read_small_file("/proc/cmdline", buf, sizeof(buf)) < 0) {
                log_msg("failed to read '/proc/cmdline': %m");
                return;
        }
        config_parse(cfg, buf);
        log_debug_enabled = cfg->debug;
}

/* Every step runs; returns a negative errno if one failed. */
static int setup_all(const struct config *cfg, const char **root) {
        int r = 0;

        if (setup_modules() < 0)
                r = -EIO;
        if (setup_hostname(cfg) < 0)
                r = -EIO;
        if (setup_root(cfg, root) < 0)
                return -EIO;
        if (setup_network(cfg, *root) < 0)
                r = -EIO;
        if (setup_shares(cfg, *root) < 0)
                r = -EIO;
        if (setup_resolv_conf(cfg, *root) < 0)
                r = -EIO;
        return r;
}

static int init_main(void) {
        const char *root = "/";
        struct config cfg;
        sigset_t set;
        int sigfd, uevent_fd, r;

        umask(022);
        clearenv();
        setenv("PATH", DEFAULT_PATH, 1);
        setenv("HOME", "/root", 1);
        setenv("TERM", "linux", 1);
        (void) setup_early_mounts();
        setup_console();
        /* Ctrl-Alt-Del becomes SIGINT: a clean shutdown instead of an instant reboot */
        (void) reboot(RB_DISABLE_CAD);
        fill_sigset(&set);
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        uevent_fd = open_uevents();
        read_config(&cfg);
        log_dbg("starting");
        r = setup_all(&cfg, &root);
        if (cfg.cmd) {
                if (r < 0) {
                        log_msg("setup failed, not running the command");
                        system_shutdown(SHUTDOWN_ANNOUNCE, 0);
                }
                run_command(&cfg, root);
        }
        service_run(&cfg, root, sigfd, uevent_fd);
}

int main(int argc, char **argv) {
        const char *base = strrchr(argv[0], '/');

        base = base ? base + 1 : argv[0];
        if (strcmp(base, "vmsilo-agent") == 0)
                return agent_main(argc, argv);
        if (strcmp(base, "vmsilo-resume") == 0)
                return resume_main(argc, argv);
        if (getpid() != 1) {
                fprintf(stderr, "vmsilo-init: not PID 1; run as 'vmsilo-agent' for the agent\n");
                return 2;
        }
        return init_main();
}
