/* SPDX-License-Identifier: MIT */
/* `status`: one VM's state, uptime, processes, host changes and last errors. */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "cli/access.h"
#include "cli/commands.h"
#include "cli/exitcode.h"
#include "plugin/vm.h"
#include "run/runstate.h"
#include "run/supervisor.h"
#include "util/json.h"
#include "util/log.h"
#include "util/process.h"
#include "util/state.h"

struct proc_info {
        char label[256];
        pid_t pid;
        const char *state; /* running, sleeping, stopped by a signal, gone, ... */
        char cause[256];   /* why a helper ended, from the supervisor */
};

struct status {
        const char *name;
        int state;
        char *reason;
        long long uptime_s; /* -1: not up */
        struct proc_info vmm;
        struct proc_info *helpers;
        size_t n_helpers;
        struct strv changes;
        struct strv errors; /* "TIME\tTEXT", newest last */
};

static const char *pid_state(pid_t pid, unsigned long long start) {
        if (pid <= 0 || !process_alive(pid, start))
                return "gone";
        switch (process_state(pid)) {
        case 'R':
                return "running";
        case 'S':
        case 'I':
                return "sleeping";
        case 'D':
                return "waiting for I/O";
        case 'T':
                return "stopped by a signal";
        case 't':
                return "traced";
        default:
                return "running";
        }
}

static void failed_cause(const char *dir, const char *label, char *cause, size_t size) {
        _cleanup_free_ char *text = runstate_read(dir, RS_HELPER_FAILED);
        char *save = NULL;

        cause[0] = 0;
        for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
             line = strtok_r(NULL, "\n", &save)) {
                char *tab = strchr(line, '\t'), *tab2 = tab ? strchr(tab + 1, '\t') : NULL;

                if (tab2 && (size_t) (tab - line) == strlen(label) &&
                    strncmp(line, label, strlen(label)) == 0)
                        snprintf(cause, size, "%s", tab2 + 1);
        }
}

static void collect_processes(const char *dir, struct status *st) {
        struct journal_record *recs = NULL;
        unsigned long long start = 0;
        size_t n = 0;

        st->vmm.pid = read_pid_file(dir, "vmm.pid", &start);
        st->vmm.state = pid_state(st->vmm.pid, start);
        if (journal_read(dir, &recs, &n) < 0)
                return;
        st->helpers = calloc(n + 1, sizeof(*st->helpers));
        for (size_t i = 0; st->helpers && i < n; i++) {
                struct proc_info *p = &st->helpers[st->n_helpers];
                unsigned long long t = recs[i].b ? strtoull(recs[i].b, NULL, 10) : 0;

                if (!streq(recs[i].kind, "kill") || !recs[i].a)
                        continue;
                p->pid = (pid_t) atoi(recs[i].a);
                if (p->pid == st->vmm.pid) {
                        snprintf(st->vmm.label, sizeof(st->vmm.label), "%s", strempty(recs[i].c));
                        continue;
                }
                snprintf(p->label, sizeof(p->label), "%s", strempty(recs[i].c));
                p->state = pid_state(p->pid, t);
                failed_cause(dir, p->label, p->cause, sizeof(p->cause));
                st->n_helpers++;
        }
        journal_records_free(recs, n);
}

static void collect_errors(const struct settings *s, const char *name, struct strv *errors) {
        _cleanup_free_ char *dir = settings_state_dir(s, name), *text = NULL;
        char *save = NULL;
        size_t skip;

        text = dir ? runstate_read(dir, RS_LAST_ERROR) : NULL;
        for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
             line = strtok_r(NULL, "\n", &save))
                (void) strv_push(errors, line);
        /* the newest five */
        skip = errors->n > 5 ? errors->n - 5 : 0;
        for (size_t i = 0; i < skip; i++)
                free(errors->items[i]);
        memmove(errors->items, errors->items + skip, (errors->n - skip) * sizeof(char *));
        errors->n -= skip;
}

static void collect(const struct settings *s, const char *name, const char *dir,
                    struct status *st) {
        _cleanup_free_ char *up = NULL, *changes = NULL;
        char *save = NULL;

        st->name = name;
        st->uptime_s = -1;
        st->state = vm_run_state(dir, &st->reason);
        if (st->state == VM_RUNNING || st->state == VM_PAUSED) {
                up = runstate_read(dir, RS_UP);
                if (up)
                        st->uptime_s = (long long) time(NULL) - atoll(up);
        }
        if (st->state != VM_STOPPED)
                collect_processes(dir, st);
        changes = vm_journal_text(dir, "\n");
        for (char *c = changes ? strtok_r(changes, "\n", &save) : NULL; c;
             c = strtok_r(NULL, "\n", &save))
                (void) strv_push(&st->changes, c);
        collect_errors(s, name, &st->errors);
}

static void status_done(struct status *st) {
        free(st->reason);
        free(st->helpers);
        strv_done(&st->changes);
        strv_done(&st->errors);
}

