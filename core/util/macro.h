/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })

#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -1;       \
                _fd_;            \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline const char *strempty(const char *s) {
        return s ? s : "";
}

static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

#define streq(a, b) (strcmp((a), (b)) == 0)
#define isempty(s) (!(s) || !(s)[0])

/* negative errno from errno, never 0 */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* IN_SET(x, a, b, ...): x equals one of the (int) values */
#define IN_SET(x, ...)                                               \
        ({                                                           \
                const int _set_[] = { __VA_ARGS__ };                 \
                int _found_ = 0;                                     \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_set_); _i_++) \
                        if (_set_[_i_] == (x))                       \
                                _found_ = 1;                         \
                _found_;                                             \
        })
