/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat), or 0. */
unsigned long long process_start_time(pid_t pid);

/* The state letter of /proc/PID/stat (R, S, D, T, Z, ...), or 0 if there is no such process. */
char process_state(pid_t pid);

/* 1 if `pid` runs and has start time `start` (0 = don't check), else 0. */
int process_alive(pid_t pid, unsigned long long start);

/* SIGTERM, wait up to timeout_ms, then SIGKILL; reaps it if it is our child. Safe against
 * pid reuse through `start`. Returns 0 when the process is gone. */
int process_stop(pid_t pid, unsigned long long start, unsigned timeout_ms);

/* Waits up to timeout_ms for `pid` to end; reaps children. 0 gone, -ETIMEDOUT. */
int process_wait_gone(pid_t pid, unsigned long long start, unsigned timeout_ms);

/*
 * fork+exec `argv` (argv[0] looked up in $PATH) with stdin from /dev/null and stdout+stderr
 * appended to `log_path` (or inherited when NULL). The child gets SIGTERM when the calling
 * thread dies. `keep_fds` (n of them) lose CLOEXEC in the child only. Returns the pid.
 */
pid_t process_spawn(char *const *argv, const char *log_path, const int *keep_fds, size_t n);

/* Runs argv, captures up to `max` bytes of stdout into a malloc()ed string; waits at most
 * timeout_ms. Returns the exit status (>= 0) or a negative errno. */
int process_capture(char *const *argv, char **ret_out, size_t max, unsigned timeout_ms);
/* The same, and (when ret_err is not NULL) up to 2 KiB of its stderr, malloc()ed, written
 * only when the child ran (a status is returned). */
int process_capture_err(char *const *argv, char **ret_out, size_t max, unsigned timeout_ms,
                        char **ret_err);

/* The last `max` bytes of a file, malloc()ed, trailing newline stripped; "" if missing. */
char *file_tail(const char *path, size_t max);

void sleep_ms(unsigned ms);
uint64_t now_ms(void);
