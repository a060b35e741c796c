/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "util/strv.h"

/* Writes `s` as a JSON string; bytes that are not printable ASCII become \u00XX. */
void json_string(FILE *f, const char *s);
void json_strv(FILE *f, const struct strv *v);
