/* Small helpers shared by vmsilo-init and its agent mode. */
#ifndef VMSILO_GUEST_UTIL_H
#define VMSILO_GUEST_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

extern int log_debug_enabled;
extern const char *log_prefix;

/* Messages go to stderr (the console), prefixed with log_prefix. */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole small file into buf (NUL-terminated, trailing newlines stripped); returns
 * its length or a negative errno. */
int read_small_file(const char *path, char *buf, size_t size);
int write_file(const char *path, const char *data, int flags);
int mkdir_p(const char *path, int mode);
/* Runs argv (argv[0] an absolute path) and waits; returns its exit status or -errno.
 * quiet: stdio on /dev/null. */
int run_wait(char *const argv[], int quiet);
/* Starts argv in the background with stdio on /dev/null; returns its pid or -errno. */
pid_t run_background(char *const argv[]);
/* Decodes %XX in place; returns 0 or -EINVAL on a bad escape. */
int percent_decode(char *s);
long long now_ms(void);
int write_all(int fd, const void *buf, size_t len);
/* Joins a root directory and an absolute path ("/" root gives path itself). */
int path_join(char *buf, size_t size, const char *root, const char *path);

#endif
