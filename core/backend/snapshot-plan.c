/* SPDX-License-Identifier: MIT */
/* The snapshot a start uses, as the backends see it. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "backend/snapshot-plan.h"

int snapshot_ram_wait(const struct vm_snapshot *plan, unsigned timeout_ms) {
        struct pollfd p = { .fd = plan->ram_ready_fd, .events = POLLIN };
        char c;

        if (plan->ram_ready_fd < 0)
                return 0;
        if (poll(&p, 1, (int) timeout_ms) <= 0)
                return -ETIMEDOUT;
        return read(plan->ram_ready_fd, &c, 1) == 1 ? 0 : -EIO;
}
