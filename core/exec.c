/* SPDX-License-Identifier: MIT */
/*
 * `vmsilo-core exec`: a throw-away VM (the model is a NixOS "exec VM") that runs one bash
 * script with the host's /usr shared read-only and returns the script's exit status. The VM
 * is an ordinary VM description written to a private configuration directory, so it goes
 * through the same pipeline and plugins (virtiofs for the shares) as any other.
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

static char *absolute(const char *path) {
        char *abs = realpath(path, NULL);

        if (!abs)
                log_error_errno(errno, "cannot use '%s': %m", path);
        return abs;
}

static int write_vm_conf(const char *path, const struct exec_opts *o, const struct vm_config *d,
                         const char *shared) {
        FILE *f = fopen(path, "we");

        if (!f)
                return log_error_errno(errno, "failed to write '%s': %m", path);
        fprintf(f, "# written by vmsilo-core exec, removed when it ends\n[vm]\nvmm = qemu\n");
        fprintf(f, "memory = %llu\ncpus = %llu\n", d->exec_memory_mib, d->exec_cpus);
        fprintf(f, "kernel = %s\n", o->kernel ? o->kernel : d->exec_kernel);
        fprintf(f, "initrd = %s\n", o->initrd ? o->initrd : d->exec_initrd);
        fprintf(f, "root-disk =\n");
        fprintf(f, "[virtiofs usr]\npath = /usr\nread-only = yes\nmount-point = /usr\n");
        if (shared)
                fprintf(f, "[virtiofs shared]\npath = %s\nmount-point = /tmp/shared\n", shared);
        for (int i = 0; i < o->n_vmm_args; i++) {
                if (strchr(o->vmm_args[i], '\n')) {
                        fclose(f);
                        return log_error_errno(EINVAL, "VMM argument with a newline: '%s'",
                                               o->vmm_args[i]);
                }
                fprintf(f, "[qemu]\nextra-args = %s\n", o->vmm_args[i]);
        }
        return fclose(f) == 0 ? 0 : log_error_errno(errno, "failed to write '%s': %m", path);
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

int cmd_exec(const struct settings *s, int argc, char **argv) {
        struct exec_opts o = {};
        struct vm_config d = {};
        struct settings es = {};
        _cleanup_free_ char *name = NULL, *confdir = NULL, *vmsdir = NULL, *path = NULL;
        _cleanup_free_ char *shared = NULL, *kernel = NULL, *initrd = NULL;
        int r, level = log_get_max_level();

        r = parse_exec(argc, argv, &o);
        if (r >= 0)
                return r;
        if (o.quiet)
                log_set_max_level(LOG_LEVEL_ERR);
        name = strdup_printf("exec-%d", (int) getpid());
        confdir = strdup_printf("%s/.%s.conf", s->runtime_base, name);
        vmsdir = strdup_printf("%s/vms", strempty(confdir));
        path = strdup_printf("%s/%s.conf", strempty(vmsdir), strempty(name));
        if (!name || !confdir || !vmsdir || !path)
                return log_oom(), EXIT_NO_STATUS;
        r = exec_defaults(s, &d);
        if (r >= 0 && !d.exec_kernel && !o.kernel)
                d.exec_kernel = strdup(VMSILO_GUEST_DIR "/vmlinuz");
        if (r >= 0 && !d.exec_initrd && !o.initrd)
                d.exec_initrd = strdup(VMSILO_GUEST_DIR "/initrd.gz");
        if (r >= 0 && o.shared && !(shared = absolute(o.shared)))
                r = -ENOENT;
        if (r >= 0 && o.kernel && !(kernel = absolute(o.kernel)))
                r = -ENOENT;
        if (r >= 0 && o.initrd && !(initrd = absolute(o.initrd)))
                r = -ENOENT;
        o.kernel = kernel ? kernel : o.kernel;
        o.initrd = initrd ? initrd : o.initrd;
        if (r >= 0 && (mkdir(s->runtime_base, 0755) < 0 && errno != EEXIST))
                r = log_error_errno(errno, "failed to create '%s': %m", s->runtime_base);
        if (r >= 0 && (mkdir(confdir, 0700) < 0 || mkdir(vmsdir, 0700) < 0))
                r = log_error_errno(errno, "failed to create '%s': %m", confdir);
        if (r >= 0)
                r = write_vm_conf(path, &o, &d, shared);
        if (r >= 0)
                r = settings_clone_with_dir(&es, s, confdir);
        r = r < 0 ? EXIT_NO_STATUS : run_in_vm(&es, name, &o);
        (void) unlink(path);
        (void) rmdir(vmsdir);
        (void) rmdir(confdir);
        settings_done(&es);
        vm_config_done(&d);
        log_set_max_level(level);
        return r;
}
