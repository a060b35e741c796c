/* SPDX-License-Identifier: MIT */
#include "json.h"

void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *) strempty(s); *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(f, "\\%c", *c);
                else if (*c == '\n')
                        fputs("\\n", f);
                else if (*c == '\t')
                        fputs("\\t", f);
                else if (*c < 0x20 || *c >= 0x7f)
                        fprintf(f, "\\u%04x", *c);
                else
                        fputc(*c, f);
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
