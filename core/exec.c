/* SPDX-License-Identifier: MIT */
/*
 * `vmsilo-core exec`: a throw-away VM (the model is a NixOS "exec VM") that runs one bash
 * script with the host's /usr shared read-only and returns the script's exit status. The VM
 * is an ordinary VM description, made in memory (never as text), so it goes through the same
 * pipeline and plugins (virtiofs for the shares, configured through their hook) as any other.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "agent.h"
#include "commands.h"
#include "consoleclient.h"
#include "escape.h"
#include "exitcode.h"
#include "log.h"
#include "process.h"
#include "state.h"
#include "supervisor.h"
#include "vm.h"

#ifndef VMSILO_GUEST_DIR
#define VMSILO_GUEST_DIR "/usr/lib/vmsilo/guest"
#endif

struct exec_opts {
        int quiet;
        int initrd_console;
        const char *shared;
        const char *kernel;
        const char *initrd;
        const char *script;
        char **vmm_args;
        int n_vmm_args;
};

/* In the guest: the initramfs is the root (tmpfs); the host's /usr is mounted over its
 * /usr; /lib64 makes the host's dynamic loader reachable; then bash runs the script. */
static const char guest_wrapper[] =
        "for d in /usr/lib/*-linux-gnu*; do [ -e \"/lib/${d##*/}\" ] || ln -s \"$d\" /lib/; done; "
        "[ -e /lib64 ] || ln -s usr/lib64 /lib64; "
        "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root; "
        "if [ -d /tmp/shared ]; then cd /tmp/shared; fi; "
        "exec /usr/bin/bash -c \"$1\"";

static int parse_exec(int argc, char **argv, struct exec_opts *o) {
        enum { OPT_INITRD_CONSOLE = 256, OPT_SHARED, OPT_KERNEL, OPT_INITRD };
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "initrd-console", no_argument, NULL, OPT_INITRD_CONSOLE },
                { "shared", required_argument, NULL, OPT_SHARED },
                { "kernel", required_argument, NULL, OPT_KERNEL },
                { "initrd", required_argument, NULL, OPT_INITRD },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const char usage[] =
                "usage: vmsilo-core exec [--quiet] [--initrd-console] [--shared=DIR] [--kernel PATH]\n"
                "                        [--initrd PATH] SCRIPT [-- VMM-ARG...]\n\n"
                "Boots a throw-away VM (QEMU, the guest agent as PID 1, its root in RAM), with the\n"
                "host's /usr shared read-only and DIR read-write at /tmp/shared (the working\n"
                "directory), runs SCRIPT there with bash (SCRIPT is the script's text, as for\n"
                "'bash -c'; for a file in DIR: 'bash ./file'), and exits with its status (128+N for a\n"
                "signal). 125: the VM ended without a status. VMM-ARGs go to qemu as they are.\n"
                "  -q, --quiet        print only the script's own output\n"
                "  --initrd-console   show the VM's console (early boot) on stderr\n"
                "Needs the virtiofs plugin (and root, for virtiofsd).\n";
        int c;

        while ((c = getopt_long(argc, argv, "+qh", options, NULL)) >= 0) {
                switch (c) {
                case 'q':
                        o->quiet = 1;
                        break;
                case OPT_INITRD_CONSOLE:
                        o->initrd_console = 1;
                        break;
                case OPT_SHARED:
                        o->shared = optarg;
                        break;
                case OPT_KERNEL:
                        o->kernel = optarg;
                        break;
                case OPT_INITRD:
                        o->initrd = optarg;
                        break;
                case 'h':
                        printf("%s", usage);
                        return EXIT_OK;
                default:
                        fprintf(stderr, "%s", usage);
                        return EXIT_NO_STATUS;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "%s", usage);
                return EXIT_NO_STATUS;
        }
        o->script = argv[optind++];
        if (optind < argc && streq(argv[optind], "--"))
                optind++;
        o->vmm_args = argv + optind;
        o->n_vmm_args = argc - optind;
        return -1;
}

