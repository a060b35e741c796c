/* SPDX-License-Identifier: MIT */
/*
 * `vmsilo-core exec`: a throw-away VM (the model is a NixOS "exec VM") that runs one bash
 * script with the host's /usr shared read-only and returns the script's exit status. The VM
 * is an ordinary VM description written to a private configuration directory, so it goes
 * through the same pipeline and plugins (virtiofs for the shares) as any other.
 *
 * By default the VM is not booted but restored from a template (snapshot.c): a guest booted
 * once without shares, saved when its agent waited for a command. The shares are hot-plugged
 * and mounted after the restore; a template that does not restore falls back to a boot.
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
#include "snapshot.h"
#include "state.h"
#include "supervisor.h"
#include "vm.h"

#ifndef VMSILO_GUEST_DIR
#define VMSILO_GUEST_DIR "/usr/lib/vmsilo/guest"
#endif

struct exec_opts {
        int quiet;
        int initrd_console;
        int cold;
        int prepare;
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
        enum {
                OPT_INITRD_CONSOLE = 256,
                OPT_SHARED,
                OPT_KERNEL,
                OPT_INITRD,
                OPT_COLD,
                OPT_PREPARE
        };
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "initrd-console", no_argument, NULL, OPT_INITRD_CONSOLE },
                { "shared", required_argument, NULL, OPT_SHARED },
                { "kernel", required_argument, NULL, OPT_KERNEL },
                { "initrd", required_argument, NULL, OPT_INITRD },
                { "cold", no_argument, NULL, OPT_COLD },
                { "prepare", no_argument, NULL, OPT_PREPARE },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const char usage[] =
                "usage: vmsilo-core exec [--quiet] [--initrd-console] [--cold] [--shared=DIR]\n"
                "                        [--kernel PATH] [--initrd PATH] SCRIPT [-- VMM-ARG...]\n"
                "       vmsilo-core exec --prepare [--kernel PATH] [--initrd PATH]\n\n"
                "Boots a throw-away VM (QEMU, the guest agent as PID 1, its root in RAM), with the\n"
                "host's /usr shared read-only and DIR read-write at /tmp/shared (the working\n"
                "directory), runs SCRIPT there with bash (SCRIPT is the script's text, as for\n"
                "'bash -c'; for a file in DIR: 'bash ./file'), and exits with its status (128+N for a\n"
                "signal). 125: the VM ended without a status. VMM-ARGs go to qemu as they are.\n"
                "The VM is restored from a template (a guest booted once, saved in the cache dir,\n"
                "rebuilt when the kernel, initrd, memory, cpus or VMM change) unless VMM-ARGs are given.\n"
                "  -q, --quiet        print only the script's own output\n"
                "  --initrd-console   show the VM's console (early boot) on stderr\n"
                "  --cold             boot the VM instead of restoring the template\n"
                "  --prepare          only build the template (for packagers and CI)\n"
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
                case OPT_COLD:
                        o->cold = 1;
                        break;
                case OPT_PREPARE:
                        o->prepare = 1;
                        break;
                case 'h':
                        printf("%s", usage);
                        return EXIT_OK;
                default:
                        fprintf(stderr, "%s", usage);
                        return EXIT_NO_STATUS;
                }
        }
        if (o->prepare && optind == argc)
                return -1;
        if (optind >= argc || o->prepare) {
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

/* The exec VM; with `template`, the VM its template is made of: no shares (they are
 * hot-plugged after a restore), no VMM args, and freed pages zeroed (so that the saved RAM
 * file is sparse). */