static void print_error_line(FILE *f, const char *line, int json) {
        long long t = atoll(line);
        const char *text = strchr(line, '\t');
        _cleanup_free_ char *copy = strdup(text ? text + 1 : line);
        char when[32] = "";
        struct tm tm;
        time_t tt = (time_t) t;

        for (char *c = copy; c && *c; c++)
                if (*c == '\r')
                        *c = '\n';
        if (json) {
                fprintf(f, "{\"time\": %lld, \"text\": ", t);
                json_string(f, copy);
                fprintf(f, "}");
                return;
        }
        if (localtime_r(&tt, &tm))
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(f, "  %s  %s\n", when, strempty(copy));
}

static void print_json(const struct status *st) {
        printf("{\"name\": ");
        json_string(stdout, st->name);
        printf(", \"state\": \"%s\", \"reason\": ", vm_run_state_name(st->state));
        json_string(stdout, st->reason);
        printf(", \"uptime_s\": ");
        if (st->uptime_s >= 0)
                printf("%lld", st->uptime_s);
        else
                printf("null");
        printf(", \"vmm\": ");
        if (st->vmm.pid > 0) {
                printf("{\"name\": ");
                json_string(stdout, st->vmm.label);
                printf(", \"pid\": %d, \"state\": \"%s\"}", (int) st->vmm.pid, st->vmm.state);
        } else
                printf("null");
        printf(", \"helpers\": [");
        for (size_t i = 0; i < st->n_helpers; i++) {
                printf("%s{\"name\": ", i ? ", " : "");
                json_string(stdout, st->helpers[i].label);
                printf(", \"pid\": %d, \"state\": \"%s\", \"failure\": ", (int) st->helpers[i].pid,
                       st->helpers[i].state);
                json_string(stdout, st->helpers[i].cause);
                printf("}");
        }
        printf("], \"host_changes\": ");
        json_strv(stdout, &st->changes);
        printf(", \"last_errors\": [");
        for (size_t i = 0; i < st->errors.n; i++) {
                printf("%s", i ? ", " : "");
                print_error_line(stdout, st->errors.items[i], 1);
        }
        printf("]}\n");
}

static void print_text(const struct status *st) {
        printf("VM '%s': %s%s%s\n", st->name, vm_run_state_name(st->state), st->reason ? ": " : "",
               strempty(st->reason));
        if (st->state == VM_NEEDS_CLEANUP)
                printf("  a run ended without undoing its host changes: run 'vmsilo-core cleanup %s'\n",
                       st->name);
        if (st->uptime_s >= 0)
                printf("uptime: %lldh %02lldm %02llds\n", st->uptime_s / 3600,
                       st->uptime_s / 60 % 60, st->uptime_s % 60);
        if (st->vmm.pid > 0)
                printf("vmm: %s pid %d (%s)\n", st->vmm.label[0] ? st->vmm.label : "vmm",
                       (int) st->vmm.pid, st->vmm.state);
        for (size_t i = 0; i < st->n_helpers; i++)
                printf("helper %s: pid %d (%s%s%s)\n", st->helpers[i].label,
                       (int) st->helpers[i].pid, st->helpers[i].state,
                       st->helpers[i].cause[0] ? ", " : "", st->helpers[i].cause);
        if (st->changes.n > 0) {
                printf("host changes (journal):\n");
                for (size_t i = 0; i < st->changes.n; i++)
                        printf("  %s\n", st->changes.items[i]);
        }
        if (st->errors.n > 0) {
                printf("last errors:\n");
                for (size_t i = 0; i < st->errors.n; i++)
                        print_error_line(stdout, st->errors.items[i], 0);
        }
}

int cmd_status(const struct settings *s, int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const char usage[] =
                "usage: vmsilo-core status [--json] NAME\n\n"
                "Shows VM NAME's state (running, paused with the reason, starting, stopped, needs\n"
                "cleanup), its uptime, the VMM and helper pids with their state, the host changes\n"
                "in its journal, and its last errors (kept across runs).\n";
        _cleanup_free_ char *dir = NULL;
        struct status st = {};
        int c, json = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'j')
                        json = 1;
                else if (c == 'h') {
                        printf("%s", usage);
                        return EXIT_OK;
                } else {
                        fprintf(stderr, "%s", usage);
                        return EXIT_USAGE;
                }
        }
        if (argc - optind != 1) {
                fprintf(stderr, "%s", usage);
                return EXIT_USAGE;
        }
        if (vm_name_check(argv[optind]) < 0)
                return EXIT_USAGE;
        {
                /* root's VM seen by a user: only what its client socket says */
                struct vm_place p = {};
                int r = vm_place_find(s, argv[optind], &p), remote = r >= 0 && !p.direct;

                if (remote)
                        printf("VM '%s': %s\n", argv[optind], member_state(&p, argv[optind]));
                vm_place_done(&p);
                if (r < 0)
                        return log_oom(), EXIT_RUNTIME;
                if (remote)
                        return EXIT_OK;
        }
        dir = settings_runtime_dir(s, argv[optind]);
        if (!dir)
                return log_oom(), EXIT_RUNTIME;
        if (vm_runtime_dir_check(dir) < 0)
                return EXIT_RUNTIME;
        collect(s, argv[optind], dir, &st);
        if (json)
                print_json(&st);
        else
                print_text(&st);
        status_done(&st);
        return EXIT_OK;
}
