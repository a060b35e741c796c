/* SPDX-License-Identifier: MIT */
/*
 * Benchmark helper: runs CMD once (stdin, stdout and stderr on /dev/null) and prints its wall
 * time in ns, from just before fork() to just after waitpid(). Timing in the shell instead
 * (`t0=$(now-ns); CMD; t1=$(now-ns)`, or through timeout(1)) adds two or three process
 * spawns to every sample, which on a loaded machine are as long as the fast commands measured.
 * Exits with CMD's status (124 when it outlived SECONDS and was killed with its process group,
 * which timeit makes it lead; 127 if it could not run). Usage: timeit [-t SECONDS] CMD [ARG...]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

/* the whole process group: a VMM or helper that CMD started goes with it */
static void on_alarm(int sig) {
        (void) sig;
        if (child > 0)
                kill(-child, SIGKILL);
}

static long long now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
        struct sigaction sa = { .sa_handler = on_alarm };
        unsigned timeout = 0;
        long long t0, t1;
        int status, argi = 1;

        if (argc > 2 && strcmp(argv[1], "-t") == 0) {
                timeout = (unsigned) strtoul(argv[2], NULL, 10);
                argi = 3;
        }
        if (argi >= argc) {
                fprintf(stderr, "usage: timeit [-t SECONDS] CMD [ARG...]\n");
                return 2;
        }
        sigaction(SIGALRM, &sa, NULL);
        t0 = now_ns();
        child = fork();
        if (child < 0) {
                perror("timeit: fork");
                return 127;
        }
        if (child == 0) {
                int fd = open("/dev/null", O_RDWR);

                setpgid(0, 0);
                if (fd >= 0) {
                        dup2(fd, 0);
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                execvp(argv[argi], argv + argi);
                _exit(127);
        }
        setpgid(child, child); /* as the child does: whichever runs first */
        if (timeout)
                alarm(timeout);
        while (waitpid(child, &status, 0) < 0) {
                if (errno != EINTR) {
                        perror("timeit: waitpid");
                        return 127;
                }
        }
        t1 = now_ns();
        alarm(0);
        printf("%lld\n", t1 - t0);
        if (WIFSIGNALED(status)) {
                fprintf(stderr, "timeit: '%s' killed by signal %d%s\n", argv[argi],
                        WTERMSIG(status),
                        WTERMSIG(status) == SIGKILL && timeout ? " (timeout)" : "");
                return 124;
        }
        return WEXITSTATUS(status);
}
