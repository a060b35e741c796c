/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Text that came from the guest (or from a user) and that vmsilo-core prints itself, made
 * harmless for a terminal and a log: control bytes become \xHH (\n, \r, \t and \\ as such),
 * C1 controls in their UTF-8 form (U+0080..U+009F) become \u00HH, and one trailing newline is
 * dropped, so that a guest can neither drive the user's terminal nor fake log lines. Other
 * bytes (UTF-8 text) stay as they are. Returns a malloc()ed string, or NULL on OOM.
 */
char *text_escape(const char *s, size_t n);

/* 1 if `s` contains a control character (0x01-0x1f or 0x7f), else 0. */
int has_control_chars(const char *s);
