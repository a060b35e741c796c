/* SPDX-License-Identifier: MIT */
/* The CLI commands: option parsing and output; the work is in pipeline.c and supervisor.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "backend/backend.h"
#include "cli/access.h"
#include "cli/commands.h"
#include "cli/consoleclient.h"
#include "cli/exitcode.h"
#include "plugin/vm.h"
#include "run/agent.h"
#include "run/runstate.h"
#include "run/supervisor.h"
#include "util/json.h"
#include "util/log.h"
#include "util/process.h"
#include "util/state.h"

enum { OPT_JSON = 256, OPT_FOREGROUND, OPT_TIMEOUT };

struct cmd_opts {
        int json;
        int foreground;
        unsigned timeout;
        const char *name;
};

/* Parses the options of one command; `allowed` is a string of the OPT_* it takes. Exactly
 * `want_name` positional NAME. Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, const char *usage_text, const int *allowed, int want_name,
                 struct cmd_opts *o) {
        static const struct option options[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "foreground", no_argument, NULL, OPT_FOREGROUND },
                { "timeout", required_argument, NULL, OPT_TIMEOUT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                int ok = c == 'h';

                for (const int *a = allowed; *a && !ok; a++)
                        ok = *a == c;
                if (c == 'h') {
                        printf("%s", usage_text);
                        return EXIT_OK;
                }
                if (!ok || c == '?') {
                        fprintf(stderr, "%s", usage_text);
                        return EXIT_USAGE;
                }
                if (c == OPT_JSON)
                        o->json = 1;
                else if (c == OPT_FOREGROUND)
                        o->foreground = 1;
                else if (c == OPT_TIMEOUT) {
                        char *end;
                        unsigned long t = strtoul(optarg, &end, 10);

                        if (*end || !*optarg || t == 0 || t > 86400) {
                                log_error("invalid --timeout '%s': expected seconds, 1 to 86400",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        o->timeout = (unsigned) t;
                }
        }
        if (argc - optind != want_name) {
                fprintf(stderr, "%s", usage_text);
                return EXIT_USAGE;
        }
        if (want_name && vm_name_check(argv[optind]) < 0)
                return EXIT_USAGE;
        if (want_name)
                o->name = argv[optind];
        return -1;
}

static void plugins_json(const struct plugin_set *set, const int *ok) {
        printf("[");
        for (size_t i = 0; i < set->n; i++) {
                const struct plugin *p = set->items[i];

                printf("%s{\"name\": ", i ? ", " : "");
                json_string(stdout, p->name);
                printf(", \"version\": ");
                json_string(stdout, ok[i] ? p->desc.version : NULL);
                printf(", \"abi\": %u, \"path\": ", ok[i] ? p->desc.abi_major : 0);
                json_string(stdout, p->path);
                printf(", \"enabled_by\": ");
                json_string(stdout, p->enabled_by);
                printf(", \"loaded\": %s}", ok[i] ? "true" : "false");
        }
        printf("]\n");
}

int cmd_plugins(const struct settings *s, int argc, char **argv) {
        static const int allowed[] = { OPT_JSON, 0 };
        struct cmd_opts o = {};
        struct conf conf = {};
        struct plugin_set set = {};
        _cleanup_free_ int *ok = NULL;
        int r, failures = 0;

        r = parse(
                argc, argv,
                "usage: vmsilo-core plugins [--json]\n\n"
                "Lists the enabled plugins: name, version, ABI, path, and the file that enables it.\n",
                allowed, 0, &o);
        if (r >= 0)
                return r;
        r = global_open(&conf, &set, s, 0);
        ok = calloc(set.n + 1, sizeof(int));
        if (r < 0 || !ok) {
                plugin_set_done(&set);
                conf_done(&conf);
                return r == -ENOMEM || !ok ? EXIT_RUNTIME : EXIT_CONFIG;
        }
        for (size_t i = 0; i < set.n; i++) {
                ok[i] = plugin_load(set.items[i]) >= 0;
                failures += !ok[i];
        }
        if (o.json)
                plugins_json(&set, ok);
        else {
                printf("%-12s %-10s %-4s %-40s %s\n", "NAME", "VERSION", "ABI", "PATH",
                       "ENABLED BY");
                for (size_t i = 0; i < set.n; i++) {
                        const struct plugin *p = set.items[i];

                        printf("%-12s %-10s %-4s %-40s %s\n", p->name,
                               ok[i] ? strempty(p->desc.version) : "-", ok[i] ? "1" : "-", p->path,
                               strempty(p->enabled_by));
                }
        }
        plugin_set_done(&set);
        conf_done(&conf);
        return failures > 0 ? EXIT_CONFIG : EXIT_OK;
}

/* 1 when `name` is root's VM and the caller a user (the member_* functions serve them), 0
 * when the caller uses the runtime dir itself; <0 on OOM. `p` is filled in either case. */
