/* SPDX-License-Identifier: MIT */
/*
 * `vmsilo-core exec`: a throw-away VM (the model is a NixOS "exec VM") that runs one bash
 * script with the host's /usr shared read-only and returns the script's exit status. The VM
 * is an ordinary VM description, made in memory (never as text), so it goes through the same
 * pipeline and plugins (virtiofs for the shares, configured through their hook) as any other.
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

#include "cli/commands.h"
#include "cli/consoleclient.h"
#include "cli/exitcode.h"
#include "plugin/vm.h"
#include "run/agent.h"
#include "run/runstate.h"
#include "run/snapshot.h"
#include "run/supervisor.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/process.h"
#include "util/state.h"

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
 * the user's input, so no value can carry a key or section of its own. With `template`, the
 * VM its template is made of: no shares (they are hot-plugged after a restore), no VMM args,
 * and freed pages zeroed (so that the saved RAM file is sparse). */
static int exec_conf(struct conf *c, const struct exec_opts *o, const struct vm_config *d,
                     const char *shared, int template) {
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
        /* acpi=noirq: hot-plugged devices get their IRQ from the BIOS table; the ACPI link
         * methods take 0.4 s under TCG */
        if (r >= 0 && template)
                r = conf_add(c, "exec", 0, "vm", "kernel-params", "init_on_free=1 acpi=noirq");
        if (template)
                return r < 0 ? log_oom() : 0;
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
        if (r < 0)
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
                r = addr ? agent_run(name, addr, &req) : -ENOENT;
                if (r < 0)
                        r = EXIT_NO_STATUS;
                log_debug("exec: the script ended");
        }
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
        (void) unlinkat(fd, RS_LAST_VMM_LOG, 0);
        (void) unlinkat(fd, RS_LAST_ERROR, 0);
        (void) unlinkat(fd, "supervisor.log", 0);
        (void) unlinkat(fd, "supervisor.log.1", 0);
        (void) rmdir(dir);
}

/* Restores the template of `template_vm` into VM `name` and runs the script there;
 * -EAGAIN (after the one-line notice) when the caller should boot instead. */
static int run_warm(const struct settings *s, const struct settings *ts, const char *name,
                    const char *template_vm, const struct exec_opts *o, const char *shared) {
        _cleanup_free_ char *why = NULL, *shared_mount = NULL;
        struct snapshot_template *t = NULL;
        struct vm_snapshot snap = { .ram_fd = -1, .state_fd = -1, .ram_ready_fd = -1 };
        char *mounts[3] = { "usr /usr ro" };
        int r;

        if (shared && !(mounts[1] = shared_mount = strdup("shared /tmp/shared rw")))
                return log_oom(), -EAGAIN;
        r = snapshot_template_get(ts, template_vm, 1, &t, &why);
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
        struct settings ts = {};
        struct conf conf = {}, tconf = {};
        _cleanup_free_ char *name = NULL, *tname = NULL;
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
        tname = strdup_printf("exec-%d-template", (int) getpid());
        if (!name || !tname)
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
        if (r >= 0 && !o.prepare)
                r = exec_conf(&conf, &o, &d, shared, 0);
        if (r >= 0)
                r = exec_conf(&tconf, &o, &d, NULL, 1);
        if (r >= 0)
                r = settings_clone_with_vm(&es, s, name, &conf);
        if (r >= 0)
                r = settings_clone_with_vm(&ts, s, tname, &tconf);
        if (r < 0)
                r = EXIT_NO_STATUS;
        else if (o.prepare)
                r = prepare_template(&ts, tname);
        else {
                /* VMM args may change the machine: only a boot honours them */
                r = o.cold || o.n_vmm_args > 0 ? -EAGAIN
                                               : run_warm(&es, &ts, name, tname, &o, shared);
                if (r == -EAGAIN)
                        r = run_in_vm(&es, name, &o, NULL, NULL);
        }
        forget_state(s, name);
        forget_state(s, tname);
        settings_done(&es);
        settings_done(&ts);
        conf_done(&conf);
        conf_done(&tconf);
        vm_config_done(&d);
        log_set_max_level(level);
        return r;
}
