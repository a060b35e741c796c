/* SPDX-License-Identifier: MIT */
/*
 * portbench: the host half of the raw-port benchmark. Connects to the unix socket behind a
 * bench-only virtio-console port (QEMU's chardev, server=on) whose guest end is served by
 * vmsilo-portbench (bench/guest/vmsilo-portbench.c), runs each OP in order and prints one
 * line per OP: "OP NS".
 *   g2h:BYTES:CHUNK  guest writes BYTES in writes of CHUNK; NS from the command to the last byte
 *   h2g:BYTES:CHUNK  host writes BYTES in writes of CHUNK; NS from the command to the guest's
 *                    acknowledgement that it read them all
 *   echo:N           N 1-byte round trips; NS is their median
 *   spawn:N          the guest forks and execs `true` N times; NS is the guest's median
 *   quit             the guest half exits (it outlives a disconnection otherwise)
 * BYTES and CHUNK take a K or M suffix (binary). Usage: portbench SOCKET OP...
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (4u * 1024u * 1024u)
#define MAX_ECHOES 1000000u

struct portbench_cmd {
        uint8_t op;
        uint8_t pad[3];
        uint32_t chunk;
        uint64_t count;
};

static int64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int read_full(int fd, void *p, size_t size) {
        uint8_t *b = p;

        while (size > 0) {
                ssize_t n = read(fd, b, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EPIPE;
                b += n;
                size -= (size_t) n;
        }
        return 0;
}

static int write_full(int fd, const void *p, size_t size) {
        const uint8_t *b = p;

        while (size > 0) {
                ssize_t n = write(fd, b, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                b += n;
                size -= (size_t) n;
        }
        return 0;
}

static int send_cmd(int fd, char op, uint64_t count, uint32_t chunk) {
        struct portbench_cmd c = { .op = (uint8_t) op, .chunk = chunk, .count = count };

        return write_full(fd, &c, sizeof(c));
}

static int parse_size(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        if (*end == 'K')
                v <<= 10, end++;
        else if (*end == 'M')
                v <<= 20, end++;
        if (*end != '\0' && *end != ':')
                return -EINVAL;
        *ret = v;
        return 0;
}

static int cmp_i64(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

        return (x > y) - (x < y);
}

static int64_t run_g2h(int fd, uint8_t *buf, uint64_t bytes, uint32_t chunk) {
        int64_t t0 = now_ns();
        int r = send_cmd(fd, 'G', bytes, chunk);

        while (r >= 0 && bytes > 0) {
                ssize_t n = read(fd, buf, BUF_SIZE);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EPIPE;
                bytes -= (uint64_t) n;
        }
        return r < 0 ? r : now_ns() - t0;
}

static int64_t run_h2g(int fd, uint8_t *buf, uint64_t bytes, uint32_t chunk) {
        int64_t t0 = now_ns();
        uint8_t ack;
        int r = send_cmd(fd, 'H', bytes, chunk);

        while (r >= 0 && bytes > 0) {
                size_t n = bytes < chunk ? (size_t) bytes : chunk;

                r = write_full(fd, buf, n);
                bytes -= n;
        }
        if (r >= 0)
                r = read_full(fd, &ack, 1);
        return r < 0 ? r : now_ns() - t0;
}

static int64_t run_echo(int fd, uint64_t count) {
        static int64_t t[MAX_ECHOES];
        size_t n = count == 0 ? 1 : count < MAX_ECHOES ? (size_t) count : MAX_ECHOES;
        int r = send_cmd(fd, 'E', n, 0);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                uint8_t c = (uint8_t) i;
                int64_t t0 = now_ns();

                r = write_full(fd, &c, 1);
                if (r >= 0)
                        r = read_full(fd, &c, 1);
                t[i] = now_ns() - t0;
        }
        if (r < 0)
                return r;
        qsort(t, n, sizeof(t[0]), cmp_i64);
        return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int64_t run_spawn(int fd, uint64_t count) {
        uint64_t median;
        int r = send_cmd(fd, 'S', count, 0);

        if (r >= 0)
                r = read_full(fd, &median, sizeof(median));
        return r < 0 ? r : (int64_t) median;
}

static int64_t run_op(int fd, uint8_t *buf, const char *op) {
        const char *arg = strchr(op, ':');
        uint64_t a = 0, b = BUF_SIZE;

        if (strcmp(op, "quit") == 0)
                return send_cmd(fd, 'Q', 0, 0);
        if (!arg || parse_size(arg + 1, &a) < 0)
                return -EINVAL;
        if (strchr(arg + 1, ':') && parse_size(strchr(arg + 1, ':') + 1, &b) < 0)
                return -EINVAL;
        if (b == 0 || b > BUF_SIZE)
                return -EINVAL;
        if (strncmp(op, "g2h:", 4) == 0)
                return run_g2h(fd, buf, a, (uint32_t) b);
        if (strncmp(op, "h2g:", 4) == 0)
                return run_h2g(fd, buf, a, (uint32_t) b);
        if (strncmp(op, "echo:", 5) == 0)
                return run_echo(fd, a);
        if (strncmp(op, "spawn:", 6) == 0)
                return run_spawn(fd, a);
        return -EINVAL;
}

static int connect_unix(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

int main(int argc, char **argv) {
        static uint8_t buf[BUF_SIZE];
        int fd;

        if (argc < 3) {
                fprintf(stderr, "usage: portbench SOCKET OP...\n");
                return 2;
        }
        fd = connect_unix(argv[1]);
        if (fd < 0) {
                fprintf(stderr, "portbench: failed to connect to '%s': %s\n", argv[1],
                        strerror(-fd));
                return 1;
        }
        memset(buf, 'x', sizeof(buf));
        for (int i = 2; i < argc; i++) {
                int64_t ns = run_op(fd, buf, argv[i]);

                if (ns < 0) {
                        fprintf(stderr, "portbench: '%s' failed: %s\n", argv[i],
                                strerror((int) -ns));
                        return 1;
                }
                printf("%s %lld\n", argv[i], (long long) ns);
                fflush(stdout);
        }
        close(fd);
        return 0;
}