/* The [exec] defaults of the global configuration (kernel, initrd, memory, cpus). */
static int exec_defaults(const struct settings *s, struct vm_config *c) {
        struct conf conf = {};
        struct plugin_set plugins = {};
        int r, errors = 0;

        r = vm_config_init(c, "exec");
        if (r >= 0)
                r = global_open(&conf, &plugins, s, 0);
        for (size_t i = 0; r >= 0 && i < conf.n; i++)
                if (streq(conf.entries[i].section, "exec") &&
                    vm_config_apply(c, &conf.entries[i]) < 0)
                        errors++;
        plugin_set_done(&plugins);
        conf_done(&conf);
        return r < 0 ? r : errors ? -EINVAL : 0;
}

/* Paths reach QEMU's argv and the kernel command line: no control characters (a newline
 * would start a new configuration line or kernel parameter wherever text is made of it). */
static int check_arg(const char *option, const char *value) {
        _cleanup_free_ char *shown = NULL;

        if (!has_control_chars(value))
                return 0;
        shown = text_escape(value, strlen(value));
        return log_error_errno(EINVAL, "invalid %s '%s': control characters are not allowed",
                               option, strempty(shown));
}

static int check_args(const struct exec_opts *o) {
        int r = 0;

        if (o->shared && check_arg("--shared", o->shared) < 0)
                r = -EINVAL;
        if (o->kernel && check_arg("--kernel", o->kernel) < 0)
                r = -EINVAL;
        if (o->initrd && check_arg("--initrd", o->initrd) < 0)
                r = -EINVAL;
        for (int i = 0; i < o->n_vmm_args; i++)
                if (check_arg("VMM argument", o->vmm_args[i]) < 0)
                        r = -EINVAL;
        return r;
}

/* The absolute path of an option's value, itself free of control characters. */
static int absolute(const char *option, const char *path, char **ret) {
        _cleanup_free_ char *abs = realpath(path, NULL);
        int r;

        if (!abs)
                return log_error_errno(errno, "cannot use %s '%s': %m", option, path);
        r = check_arg(option, abs);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(abs);
        return 0;
}

/* The throw-away VM's description, made in memory: no configuration text is ever made of
 * the user's input, so no value can carry a key or section of its own. */
static int exec_conf(struct conf *c, const struct exec_opts *o, const struct vm_config *d,
                     const char *shared) {
        char memory[32], cpus[32];
        int r;

        snprintf(memory, sizeof(memory), "%llu", d->exec_memory_mib);
        snprintf(cpus, sizeof(cpus), "%llu", d->exec_cpus);
        r = conf_add(c, "exec", 0, "vm", "vmm", "qemu");
        if (r >= 0)
                r = conf_add(c, "exec", 0, "vm", "memory", memory);
        if (r >= 0)
                r = conf_add(c, "exec", 0, "vm", "cpus", cpus);
        if (r >= 0)
                r = conf_add(c, "exec --kernel", 0, "vm", "kernel",
                             strempty(o->kernel ? o->kernel : d->exec_kernel));
        if (r >= 0)
                r = conf_add(c, "exec --initrd", 0, "vm", "initrd",
                             strempty(o->initrd ? o->initrd : d->exec_initrd));
        if (r >= 0)
                r = conf_add(c, "exec", 0, "vm", "root-disk", "");
        if (r >= 0)
                r = conf_add(c, "exec", 0, "virtiofs usr", "path", "/usr");
        if (r >= 0)
                r = conf_add(c, "exec", 0, "virtiofs usr", "read-only", "yes");
        if (r >= 0)
                r = conf_add(c, "exec", 0, "virtiofs usr", "mount-point", "/usr");
        if (r >= 0 && shared)
                r = conf_add(c, "exec --shared", 0, "virtiofs shared", "path", shared);
        if (r >= 0 && shared)
                r = conf_add(c, "exec --shared", 0, "virtiofs shared", "mount-point",
                             "/tmp/shared");
        for (int i = 0; r >= 0 && i < o->n_vmm_args; i++)
                r = conf_add(c, "exec VMM argument", 0, "qemu", "extra-args", o->vmm_args[i]);
        return r < 0 ? log_oom() : 0;
}

