/* SPDX-License-Identifier: MIT */
/* core/run/clientsock.c: the per-VM client socket, served by the supervisor's loop. */
#include <sys/stat.h>
#include <sys/wait.h>

#include "plugin/vm.h"
#include "run/clientsock.h"
#include "testutil.h"

static char *dir;
static struct vm vm;
static struct client_sock *cs;
static char sock[512];

static void setup(void) {
        char rundir[512];

        dir = tmpdir_new();
        snprintf(rundir, sizeof(rundir), "%s/work", dir);
        REQUIRE(mkdir(rundir, 0750) == 0);
        snprintf(sock, sizeof(sock), "%s/work.sock", dir);
        vm = (struct vm){ .runtime_dir = strdup(rundir) };
        REQUIRE(vm_config_init(&vm.config, "work") == 0);
        cs = client_sock_new(&vm);
        REQUIRE(cs);
}

static void teardown(void) {
        cs = client_sock_free(cs);
        vm_config_done(&vm.config);
        free(vm.runtime_dir);
        tmpdir_remove(dir);
}

/* Runs `request` from a child while this process serves; returns the child's exit status:
 * 0 when the answer was "ok ANSWER", 1 on -EPROTO, 2 otherwise. */
static int ask(const char *request, const char *answer) {
        pid_t pid = fork();
        int status = -1;

        REQUIRE(pid >= 0);
        if (pid == 0) {
                char *reply = NULL;
                int fd = client_sock_request(sock, "work", request, &reply);

                if (fd >= 0)
                        _exit(reply && strcmp(reply, answer) == 0 ? 0 : 2);
                _exit(fd == -EPROTO ? 1 : 2);
        }
        for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) != pid; i++) {
                struct pollfd fds[1];
                int n = client_sock_fill_pollfds(cs, fds, 1);

                (void) poll(fds, (nfds_t) n, 10);
                client_sock_dispatch(cs, fds, n);
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_clientsock_status(void) {
        struct stat st;

        setup();
        /* no group vmsilo-work here: the owner's alone */
        REQUIRE(stat(sock, &st) == 0);
        ASSERT_INT_EQ(st.st_mode & 07777, 0600);
        ASSERT_INT_EQ(ask("status", "running"), 0);
        teardown();
}

static void test_clientsock_unknown_request(void) {
        setup();
        ASSERT_INT_EQ(ask("frobnicate", ""), 1);
        /* the agent is not there (no agent.addr): an error answer, not a hang */
        ASSERT_INT_EQ(ask("agent", ""), 1);
        teardown();
}

static void test_clientsock_group_name(void) {
        _cleanup_free_ char *g = client_sock_group("work");

        ASSERT_STREQ(g, "vmsilo-work");
}

int main(void) {
        static const struct test_def tests[] = {
                TEST(test_clientsock_status),
                TEST(test_clientsock_unknown_request),
                TEST(test_clientsock_group_name),
        };

        return RUN_SUITE("clientsock", tests);
}
