/* vmsilo-resume: run by the host (through the agent) in a guest just restored from a
 * snapshot. A restored guest carries the snapshot's random state and clock: every restore of
 * one template would produce the same "random" bytes and the template's time. This applet
 * mixes host-supplied entropy (stdin, up to 512 bytes) into the pool, credits it, forces a
 * reseed of the kernel's CRNG (RNDRESEEDCRNG), and sets the clock from argv[1]
 * ("SECONDS.NANOSECONDS", the host's CLOCK_REALTIME). Usage: vmsilo-resume SEC.NSEC < SEED */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "resume.h"

#define SEED_MAX 512

static int reseed(const unsigned char *seed, size_t n) {
        /* struct rand_pool_info ends in a flexible array: room for it, suitably aligned */
        union {
                struct rand_pool_info info;
                unsigned char bytes[sizeof(struct rand_pool_info) + SEED_MAX];
        } req = { .info = { .entropy_count = (int) n * 8, .buf_size = (int) n } };
        int fd, r = 0;

        memcpy(req.bytes + sizeof(struct rand_pool_info), seed, n);
        fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, RNDADDENTROPY, &req) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
                r = -errno;
        close(fd);
        explicit_bzero(&req, sizeof(req));
        return r;
}

static int set_clock(const char *arg) {
        struct timespec ts = {};
        char *end;

        ts.tv_sec = strtoll(arg, &end, 10);
        if (*end == '.')
                ts.tv_nsec = strtol(end + 1, &end, 10);
        if (*end || ts.tv_sec <= 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
                return -EINVAL;
        return clock_settime(CLOCK_REALTIME, &ts) < 0 ? -errno : 0;
}

int resume_main(int argc, char **argv) {
        unsigned char seed[SEED_MAX];
        size_t n = 0;
        ssize_t k;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: vmsilo-resume SECONDS.NANOSECONDS < SEED\n");
                return 2;
        }
        while (n < sizeof(seed) && (k = read(STDIN_FILENO, seed + n, sizeof(seed) - n)) != 0) {
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        break;
                n += (size_t) k;
        }
        if (n < 32) {
                fprintf(stderr, "vmsilo-resume: %zu bytes of seed, need at least 32\n", n);
                return 1;
        }
        r = reseed(seed, n);
        explicit_bzero(seed, sizeof(seed));
        if (r < 0) {
                fprintf(stderr, "vmsilo-resume: failed to reseed: %s\n", strerror(-r));
                return 1;
        }
        r = set_clock(argv[1]);
        if (r < 0) {
                fprintf(stderr, "vmsilo-resume: failed to set the clock to '%s': %s\n", argv[1],
                        strerror(-r));
                return 1;
        }
        return 0;
}
