/* SPDX-License-Identifier: MIT */
/*
 * A hostile "guest agent" for tests: pretends that VM NAME runs (holds its lock, publishes
 * agent.addr and up) and answers `vmsilo-core run` with malformed or hostile frames.
 * usage: hostile-guest RUNTIME_BASE NAME MODE
 * MODE: oversize garbage badexit badhello close bigout
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../proto/proto.h"

static uint8_t frame[VMSILO_PROTO_MAX_FRAME];

static void put(int fd, const void *p, size_t n) {
        if (write(fd, p, n) != (ssize_t) n)
                exit(0); /* the host hung up: fine */
}

static void hello(int fd, uint32_t version) {
        struct vmsilo_proto_hello h = { .version = version,
                                        .max_payload = 65536,
                                        .window = VMSILO_PROTO_WINDOW };
        int n = vmsilo_proto_encode_hello(frame, sizeof(frame), &h);

        put(fd, frame, (size_t) n);
}

/* Reads frames until START, returns its session. */
static uint32_t wait_start(int fd) {
        uint8_t hdr[VMSILO_PROTO_HDR_SIZE];
        struct vmsilo_proto_hdr h;

        for (;;) {
                if (read(fd, hdr, sizeof(hdr)) != sizeof(hdr))
                        exit(0);
                if (vmsilo_proto_decode_hdr(hdr, sizeof(hdr), &h) != (int) sizeof(hdr))
                        exit(1);
                for (uint32_t left = h.len; left > 0;) {
                        ssize_t k = read(fd, frame, left);

                        if (k <= 0)
                                exit(0);
                        left -= (uint32_t) k;
                }
                if (h.type == VMSILO_MSG_HELLO)
                        hello(fd, VMSILO_PROTO_VERSION);
                if (h.type == VMSILO_MSG_START)
                        return h.session;
        }
}

static void attack(int fd, const char *mode) {
        uint32_t s;
        int n;

        if (strcmp(mode, "badhello") == 0) {
                hello(fd, 0); /* no version at all */
                sleep(5);
                return;
        }
        s = wait_start(fd);
        if (strcmp(mode, "oversize") == 0) {
                uint8_t h[12] = { 0, 0, 0, 0x40, 0, 0, 0, 0, VMSILO_MSG_STDOUT };

                memcpy(h + 4, &s, 4);
                put(fd, h, sizeof(h));
                sleep(5);
        } else if (strcmp(mode, "garbage") == 0) {
                for (int i = 0; i < 4096; i++)
                        frame[i] = (uint8_t) (i * 131 + 7);
                put(fd, frame, 4096);
                sleep(5);
        } else if (strcmp(mode, "badexit") == 0) {
                uint8_t h[15] = { 3, 0, 0, 0, 0, 0, 0, 0, VMSILO_MSG_EXIT };

                memcpy(h + 4, &s, 4);
                put(fd, h, sizeof(h));
                sleep(5);
        } else if (strcmp(mode, "bigout") == 0) {
                struct vmsilo_proto_exit e = { .kind = VMSILO_EXIT_STATUS, .value = 3 };

                static uint8_t data[VMSILO_PROTO_MAX_PAYLOAD];

                memset(data, 'x', sizeof(data));
                for (int i = 0; i < 64; i++) {
                        n = vmsilo_proto_encode_data(frame, sizeof(frame), s, VMSILO_MSG_STDOUT,
                                                     data, sizeof(data) - 64);
                        put(fd, frame, (size_t) n);
                }
                n = vmsilo_proto_encode_exit(frame, sizeof(frame), s, &e);
                put(fd, frame, (size_t) n);
                sleep(1);
        }
        /* "close": just hang up mid-command */
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[4096], path[4200];
        FILE *f;
        int lock, ls, fd;

        if (argc != 4)
                return 2;
        snprintf(dir, sizeof(dir), "%s/%s", argv[1], argv[2]);
        mkdir(argv[1], 0755);
        mkdir(dir, 0755);
        snprintf(path, sizeof(path), "%s/lock", dir);
        lock = open(path, O_RDWR | O_CREAT, 0600);
        if (lock < 0 || flock(lock, LOCK_EX) < 0)
                return 1;
        if (strlen(dir) + sizeof("/agent.sock") > sizeof(sa.sun_path))
                return 1;
        memcpy(sa.sun_path, dir, strlen(dir));
        strcat(sa.sun_path, "/agent.sock");
        snprintf(path, sizeof(path), "%s/agent.addr", dir);
        f = fopen(path, "w");
        if (!f)
                return 1;
        fprintf(f, "unix:%s\n", sa.sun_path);
        fclose(f);
        /* and that it is up (the supervisor writes this once the VMM runs) */
        snprintf(path, sizeof(path), "%s/up", dir);
        f = fopen(path, "w");
        if (!f)
                return 1;
        fprintf(f, "%lld\n", (long long) time(NULL));
        fclose(f);
        unlink(sa.sun_path);
        ls = socket(AF_UNIX, SOCK_STREAM, 0);
        if (ls < 0 || bind(ls, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
                return 1;
        printf("ready\n");
        fflush(stdout);
        fd = accept(ls, NULL, NULL);
        if (fd < 0)
                return 1;
        attack(fd, argv[3]);
        return 0;
}
