/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"

static size_t escape_one(const unsigned char *p, size_t left, char out[8], size_t *ret_used) {
        *ret_used = 1;
        switch (p[0]) {
        case '\n':
                return (size_t) snprintf(out, 8, "\\n");
        case '\r':
                return (size_t) snprintf(out, 8, "\\r");
        case '\t':
                return (size_t) snprintf(out, 8, "\\t");
        case '\\':
                return (size_t) snprintf(out, 8, "\\\\");
        }
        if (p[0] < 0x20 || p[0] == 0x7f)
                return (size_t) snprintf(out, 8, "\\x%02x", p[0]);
        if (p[0] == 0xc2 && left > 1 && p[1] >= 0x80 && p[1] <= 0x9f) {
                /* a C1 control such as CSI (U+009B), which some terminals obey */
                *ret_used = 2;
                return (size_t) snprintf(out, 8, "\\u00%02x", p[1]);
        }
        out[0] = (char) p[0];
        return 1;
}

char *text_escape(const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;
        char *buf, *o;

        if (n > 0 && p[n - 1] == '\n')
                n--;
        buf = malloc(n * 6 + 1); /* the longest escape, \u00HH, is 6 bytes for 2 */
        if (!buf)
                return NULL;
        o = buf;
        for (size_t i = 0; i < n;) {
                char one[8];
                size_t used, k = escape_one(p + i, n - i, one, &used);

                memcpy(o, one, k);
                o += k;
                i += used;
        }
        *o = 0;
        return buf;
}

int has_control_chars(const char *s) {
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c < 0x20 || *c == 0x7f)
                        return 1;
        return 0;
}
