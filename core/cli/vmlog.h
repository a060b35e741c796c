/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "config/settings.h"

/* Where the last `max_lines` lines of buf start (a last line without a newline counts). */
size_t vmlog_tail_start(const char *buf, size_t len, unsigned max_lines);

/* Prints the lines of buf from its start, each escaped (text_escape: the console is the
 * guest's text) and ended by a newline. Returns how many lines it printed. */
unsigned vmlog_print_escaped(FILE *out, const char *buf, size_t len);

/* `vmsilo-core log [--console|--supervisor] [--lines N] NAME` */
int cmd_log(const struct settings *s, int argc, char **argv);
