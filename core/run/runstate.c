/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "run/runstate.h"
#include "util/log.h"
#include "util/process.h"
#include "util/state.h"
#include "util/strv.h"

int runstate_write(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", dir, name);
        _cleanup_free_ char *tmp = strdup_printf("%s/.%s.tmp", dir, name);
        FILE *f;

        if (!path || !tmp)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return negative_errno();
        fputs(text, f);
        if (fclose(f) != 0 || rename(tmp, path) < 0) {
                (void) unlink(tmp);
                return negative_errno();
        }
        return 0;
}

int runstate_append(const char *dir, const char *name, const char *line) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", dir, name);
        FILE *f;

        if (!path)
                return -ENOMEM;
        f = fopen(path, "ae");
        if (!f)
                return negative_errno();
        fprintf(f, "%s\n", line);
        return fclose(f) == 0 ? 0 : negative_errno();
}

char *runstate_read(const char *dir, const char *name) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", dir, name);
        _cleanup_close_ int fd = -1;
        char *buf;
        ssize_t n;

        if (!path)
                return NULL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return NULL;
        buf = calloc(1, 16385);
        if (!buf)
                return NULL;
        n = read(fd, buf, 16384);
        if (n < 0) {
                free(buf);
                return NULL;
        }
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = 0;
        return buf;
}

int runstate_exists(const char *dir, const char *name) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", dir, name);

        return path && access(path, F_OK) == 0;
}

/* "'virtiofs/data' killed by signal 9, ..." from the helper-failed lines */
static char *failed_helpers_text(const char *dir) {
        _cleanup_free_ char *text = runstate_read(dir, RS_HELPER_FAILED);
        char *out = NULL, *save = NULL;

        if (!text)
                return NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char label[256] = "", cause[512] = "";
                char *n;

                if (sscanf(line, "%255[^\t]\t%*d\t%511[^\n]", label, cause) < 1)
                        continue;
                n = strdup_printf("%s%shelper '%s' %s", strempty(out), out ? ", " : "", label,
                                  cause);
                free(out);
                out = n;
                if (!n)
                        return NULL;
        }
        return out;
}

static int journal_pending(const char *dir) {
        _cleanup_free_ char *path = strdup_printf("%s/journal", dir);
        struct stat st;

        return path && stat(path, &st) == 0 && st.st_size > 0;
}

int vm_run_state(const char *dir, char **ret_detail) {
        char *detail = NULL;
        int state;
        struct stat st;

        if (state_is_running(dir) > 0) {
                _cleanup_free_ char *paused = runstate_read(dir, RS_PAUSED);

                if (access(dir, F_OK) == 0 && !runstate_exists(dir, RS_UP))
                        state = VM_STARTING;
                else if (paused) {
                        state = VM_PAUSED;
                        detail = TAKE_PTR(paused);
                } else {
                        state = VM_RUNNING;
                        detail = failed_helpers_text(dir);
                }
        } else if (stat(dir, &st) == 0 && journal_pending(dir)) {
                state = VM_NEEDS_CLEANUP;
        } else
                state = VM_STOPPED;
        if (ret_detail)
                *ret_detail = detail;
        else
                free(detail);
        return state;
}

const char *vm_run_state_name(int state) {
        static const char *const names[] = {
                [VM_STOPPED] = "stopped",
                [VM_STARTING] = "starting",
                [VM_RUNNING] = "running",
                [VM_PAUSED] = "paused",
                [VM_NEEDS_CLEANUP] = "needs cleanup",
        };

        return state >= 0 && state < (int) ELEMENTSOF(names) ? names[state] : "unknown";
}

void runstate_keep_error(const char *state_dir, const char *text) {
        _cleanup_free_ char *old = NULL;
        char line[4096];

        if (!state_dir || mkdir_parents(state_dir, 0700, 0700) < 0)
                return;
        snprintf(line, sizeof(line), "%lld\t%s", (long long) time(NULL), text);
        for (char *c = line; *c; c++)
                if (*c == '\n')
                        *c = '\r'; /* one record per line; status turns it back */
        old = runstate_read(state_dir, RS_LAST_ERROR);
        if (old && strlen(old) > 8192) {
                /* bounded: the newest records are what status shows */
                const char *keep = strchr(old + strlen(old) - 4096, '\n');
                _cleanup_free_ char *text2 = strdup_printf("%s\n%s\n", keep ? keep + 1 : "", line);

                if (text2)
                        (void) runstate_write(state_dir, RS_LAST_ERROR, text2);
                return;
        }
        (void) runstate_append(state_dir, RS_LAST_ERROR, line);
}

void runstate_keep_file(const char *state_dir, const char *name, const char *path, size_t max) {
        _cleanup_free_ char *tail = file_tail(path, max);

        if (!state_dir || !tail || !tail[0] || mkdir_parents(state_dir, 0700, 0700) < 0)
                return;
        (void) runstate_write(state_dir, name, tail);
}