static int remote_place(const struct settings *s, const char *name, struct vm_place *p) {
        int r;

        if (!vm_name_valid(name)) {
                *p = (struct vm_place){};
                return 0; /* the direct path says what is wrong with the name */
        }
        r = vm_place_find(s, name, p);
        if (r < 0)
                return log_oom();
        return !p->direct;
}

/* Root's VM seen by a user: "running", "stopped", or "unknown" when the caller cannot see
 * (never "stopped" then); NULL when the caller uses the runtime dir itself. */
static char *remote_state(const struct settings *s, const char *name) {
        struct vm_place p = {};
        char *state = NULL;

        if (vm_place_find(s, name, &p) < 0)
                state = strdup("unknown");
        else if (!p.direct)
                state = strdup(member_state(&p, name));
        vm_place_done(&p);
        return state;
}

/* The short form of a VM's state, for list: "running", "paused: ...", "needs cleanup". */
static char *state_text(const char *dir, const char *name, int *ret_state, char **ret_reason) {
        char *reason = NULL;
        int state = dir ? vm_run_state(dir, &reason) : VM_STOPPED;

        if (state == VM_NEEDS_CLEANUP && !reason)
                reason = strdup_printf("run 'vmsilo-core cleanup %s'", name);
        *ret_state = state;
        *ret_reason = reason;
        if (!reason)
                return strdup(vm_run_state_name(state));
        return strdup_printf("%s%s %s", vm_run_state_name(state),
                             state == VM_PAUSED    ? ":"
                             : state == VM_RUNNING ? ","
                                                   : ":",
                             reason);
}

int cmd_list(const struct settings *s, int argc, char **argv) {
        static const int allowed[] = { OPT_JSON, 0 };
        struct cmd_opts o = {};
        struct strv names = {};
        int r;

        r = parse(
                argc, argv,
                "usage: vmsilo-core list [--json]\n\n"
                "Lists the configured VMs and the state of each: running, paused (with the\n"
                "reason), starting, stopped, or needs cleanup (a crashed run left host changes).\n",
                allowed, 0, &o);
        if (r >= 0)
                return r;
        r = confdirs_list_vms(&s->dirs, &names);
        if (r < 0) {
                strv_done(&names);
                return log_error_errno(r, "failed to list VMs: %m"), EXIT_RUNTIME;
        }
        if (o.json)
                printf("[");
        else
                printf("%-32s %s\n", "NAME", "STATE");
        for (size_t i = 0; i < names.n; i++) {
                _cleanup_free_ char *dir = settings_runtime_dir(s, names.items[i]);
                _cleanup_free_ char *reason = NULL, *text = remote_state(s, names.items[i]);
                int state = -1;

                if (!text)
                        text = state_text(dir, names.items[i], &state, &reason);
                if (o.json) {
                        printf("%s{\"name\": ", i ? ", " : "");
                        json_string(stdout, names.items[i]);
                        printf(", \"state\": \"%s\", \"reason\": ",
                               state < 0 ? strempty(text) : vm_run_state_name(state));
                        json_string(stdout, reason);
                        printf("}");
                } else
                        printf("%-32s %s\n", names.items[i], strempty(text));
        }
        if (o.json)
                printf("]\n");
        strv_done(&names);
        return EXIT_OK;
}

int cmd_check(const struct settings *s, int argc, char **argv) {
        static const int allowed[] = { OPT_JSON, 0 };
        struct cmd_opts o = {};
        struct vm vm;
        int r, failures;

        r = parse(
                argc, argv,
                "usage: vmsilo-core check [--json] NAME\n\n"
                "Runs every preflight check of VM NAME (the core's and every plugin's) and lists\n"
                "all failures. Changes nothing on the host. Exit 4 if any check fails.\n",
                allowed, 1, &o);
        if (r >= 0)
                return r;
        r = vm_open(&vm, s, o.name);
        if (r < 0) {
                vm_close(&vm);
                return exit_code(r);
        }
        failures = vm_preflight(&vm);
        if (failures > 0)
                log_error("%d preflight check%s failed for VM '%s'", failures,
                          failures == 1 ? "" : "s", o.name);
        if (o.json) {
                printf("{\"vm\": ");
                json_string(stdout, o.name);
                printf(", \"ok\": %s, \"failures\": %d, \"plugins\": [",
                       failures ? "false" : "true", failures);
                for (size_t i = 0; i < vm.plugins.n; i++) {
                        printf("%s", i ? ", " : "");
                        json_string(stdout, vm.plugins.items[i]->name);
                }
                printf("]}\n");
        } else if (failures == 0)
                printf("VM '%s': all preflight checks passed (%zu plugin%s)\n", o.name,
                       vm.plugins.n, vm.plugins.n == 1 ? "" : "s");
        vm_close(&vm);
        return failures > 0 ? EXIT_PREFLIGHT : EXIT_OK;
}

