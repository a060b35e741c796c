/* SPDX-License-Identifier: MIT */
/*
 * vmsilo-portbench: the guest half of the raw-port benchmark (bench/run.sh). Opens the
 * virtio-console port named NAME (default org.vmsilo.bench) and serves the host half
 * (bench/portbench.c) one command at a time, across reconnections, until it says quit:
 *   'G' COUNT CHUNK  write COUNT bytes to the port in writes of CHUNK bytes (guest -> host)
 *   'H' COUNT CHUNK  read COUNT bytes (reads of CHUNK), then write one byte (host -> guest)
 *   'E' COUNT        echo COUNT single bytes, one at a time (round-trip latency)
 *   'S' COUNT        vfork+execvp("true")+waitpid COUNT times, as the agent spawns a command
 *                    (vfork: a fork here would copy page tables the agent never copies);
 *                    answers the median of the iterations in ns (uint64, host byte order)
 *   'Q'              exit 0
 * A command is struct portbench_cmd (16 bytes, host byte order: host and guest are one arch).
 * Static, in the test guest's initramfs (scripts/build-guest.sh) as /bin/vmsilo-portbench.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORT "org.vmsilo.bench"
#define MAX_CHUNK (4u * 1024u * 1024u)
#define MAX_SPAWNS 100000u
/* a host not connected makes read() return 0 (poll() too): look again after this long */
#define RECONNECT_POLL_US 20000

struct portbench_cmd {
        uint8_t op;
        uint8_t pad[3];
        uint32_t chunk;
        uint64_t count;
};

static int find_port(const char *name, char *dev, size_t size) {
        DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *de;
        int r = -ENODEV;

        if (!d)
                return -errno;
        while (r < 0 && (de = readdir(d))) {
                char path[512], buf[128];
                ssize_t n;
                int fd;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (n <= 0)
                        continue;
                buf[n] = '\0';
                buf[strcspn(buf, "\n")] = '\0';
                if (strcmp(buf, name) == 0) {
                        snprintf(dev, size, "/dev/%s", de->d_name);
                        r = 0;
                }
        }
        closedir(d);
        return r;
}

/* Reads exactly size bytes. Between commands (wait_for_host) the host may disconnect and
 * come back (bench/run.sh connects once per measurement); within one, that is -EPIPE. */
static int read_full(int fd, void *p, size_t size, int wait_for_host) {
        uint8_t *b = p;

        while (size > 0) {
                ssize_t n = read(fd, b, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0) {
                        if (!wait_for_host || b != p)
                                return -EPIPE;
                        usleep(RECONNECT_POLL_US);
                        continue;
                }
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

static int send_bytes(int fd, uint8_t *buf, uint64_t count, size_t chunk) {
        while (count > 0) {
                size_t n = count < chunk ? (size_t) count : chunk;
                int r = write_full(fd, buf, n);

                if (r < 0)
                        return r;
                count -= n;
        }
        return 0;
}

static int receive_bytes(int fd, uint8_t *buf, uint64_t count, size_t chunk) {
        uint8_t ack = 'A';

        while (count > 0) {
                ssize_t n = read(fd, buf, count < chunk ? (size_t) count : chunk);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EPIPE;
                count -= (uint64_t) n;
        }
        return write_full(fd, &ack, 1);
}

static int echo_bytes(int fd, uint64_t count) {
        for (uint64_t i = 0; i < count; i++) {
                uint8_t c;
                int r = read_full(fd, &c, 1, 0);

                if (r >= 0)
                        r = write_full(fd, &c, 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

        return (x > y) - (x < y);
}

static int spawn_true(int fd, uint64_t count) {
        static int64_t t[MAX_SPAWNS];
        uint64_t median;
        size_t n = count < MAX_SPAWNS ? (size_t) count : MAX_SPAWNS;

        if (n == 0)
                n = 1;
        for (volatile size_t i = 0; i < n; i++) {
                int64_t t0 = now_ns();
                pid_t pid = vfork();
                int status;

                if (pid < 0)
                        return -errno;
                if (pid == 0) {
                        char *argv[] = { "true", NULL };

                        execvp(argv[0], argv);
                        _exit(127);
                }
                if (waitpid(pid, &status, 0) < 0)
                        return -errno;
                t[i] = now_ns() - t0;
        }
        qsort(t, n, sizeof(t[0]), cmp_i64);
        median = (uint64_t) (n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2);
        return write_full(fd, &median, sizeof(median));
}

static int serve(int fd, uint8_t *buf) {
        for (;;) {
                struct portbench_cmd cmd;
                size_t chunk;
                int r = read_full(fd, &cmd, sizeof(cmd), 1);

                if (r < 0)
                        return r;
                chunk = cmd.chunk == 0 || cmd.chunk > MAX_CHUNK ? MAX_CHUNK : cmd.chunk;
                switch (cmd.op) {
                case 'G':
                        r = send_bytes(fd, buf, cmd.count, chunk);
                        break;
                case 'H':
                        r = receive_bytes(fd, buf, cmd.count, chunk);
                        break;
                case 'E':
                        r = echo_bytes(fd, cmd.count);
                        break;
                case 'S':
                        r = spawn_true(fd, cmd.count);
                        break;
                case 'Q':
                        return 0;
                default:
                        fprintf(stderr, "vmsilo-portbench: unknown command 0x%02x\n", cmd.op);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
}

int main(int argc, char **argv) {
        const char *name = argc > 1 ? argv[1] : DEFAULT_PORT;
        static uint8_t buf[MAX_CHUNK];
        char dev[300];
        int fd, r;

        r = find_port(name, dev, sizeof(dev));
        if (r < 0) {
                fprintf(stderr, "vmsilo-portbench: no virtio-console port named '%s': %s\n", name,
                        strerror(-r));
                return 1;
        }
        fd = open(dev, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "vmsilo-portbench: failed to open '%s': %m\n", dev);
                return 1;
        }
        memset(buf, 'x', sizeof(buf));
        r = serve(fd, buf);
        close(fd);
        if (r < 0) {
                fprintf(stderr, "vmsilo-portbench: '%s': %s\n", dev, strerror(-r));
                return 1;
        }
        return 0;
}
