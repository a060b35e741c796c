/* SPDX-License-Identifier: MIT */
/* Benchmark helper: appends CLOCK_MONOTONIC (ns) to $STAMP_FILE, then execs argv[1..]. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        const char *file = getenv("STAMP_FILE");
        struct timespec ts;
        FILE *f;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (file && (f = fopen(file, "a"))) {
                fprintf(f, "%lld\n", (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec);
                fclose(f);
        }
        if (argc < 2)
                return 0;
        execv(argv[1], argv + 1);
        perror("execv");
        return 127;
}