static void print_plan_text(const struct vm *vm, const struct strv *argv) {
        _cleanup_free_ char *cmd = strv_join_quoted(argv, " \\\n    ");

        printf("# VM '%s' (id %u, %s), runtime dir %s\n", vm->config.name, vm->config.id,
               vm->backend->name, vm->runtime_dir);
        printf("# host changes:\n");
        if (vm->desc.steps.n == 0)
                printf("#   (none)\n");
        for (size_t i = 0; i < vm->desc.steps.n; i++)
                printf("#   %s\n", vm->desc.steps.items[i]);
        printf("# helpers:\n");
        if (vm->desc.n_helpers == 0)
                printf("#   (none)\n");
        for (size_t i = 0; i < vm->desc.n_helpers; i++) {
                _cleanup_free_ char *h = strv_join_quoted(&vm->desc.helpers[i].argv, " ");

                printf("#   %s/%s: %s\n", vm->desc.helpers[i].owner, vm->desc.helpers[i].name,
                       strempty(h));
        }
        printf("%s\n", strempty(cmd));
}

static void print_plan_json(const struct vm *vm, const struct strv *argv) {
        _cleanup_free_ char *cmd = strv_join_quoted(argv, " ");

        printf("{\"vm\": ");
        json_string(stdout, vm->config.name);
        printf(", \"id\": %u, \"vmm\": ", vm->config.id);
        json_string(stdout, vm->backend->name);
        printf(", \"runtime_dir\": ");
        json_string(stdout, vm->runtime_dir);
        printf(", \"steps\": ");
        json_strv(stdout, &vm->desc.steps);
        printf(", \"helpers\": [");
        for (size_t i = 0; i < vm->desc.n_helpers; i++) {
                printf("%s{\"plugin\": ", i ? ", " : "");
                json_string(stdout, vm->desc.helpers[i].owner);
                printf(", \"name\": ");
                json_string(stdout, vm->desc.helpers[i].name);
                printf(", \"argv\": ");
                json_strv(stdout, &vm->desc.helpers[i].argv);
                printf("}");
        }
        printf("], \"argv\": ");
        json_strv(stdout, argv);
        printf(", \"command\": ");
        json_string(stdout, cmd);
        printf("}\n");
}

int cmd_print(const struct settings *s, int argc, char **argv) {
        static const int allowed[] = { OPT_JSON, 0 };
        struct cmd_opts o = {};
        struct strv vmm_argv = {};
        struct vm vm;
        int r;

        r = parse(argc, argv,
                  "usage: vmsilo-core print [--json] NAME\n\n"
                  "Prints what 'start NAME' would do: the host changes, the helper processes with\n"
                  "their argv, and the VMM argv, shell-quoted. Changes nothing.\n",
                  allowed, 1, &o);
        if (r >= 0)
                return r;
        r = vm_open(&vm, s, o.name);
        if (r < 0) {
                vm_close(&vm);
                return exit_code(r);
        }
        vm.dry_run = 1;
        r = vm.backend->probe(&vm);
        if (r >= 0) {
                vm.phase = PHASE_PREPARE;
                r = vm_prepare(&vm);
        }
        if (r >= 0)
                r = vm_contribute(&vm);
        if (r >= 0)
                r = vm.backend->render(&vm, &vmm_argv);
        if (r >= 0 && o.json)
                print_plan_json(&vm, &vmm_argv);
        else if (r >= 0)
                print_plan_text(&vm, &vmm_argv);
        strv_done(&vmm_argv);
        vm_close(&vm);
        return r < 0 ? EXIT_RUNTIME : EXIT_OK;
}