static int write_vm_conf(const char *path, const struct exec_opts *o, const struct vm_config *d,
                         const char *shared, int template) {
        FILE *f = fopen(path, "we");

        if (!f)
                return log_error_errno(errno, "failed to write '%s': %m", path);
        fprintf(f, "# written by vmsilo-core exec, removed when it ends\n[vm]\nvmm = qemu\n");
        fprintf(f, "memory = %llu\ncpus = %llu\n", d->exec_memory_mib, d->exec_cpus);
        fprintf(f, "kernel = %s\n", o->kernel ? o->kernel : d->exec_kernel);
        fprintf(f, "initrd = %s\n", o->initrd ? o->initrd : d->exec_initrd);
        fprintf(f, "root-disk =\n");
        if (template) {
                /* acpi=noirq: hot-plugged devices get their IRQ from the BIOS table; the
                 * ACPI link methods take 0.4 s under TCG */
                fprintf(f, "kernel-params = init_on_free=1 acpi=noirq\n");
                return fclose(f) == 0 ? 0
                                      : log_error_errno(errno, "failed to write '%s': %m", path);
        }
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

/* The script's status; -EAGAIN when the VM did not start from `snap` or its guest did not
 * take the shares (nothing of the script ran). */
static int run_in_vm(const struct settings *s, const char *name, const struct exec_opts *o,
                     const struct vm_snapshot *snap, char *const *mounts) {
        _cleanup_free_ char *dir = settings_runtime_dir(s, name), *addr = NULL, *why = NULL;
        char *argv[] = { "/bin/sh", "-c", (char *) guest_wrapper, "sh", (char *) o->script, NULL };
        struct start_options so = { .stop_timeout_s = 10, .up_timeout_s = 60, .snapshot = snap };
        struct agent_request req = { .argv = argv, .connect_timeout_s = 120 };
        pid_t console = 0;
        int r;

        if (!dir)
                return EXIT_NO_STATUS;
        r = vm_start(s, name, &so);
        if (r != EXIT_OK)
                return snap ? -EAGAIN : EXIT_NO_STATUS;
        if (o->initrd_console)
                console = show_console(dir);
        addr = vm_agent_address(dir);
        log_debug("exec: VM '%s' is up", name);
        if (snap && addr && snapshot_resume_guest(addr, mounts, 30, &why) < 0) {
                log_info("%s", strempty(why));
                r = -EAGAIN;
        } else {
                log_debug("exec: running the script");
                r = addr ? agent_run(name, addr, &req) : EXIT_NO_STATUS;
                log_debug("exec: the script ended");
        }
        if (console > 0) {
                (void) kill(console, SIGTERM);
                (void) waitpid(console, NULL, 0);
        }
        (void) vm_stop(s, name, 10);
        return r;
}

/* Restores the template of `template_vm` into VM `name` and runs the script there;
 * -EAGAIN (after the one-line notice) when the caller should boot instead. */
static int run_warm(const struct settings *s, const char *name, const char *template_vm,
                    const struct exec_opts *o, const char *shared) {
        _cleanup_free_ char *why = NULL, *shared_mount = NULL;
        struct snapshot_template *t = NULL;
        struct vm_snapshot snap = { .ram_fd = -1, .state_fd = -1, .ram_ready_fd = -1 };
        char *mounts[3] = { "usr /usr ro" };
        int r;

        if (shared && !(mounts[1] = shared_mount = strdup("shared /tmp/shared rw")))
                return log_oom(), -EAGAIN;
        r = snapshot_template_get(s, template_vm, 1, &t, &why);
        if (r < 0 || !t) {
                log_notice("exec: no template (%s), booting the VM", strempty(why));
                return -EAGAIN;
        }
        r = snapshot_restore_plan(t, s->runtime_base, &snap);
        if (r >= 0)
                r = run_in_vm(s, name, o, &snap, mounts);
        snapshot_restore_plan_done(&snap);
        if (r == -EAGAIN || r < 0) {
                log_notice("exec: the template '%s' did not restore, booting the VM",
                           snapshot_template_dir(t));
                snapshot_template_discard(t);
                r = -EAGAIN;
        }
        snapshot_template_free(t);
        return r;
}

static int prepare_template(const struct settings *s, const char *template_vm) {
        _cleanup_free_ char *why = NULL;
        struct snapshot_template *t = NULL;
        int r = snapshot_template_get(s, template_vm, 1, &t, &why);

        if (r < 0 || !t) {
                log_error("exec: cannot make a template: %s", strempty(why));
                return EXIT_RUNTIME;
        }
        printf("%s\n", snapshot_template_dir(t));
        snapshot_template_free(t);
        return EXIT_OK;
}

int cmd_exec(const struct settings *s, int argc, char **argv) {
        struct exec_opts o = {};
        struct vm_config d = {};
        struct settings es = {};
        _cleanup_free_ char *name = NULL, *confdir = NULL, *vmsdir = NULL, *path = NULL;
        _cleanup_free_ char *tname = NULL, *tpath = NULL;
        _cleanup_free_ char *shared = NULL, *kernel = NULL, *initrd = NULL;
        int r, level = log_get_max_level();

        r = parse_exec(argc, argv, &o);
        if (r >= 0)
                return r;
        if (o.quiet)
                log_set_max_level(LOG_LEVEL_ERR);
        name = strdup_printf("exec-%d", (int) getpid());
        tname = strdup_printf("exec-%d-template", (int) getpid());
        confdir = strdup_printf("%s/.%s.conf", s->runtime_base, strempty(name));
        vmsdir = strdup_printf("%s/vms", strempty(confdir));
        path = strdup_printf("%s/%s.conf", strempty(vmsdir), strempty(name));
        tpath = strdup_printf("%s/%s.conf", strempty(vmsdir), strempty(tname));
        if (!name || !tname || !confdir || !vmsdir || !path || !tpath)
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
        if (r >= 0 && !o.prepare)
                r = write_vm_conf(path, &o, &d, shared, 0);
        if (r >= 0)
                r = write_vm_conf(tpath, &o, &d, NULL, 1);
        if (r >= 0)
                r = settings_clone_with_dir(&es, s, confdir);
        if (r < 0)
                r = EXIT_NO_STATUS;
        else if (o.prepare)
                r = prepare_template(&es, tname);
        else {
                /* VMM args may change the machine: only a boot honours them */
                r = o.cold || o.n_vmm_args > 0 ? -EAGAIN : run_warm(&es, name, tname, &o, shared);
                if (r == -EAGAIN)
                        r = run_in_vm(&es, name, &o, NULL, NULL);
        }
        (void) unlink(path);
        (void) unlink(tpath);
        (void) rmdir(vmsdir);
        (void) rmdir(confdir);
        settings_done(&es);
        vm_config_done(&d);
        log_set_max_level(level);
        return r;
}
