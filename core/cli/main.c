/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>

#include "cli/commands.h"
#include "cli/exitcode.h"
#include "cli/vmlog.h"
#include "config/settings.h"
#include "util/log.h"
#include "vmsilo/plugin.h"

#ifndef VMSILO_VERSION
#define VMSILO_VERSION "0.1.0"
#endif

struct command {
        const char *name;
        int (*run)(const struct settings *s, int argc, char **argv);
        const char *summary;
};

static const struct command commands[] = {
        { "plugins", cmd_plugins, "list the enabled plugins" },
        { "list", cmd_list, "list the configured VMs and the state of each" },
        { "status", cmd_status, "the state, processes, host changes and last errors of a VM" },
        { "check", cmd_check, "run every preflight check of a VM" },
        { "print", cmd_print, "print the plan: host changes, helpers, the VMM argv" },
        { "start", cmd_start, "start a VM" },
        { "stop", cmd_stop, "stop a VM and undo its host changes" },
        { "resume", cmd_resume, "continue a VM that its VMM paused (an I/O error)" },
        { "cleanup", cmd_cleanup, "undo what a crashed run of a VM left behind" },
        { "run", cmd_run, "run a command in a VM (starting it if needed)" },
        { "log", cmd_log, "the console and supervisor logs kept after a VM ends" },
        { "shell", cmd_shell, "the serial console of a VM, or a shell through its agent" },
        { "exec", cmd_exec, "run a script in a throw-away VM, with its exit status" },
};

static void usage(FILE *f) {
        fprintf(f,
                "usage: vmsilo-core [OPTIONS] COMMAND [ARGS...]\n\n"
                "Launches desktop app VMs on crosvm (or QEMU), one plugin per device concern.\n\n"
                "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
        fprintf(f,
                "\nOptions:\n"
                "  --root DIR         read configuration under DIR instead of / ($VMSILO_ROOT)\n"
                "  --plugin-dir DIR   load plugins from DIR ($VMSILO_PLUGIN_DIR)\n"
                "  --runtime-dir DIR  keep run state under DIR ($VMSILO_RUNTIME_DIR)\n"
                "  -v, --verbose      log more (twice: debug)\n"
                "  -q, --quiet        log errors only\n"
                "  -h, --help         show this help ('COMMAND --help' for a command)\n"
                "  --version          show the version\n\n"
                "Exit codes: 0 ok, 1 runtime failure, 2 usage, 3 configuration or plugin error,\n"
                "4 preflight failure, 5 VM not found, 6 VM already running, 7 VM not running.\n");
}

int main(int argc, char **argv) {
        enum { OPT_ROOT = 256, OPT_PLUGIN_DIR, OPT_RUNTIME_DIR, OPT_VERSION };
        static const struct option options[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR },
                { "runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR },
                { "verbose", no_argument, NULL, 'v' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {},
        };
        const char *root = NULL, *plugin_dir = NULL, *runtime_dir = NULL;
        struct settings s;
        int c, r, level = LOG_LEVEL_NOTICE;

        while ((c = getopt_long(argc, argv, "+vqh", options, NULL)) >= 0) {
                switch (c) {
                case OPT_ROOT:
                        root = optarg;
                        break;
                case OPT_PLUGIN_DIR:
                        plugin_dir = optarg;
                        break;
                case OPT_RUNTIME_DIR:
                        runtime_dir = optarg;
                        break;
                case 'v':
                        level = level < LOG_LEVEL_INFO ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;
                        break;
                case 'q':
                        level = LOG_LEVEL_ERR;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_OK;
                case OPT_VERSION:
                        printf("vmsilo-core %s (plugin ABI %d.%d)\n", VMSILO_VERSION,
                               VMSILO_PLUGIN_ABI_MAJOR, VMSILO_PLUGIN_ABI_MINOR);
                        return EXIT_OK;
                default:
                        usage(stderr);
                        return EXIT_USAGE;
                }
        }
        log_set_max_level(level);
        if (optind >= argc) {
                usage(stderr);
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (!streq(commands[i].name, argv[optind]))
                        continue;
                r = settings_init(&s, root, plugin_dir, runtime_dir);
                if (r < 0) {
                        log_oom();
                        return EXIT_RUNTIME;
                }
                argv += optind;
                argc -= optind;
                optind = 0;
                r = commands[i].run(&s, argc, argv);
                settings_done(&s);
                return r;
        }
        log_error("unknown command '%s'; see 'vmsilo-core --help'", argv[optind]);
        return EXIT_USAGE;
}