int cmd_start(const struct settings *s, int argc, char **argv) {
        static const int allowed[] = { OPT_FOREGROUND, OPT_TIMEOUT, 0 };
        struct cmd_opts o = { .timeout = 30 };
        struct start_options so;
        struct vm_place p;
        int r;

        r = parse(argc, argv,
                  "usage: vmsilo-core start [--foreground] [--timeout S] NAME\n\n"
                  "Runs the pipeline (preflight, prepare, contribute) and starts the VMM under a\n"
                  "supervisor that undoes every host change when the VM ends. Returns once the VM\n"
                  "is up; with --foreground, stays and returns when it stops. --timeout is the\n"
                  "graceful-stop window on SIGTERM (default 30 s).\n",
                  allowed, 1, &o);
        if (r >= 0)
                return r;
        r = remote_place(s, o.name, &p);
        if (r != 0) {
                r = r > 0 && !o.foreground ? member_start(&p, o.name) : EXIT_RUNTIME;
                if (o.foreground)
                        log_error("VM '%s' is root's: 'start --foreground' runs only as root",
                                  o.name);
                vm_place_done(&p);
                return r;
        }
        vm_place_done(&p);
        so = (struct start_options){ .foreground = o.foreground,
                                     .stop_timeout_s = o.timeout,
                                     .up_timeout_s = 30 };
        return exit_code(vm_start(s, o.name, &so));
}

int cmd_stop(const struct settings *s, int argc, char **argv) {
        static const int allowed[] = { OPT_TIMEOUT, 0 };
        struct cmd_opts o = { .timeout = 30 };
        struct vm_place p;
        int r;

        r = parse(argc, argv,
                  "usage: vmsilo-core stop [--timeout S] NAME\n\n"
                  "Presses the VM's power button and waits up to S seconds (default 30), then\n"
                  "stops the VMM, then kills it; every host change is undone. A VM that is not\n"
                  "running is not an error.\n",
                  allowed, 1, &o);
        if (r >= 0)
                return r;
        r = remote_place(s, o.name, &p);
        if (r > 0)
                r = member_stop(&p, o.name, o.timeout);
        else
                r = r < 0 ? EXIT_RUNTIME : exit_code(vm_stop(s, o.name, o.timeout));
        vm_place_done(&p);
        return r;
}

/* 0 when the caller acts on the VM's runtime dir itself; for root's VM seen by a user, the
 * refusal ("only root `doing`") and EXIT_DENIED; EXIT_RUNTIME on OOM. */
static int root_only(const struct settings *s, const char *name, const char *doing,
                     const char *command) {
        struct vm_place p;
        int r = remote_place(s, name, &p);

        vm_place_done(&p);
        if (r > 0) {
                log_error("not allowed: VM '%s' is root's: only root %s ('sudo vmsilo-core %s %s')",
                          name, doing, command, name);
                return EXIT_DENIED;
        }
        return r < 0 ? EXIT_RUNTIME : 0;
}

int cmd_cleanup(const struct settings *s, int argc, char **argv) {
        static const int allowed[] = { 0 };
        struct cmd_opts o = {};
        int r;

        r = parse(argc, argv,
                  "usage: vmsilo-core cleanup NAME\n\n"
                  "Undoes what a crashed run of VM NAME left behind (helpers, taps, files, run\n"
                  "state), from the journal in its runtime dir. Safe to run twice.\n",
                  allowed, 1, &o);
        if (r >= 0)
                return r;
        r = root_only(s, o.name, "cleans it up", "cleanup");
        return r != 0 ? r : exit_code(vm_cleanup(s, o.name));
}

int cmd_resume(const struct settings *s, int argc, char **argv) {
        static const int allowed[] = { 0 };
        struct cmd_opts o = {};
        int r;

        r = parse(argc, argv,
                  "usage: vmsilo-core resume NAME\n\n"
                  "Continues VM NAME after its VMM paused it on an I/O error (a full disk): free\n"
                  "the space first. Fails if the same error pauses it again at once.\n",
                  allowed, 1, &o);
        if (r >= 0)
                return r;
        r = root_only(s, o.name, "resumes it", "resume");
        return r != 0 ? r : exit_code(vm_resume(s, o.name));
}

struct run_opts {
        int pty;
        int no_start;
        const char *user;
        const char *cwd;
        struct strv env;
};

