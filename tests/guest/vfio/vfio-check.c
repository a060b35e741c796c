/* SPDX-License-Identifier: MIT */
/*
 * The vfio plugin's own code (the .c files of plugins/vfio) on a real sysfs, for the test guest of
 * tests/e2e/test-vfio.sh: linked statically with the mock host, it drives the plugin's hooks
 * the way the core does and prints what the plugin logged, described and registered.
 *
 *   vfio-check [-r BDF]... check DEVICE...     configure, preflight
 *   vfio-check [-r BDF]... prepare DEVICE...   configure, preflight, prepare, contribute
 *   vfio-check undo ACTION                     undo in a fresh instance (as `cleanup` does)
 *
 * Output: "error: ...", "warning: ...", "info: ..." per log line, "step: ..." per described
 * host change, "undo: ACTION" per registered undo, "device: PATH[ OPTIONS]" per contributed
 * device, then "result: ok" or "result: failed". Exit 0 or 1; 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock-host.h"

extern const struct vmsilo_plugin vmsilo_plugin_v1;

static void report(const struct mock_host *m) {
        for (int i = 0; i < m->n_logs; i++)
                printf("%s: %s\n",
                       m->log_levels[i] <= VMSILO_LOG_ERROR     ? "error"
                       : m->log_levels[i] <= VMSILO_LOG_WARNING ? "warning"
                                                                : "info",
                       m->logs[i] ? m->logs[i] : "?");
        for (int i = 0; i < m->n_steps; i++)
                printf("step: %s\n", m->steps[i]);
        for (int i = 0; i < m->n_undos; i++)
                printf("undo: %s\n", m->undos[i]);
        for (int i = 0; i < m->n_devices; i++)
                printf("device: %s%s%s\n", m->devices[i].path, m->devices[i].options ? " " : "",
                       m->devices[i].options ? m->devices[i].options : "");
}

static int usage(void) {
        fprintf(stderr, "usage: vfio-check [-r BDF]... check|prepare DEVICE...\n"
                        "       vfio-check undo ACTION\n");
        return 2;
}

int main(int argc, char **argv) {
        const struct vmsilo_plugin *p = &vmsilo_plugin_v1;
        static struct mock_host m;
        void *state = NULL;
        const char *cmd;
        int c, r = 0;

        mock_host_init(&m);
        m.vm_name = "vfio-check";
        m.uid = geteuid();
        m.gid = getegid();
        if (mock_host_start(&m, p, &state) < 0)
                return 1;
        while ((c = getopt(argc, argv, "+r:")) >= 0) {
                if (c != 'r')
                        return usage();
                if (mock_host_configure(&m, p, state, NULL, "reserve", optarg) < 0)
                        r = -1;
        }
        if (optind >= argc)
                return usage();
        cmd = argv[optind++];
        if (strcmp(cmd, "undo") == 0) {
                if (optind != argc - 1)
                        return usage();
                if (r >= 0)
                        r = mock_host_configured(&m, p, state);
                if (r >= 0)
                        r = p->undo(state, argv[optind]);
        } else if (strcmp(cmd, "check") == 0 || strcmp(cmd, "prepare") == 0) {
                for (int i = optind; i < argc; i++) {
                        char label[32];

                        snprintf(label, sizeof(label), "dev%d", i - optind);
                        if (mock_host_configure(&m, p, state, label, "device", argv[i]) < 0)
                                r = -1;
                }
                /* the core's check once all keys are in (a [vfio x] without device =) */
                if (r >= 0)
                        r = mock_host_configured(&m, p, state);
                if (r >= 0)
                        r = p->preflight(state);
                if (r >= 0 && strcmp(cmd, "prepare") == 0) {
                        r = p->prepare(state);
                        if (r >= 0)
                                r = p->contribute(state);
                }
        } else
                return usage();
        report(&m);
        printf("result: %s\n", r < 0 ? "failed" : "ok");
        p->teardown(state);
        mock_host_done(&m);
        return r < 0 ? 1 : 0;
}
