/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "cli/exitcode.h"

int exit_code(int r) {
        if (r >= 0)
                return EXIT_OK;
        switch (-r) {
        case ENOENT:
                return EXIT_NOT_FOUND;
        case EINVAL:
        case ENOEXEC:
                return EXIT_CONFIG;
        case ECANCELED:
                return EXIT_PREFLIGHT;
        case EBUSY:
                return EXIT_RUNNING;
        case ESRCH:
                return EXIT_NOT_RUNNING;
        default:
                return EXIT_RUNTIME;
        }
}