static int parse_run(int argc, char **argv, struct run_opts *o) {
        static const struct option options[] = {
                { "tty", no_argument, NULL, 't' },
                { "no-tty", no_argument, NULL, 'T' },
                { "user", required_argument, NULL, 'u' },
                { "env", required_argument, NULL, 'e' },
                { "workdir", required_argument, NULL, 'w' },
                { "no-start", no_argument, NULL, 'N' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const char usage[] =
                "usage: vmsilo-core run [-t|-T] [-u USER] [-e K=V]... [-w DIR] [--no-start] NAME CMD [ARG...]\n\n"
                "Runs CMD in VM NAME through its guest agent, starting the VM first if it is not\n"
                "running. The argv arrives exactly as given. stdin, stdout and stderr are\n"
                "streamed; Ctrl-C and other signals reach the command. The exit status is the\n"
                "command's (128+N if a signal killed it); 125 if there is no status (the VM,\n"
                "its agent or vmsilo-core failed). A second signal, or none of the command's\n"
                "status within 5 s after the first, ends run itself: 128+N of that signal.\n"
                "  -t, --tty       give the command a pty (raw local terminal, window size)\n"
                "  -T, --no-tty    no pty (the default)\n"
                "  -u, --user U    run as U (name or uid) instead of root\n"
                "  -e, --env K=V   set K (or unset it: -e K)\n"
                "  -w, --workdir D working directory (default: the user's home)\n"
                "  --no-start      fail instead of starting a stopped VM\n";
        int c;

        while ((c = getopt_long(argc, argv, "+tTu:e:w:h", options, NULL)) >= 0) {
                switch (c) {
                case 't':
                case 'T':
                        o->pty = c == 't';
                        break;
                case 'u':
                        o->user = optarg;
                        break;
                case 'w':
                        o->cwd = optarg;
                        break;
                case 'e':
                        if (strv_push(&o->env, optarg) < 0)
                                return log_oom(), EXIT_NO_STATUS;
                        break;
                case 'N':
                        o->no_start = 1;
                        break;
                case 'h':
                        printf("%s", usage);
                        return EXIT_OK;
                default:
                        fprintf(stderr, "%s", usage);
                        return EXIT_NO_STATUS;
                }
        }
        if (argc - optind < 2) {
                fprintf(stderr, "%s", usage);
                return EXIT_NO_STATUS;
        }
        return -1;
}

/* A command in flight cannot tell that its VM was paused under it (the guest just stops
 * answering): a small watcher process says so on stderr, once per pause, while `run` keeps
 * waiting, so that `resume` lets the command finish. */
static pid_t watch_pause(const char *dir, const char *name) {
        pid_t parent = getpid(), pid = fork();
        int said = 0;

        if (pid != 0)
                return pid;
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        while (getppid() == parent) {
                _cleanup_free_ char *why = runstate_read(dir, RS_PAUSED);

                if (why && !said)
                        fprintf(stderr,
                                "\r\nvmsilo-core: VM '%s' is paused: %s; run 'vmsilo-core resume %s' or stop it\r\n",
                                name, why, name);
                said = why != NULL;
                sleep_ms(500);
        }
        _exit(0);
}

int cmd_run(const struct settings *s, int argc, char **argv) {
        struct run_opts o = {};
        _cleanup_free_ char *dir = NULL, *addr = NULL;
        struct agent_request req;
        struct vm_place p;
        const char *name;
        pid_t watcher;
        int r;

        r = parse_run(argc, argv, &o);
        if (r >= 0) {
                strv_done(&o.env);
                return r;
        }
        name = argv[optind];
        req = (struct agent_request){ .argv = argv + optind + 1,
                                      .env = &o.env,
                                      .user = o.user,
                                      .cwd = o.cwd,
                                      .pty = o.pty,
                                      .connect_timeout_s = 120 };
        r = remote_place(s, name, &p);
        if (r != 0) {
                r = r > 0 ? member_run(&p, name, &req, o.no_start) : EXIT_NO_STATUS;
                vm_place_done(&p);
                strv_done(&o.env);
                return r;
        }
        vm_place_done(&p);
        dir = settings_runtime_dir(s, name);
        if (vm_name_check(name) < 0 || !dir) {
                strv_done(&o.env);
                return EXIT_NO_STATUS;
        }
        if (vm_runtime_dir_check(dir) < 0) {
                strv_done(&o.env);
                return EXIT_NO_STATUS;
        }
        if (state_is_running(dir) <= 0) {
                struct start_options so = { .stop_timeout_s = 30, .up_timeout_s = 30 };

                if (o.no_start) {
                        log_error("VM '%s' is not running", name);
                        strv_done(&o.env);
                        return EXIT_NO_STATUS;
                }
                log_info("starting VM '%s'", name);
                r = vm_start(s, name, &so);
                if (r < 0 && r != -EBUSY) {
                        strv_done(&o.env);
                        return EXIT_NO_STATUS;
                }
        }
        /* another command may be starting it: wait for that, then run */
        if (vm_wait_up(dir, name, 90) < 0) {
                strv_done(&o.env);
                return EXIT_NO_STATUS;
        }
        addr = vm_agent_address(dir);
        if (!addr) {
                log_error("VM '%s' has no guest agent address in '%s'", name, dir);
                strv_done(&o.env);
                return EXIT_NO_STATUS;
        }
        watcher = watch_pause(dir, name);
        r = agent_run(name, addr, &req);
        if (r < 0)
                r = EXIT_NO_STATUS;
        if (watcher > 0) {
                (void) kill(watcher, SIGKILL);
                (void) waitpid(watcher, NULL, 0);
        }
        strv_done(&o.env);
        return r;
}

/* ssh over vsock as vmsilo's vm-shell --ssh does, with socat as the proxy. */
static int shell_ssh(const struct settings *s, const char *name, int root) {
        struct vm vm;
        char proxy[128], target[128];
        int r;

        r = vm_open(&vm, s, name);
        if (r < 0) {
                vm_close(&vm);
                return exit_code(r);
        }
        if (vm.backend->vmm != VMSILO_VMM_CROSVM) {
                log_error("VM '%s' runs on %s, which gives it no vsock: 'shell --ssh' needs crosvm",
                          name, vm.backend->name);
                vm_close(&vm);
                return EXIT_RUNTIME;
        }
        snprintf(proxy, sizeof(proxy), "ProxyCommand=socat - VSOCK-CONNECT:%u:22", vm.config.id);
        snprintf(target, sizeof(target), "%s@vmsilo-%s", root ? "root" : vm.config.user, name);
        vm_close(&vm);
        execlp("ssh", "ssh", "-o", proxy, "-o", "StrictHostKeyChecking=accept-new", target,
               (char *) NULL);
        log_error_errno(errno, "failed to execute 'ssh': %m");
        return EXIT_RUNTIME;
}

int cmd_shell(const struct settings *s, int argc, char **argv) {
        static const struct option options[] = {
                { "agent", no_argument, NULL, 'a' },
                { "ssh", no_argument, NULL, 's' },
                { "root", no_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const char usage[] =
                "usage: vmsilo-core shell [--agent | --ssh [--root]] NAME\n\n"
                "Without options: attaches to the serial console of the running VM NAME (Ctrl-]\n"
                "detaches and restores the terminal). --agent: a login shell through the guest\n"
                "agent (starts the VM if needed), exit status as 'run'. --ssh: ssh over vsock to\n"
                "the VM's CID (for VMs that run sshd), as user 'user', or root with --root.\n";
        _cleanup_free_ char *dir = NULL, *sock = NULL;
        int c, agent = 0, ssh = 0, root = 0;
        struct vm_place p;
        const char *name;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'a')
                        agent = 1;
                else if (c == 's')
                        ssh = 1;
                else if (c == 'r')
                        root = 1;
                else if (c == 'h') {
                        printf("%s", usage);
                        return EXIT_OK;
                } else {
                        fprintf(stderr, "%s", usage);
                        return EXIT_USAGE;
                }
        }
        if (argc - optind != 1 || (agent && ssh) || (root && !ssh)) {
                fprintf(stderr, "%s", usage);
                return EXIT_USAGE;
        }
        name = argv[optind];
        dir = settings_runtime_dir(s, name);
        if (vm_name_check(name) < 0 || !dir)
                return EXIT_USAGE;
        if (agent) {
                char *run_argv[] = { "run", "-t", (char *) name, "/bin/sh", "-l", NULL };

                optind = 0;
                return cmd_run(s, 5, run_argv);
        }
        if (ssh)
                return shell_ssh(s, name, root);
        c = remote_place(s, name, &p);
        if (c != 0) {
                c = c > 0 ? member_console(&p, name) : EXIT_RUNTIME;
                vm_place_done(&p);
                return c;
        }
        vm_place_done(&p);
        if (vm_runtime_dir_check(dir) < 0)
                return EXIT_RUNTIME;
        sock = strdup_printf("%s/%s", dir, VM_CONSOLE_SOCKET);
        if (!sock)
                return log_oom(), EXIT_RUNTIME;
        return console_attach(name, sock);
}