/* A child that copies the VM's console to stderr until it is killed. */
static pid_t show_console(const char *runtime_dir) {
        _cleanup_free_ char *sock = strdup_printf("%s/%s", runtime_dir, VM_CONSOLE_SOCKET);
        pid_t pid;

        if (!sock)
                return -ENOMEM;
        pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                (void) dup2(null, STDIN_FILENO);
                (void) dup2(STDERR_FILENO, STDOUT_FILENO);
                _exit(console_attach("exec", sock) == 0 ? 0 : 1);
        }
        return pid;
}

static int run_in_vm(const struct settings *s, const char *name, const struct exec_opts *o) {
        _cleanup_free_ char *dir = settings_runtime_dir(s, name), *addr = NULL;
        char *argv[] = { "/bin/sh", "-c", (char *) guest_wrapper, "sh", (char *) o->script, NULL };
        struct start_options so = { .stop_timeout_s = 10, .up_timeout_s = 60 };
        struct agent_request req = { .argv = argv, .connect_timeout_s = 120 };
        pid_t console = 0;
        int r;

        if (!dir)
                return EXIT_NO_STATUS;
        r = vm_start(s, name, &so);
        if (r != EXIT_OK)
                return EXIT_NO_STATUS;
        if (o->initrd_console)
                console = show_console(dir);
        addr = vm_agent_address(dir);
        r = addr ? agent_run(name, addr, &req) : EXIT_NO_STATUS;
        if (console > 0) {
                (void) kill(console, SIGTERM);
                (void) waitpid(console, NULL, 0);
        }
        (void) vm_stop(s, name, 10);
        return r;
}

/* A throw-away VM leaves no state dir behind (its console log went to the user already, with
 * --initrd-console). */
static void forget_state(const struct settings *s, const char *name) {
        _cleanup_free_ char *dir = s->state_dir ? strdup_printf("%s/%s", s->state_dir, name) : NULL;
        _cleanup_close_ int fd =
                dir ? open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;

        if (fd < 0)
                return;
        (void) unlinkat(fd, VM_CONSOLE_LOG, 0);
        (void) unlinkat(fd, VM_CONSOLE_LOG ".1", 0);
        (void) rmdir(dir);
}

int cmd_exec(const struct settings *s, int argc, char **argv) {
        struct exec_opts o = {};
        struct vm_config d = {};
        struct settings es = {};
        struct conf conf = {};
        _cleanup_free_ char *name = NULL;
        _cleanup_free_ char *shared = NULL, *kernel = NULL, *initrd = NULL;
        int r, level = log_get_max_level();

        r = parse_exec(argc, argv, &o);
        if (r >= 0)
                return r;
        if (check_args(&o) < 0)
                return EXIT_NO_STATUS;
        if (o.quiet)
                log_set_max_level(LOG_LEVEL_ERR);
        name = strdup_printf("exec-%d", (int) getpid());
        if (!name)
                return log_oom(), EXIT_NO_STATUS;
        r = exec_defaults(s, &d);
        if (r >= 0 && !d.exec_kernel && !o.kernel)
                d.exec_kernel = strdup(VMSILO_GUEST_DIR "/vmlinuz");
        if (r >= 0 && !d.exec_initrd && !o.initrd)
                d.exec_initrd = strdup(VMSILO_GUEST_DIR "/initrd.gz");
        if (r >= 0 && o.shared)
                r = absolute("--shared", o.shared, &shared);
        if (r >= 0 && o.kernel)
                r = absolute("--kernel", o.kernel, &kernel);
        if (r >= 0 && o.initrd)
                r = absolute("--initrd", o.initrd, &initrd);
        o.kernel = kernel ? kernel : o.kernel;
        o.initrd = initrd ? initrd : o.initrd;
        if (r >= 0)
                r = exec_conf(&conf, &o, &d, shared);
        if (r >= 0)
                r = settings_clone_with_vm(&es, s, name, &conf);
        r = r < 0 ? EXIT_NO_STATUS : run_in_vm(&es, name, &o);
        forget_state(s, name);
        settings_done(&es);
        conf_done(&conf);
        vm_config_done(&d);
        log_set_max_level(level);
        return r;
}
