/* SPDX-License-Identifier: MIT */
#include "util/json.h"

/* Length of the UTF-8 sequence at p (2 to 4 bytes, lead and continuation bytes checked;
 * overlong 3/4-byte forms are not rejected), or 0. */
static int utf8_len(const unsigned char *p) {
        int n;

        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4;
        else
                return 0;
        for (int i = 1; i < n; i++)
                if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
                        return 0;
        return n;
}

void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *) strempty(s); *c; c++) {
                int n;

                if (*c == '"' || *c == '\\')
                        fprintf(f, "\\%c", *c);
                else if (*c == '\n')
                        fputs("\\n", f);
                else if (*c == '\t')
                        fputs("\\t", f);
                else if (*c < 0x20 || *c == 0x7f)
                        fprintf(f, "\\u%04x", *c);
                else if (*c < 0x80)
                        fputc(*c, f);
                else if ((n = utf8_len(c)) > 0) {
                        fwrite(c, 1, (size_t) n, f);
                        c += n - 1;
                } else
                        fprintf(f, "\\u%04x", *c); /* not UTF-8: the byte as a code point */
        }
        fputc('"', f);
}

void json_strv(FILE *f, const struct strv *v) {
        fputc('[', f);
        for (size_t i = 0; i < v->n; i++) {
                if (i > 0)
                        fputs(", ", f);
                json_string(f, v->items[i]);
        }
        fputc(']', f);
}
