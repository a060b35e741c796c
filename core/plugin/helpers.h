/* SPDX-License-Identifier: MIT */
#pragma once

#include "vmsilo/plugin.h"

struct vm;

/*
 * Starts a helper process for plugin `owner`: journals it (so stop/cleanup end it), waits
 * for its readiness condition, and on failure logs its exit status and stderr tail. In a dry
 * run only records it for the plan.
 */
int helper_start(struct vm *vm, const char *owner, const struct vmsilo_helper *helper);
