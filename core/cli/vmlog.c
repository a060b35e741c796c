/* SPDX-License-Identifier: MIT */
/* `vmsilo-core log`: the console and supervisor logs kept in the state dir after a VM ends. */
#include "cli/vmlog.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/exitcode.h"
#include "config/vmconf.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strv.h"

#define LOG_READ_MAX (16u << 20)

size_t vmlog_tail_start(const char *buf, size_t len, unsigned max_lines) {
        size_t i = len;
        unsigned seen = 0;

        if (max_lines == 0)
                return len;
        if (i > 0 && buf[i - 1] == '\n')
                i--; /* the newline that ends the last line */
        while (i > 0) {
                if (buf[i - 1] == '\n' && ++seen == max_lines)
                        return i;
                i--;
        }
        return 0;
}

unsigned vmlog_print_escaped(FILE *out, const char *buf, size_t len) {
        unsigned n = 0;

        while (len > 0) {
                const char *nl = memchr(buf, '\n', len);
                size_t l = nl ? (size_t) (nl - buf) : len;
                /* a serial console ends lines with \r\n */
                char *text = text_escape(buf, l > 0 && buf[l - 1] == '\r' ? l - 1 : l);

                fprintf(out, "%s\n", text ? text : "(out of memory)");
                free(text);
                n++;
                buf += nl ? l + 1 : l;
                len -= nl ? l + 1 : l;
        }
        return n;
}

/* Appends the file `name` under dir_fd to *buf; a missing file adds nothing. */
static int read_append(int dir_fd, const char *name, char **buf, size_t *len) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        char chunk[65536];
        ssize_t n;

        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
                char *b;

                if (*len + (size_t) n > LOG_READ_MAX)
                        return -EFBIG;
                b = realloc(*buf, *len + (size_t) n + 1);
                if (!b)
                        return -ENOMEM;
                memcpy(b + *len, chunk, (size_t) n);
                *buf = b;
                *len += (size_t) n;
        }
        return n < 0 ? negative_errno() : 1;
}

/* The last `lines` lines of NAME.1 then NAME (the rotated part first). */
static int print_log(int dir_fd, const char *title, const char *name, unsigned lines) {
        _cleanup_free_ char *buf = NULL, *old = strdup_printf("%s.1", name);
        size_t len = 0, start;
        int r, found;

        if (!old)
                return log_oom();
        r = read_append(dir_fd, old, &buf, &len);
        found = r > 0;
        if (r >= 0)
                r = read_append(dir_fd, name, &buf, &len);
        if (r < 0)
                return log_error_errno(r, "failed to read '%s': %m", name);
        found |= r > 0;
        printf("--- %s (%s)\n", title, found ? name : "none kept");
        start = vmlog_tail_start(buf, len, lines);
        (void) vmlog_print_escaped(stdout, buf + start, len - start);
        return found;
}

static const char usage[] =
        "usage: vmsilo-core log [--console|--supervisor] [--lines N] NAME\n\n"
        "Prints the logs kept in the state dir after a VM ends (and while it runs): the last\n"
        "console output of the guest and the supervisor's log. Default: both, the last 100\n"
        "lines of each. Control characters are escaped.\n";

int cmd_log(const struct settings *s, int argc, char **argv) {
        static const struct option options[] = {
                { "console", no_argument, NULL, 'c' },
                { "supervisor", no_argument, NULL, 's' },
                { "lines", required_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -1;
        int c, which = 0, found = 0;
        unsigned long lines = 100;
        char *end;

        while ((c = getopt_long(argc, argv, "hn:", options, NULL)) >= 0) {
                if (c == 'h')
                        return printf("%s", usage), EXIT_OK;
                if (c == 'c' || c == 's')
                        which |= c == 'c' ? 1 : 2;
                else if (c == 'n') {
                        errno = 0;
                        lines = strtoul(optarg, &end, 10);
                        if (errno || *end || !*optarg || lines > 1000000)
                                return fprintf(stderr, "%s", usage), EXIT_USAGE;
                } else
                        return fprintf(stderr, "%s", usage), EXIT_USAGE;
        }
        if (optind != argc - 1)
                return fprintf(stderr, "%s", usage), EXIT_USAGE;
        if (vm_name_check(argv[optind]) < 0)
                return EXIT_USAGE;
        if (!s->state_dir)
                return log_error("no state dir: no logs are kept"), EXIT_RUNTIME;
        dir = strdup_printf("%s/%s", s->state_dir, argv[optind]);
        if (!dir)
                return log_oom(), EXIT_RUNTIME;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "no logs of VM '%s' in '%s': %m", argv[optind], dir),
                       EXIT_RUNTIME;
        if (which == 0)
                which = 3;
        if (which & 1)
                found |= print_log(fd, "console", "console.log", (unsigned) lines);
        if (found >= 0 && (which & 2))
                found |= print_log(fd, "supervisor", "supervisor.log", (unsigned) lines);
        return found < 0 ? EXIT_RUNTIME : EXIT_OK;
}
