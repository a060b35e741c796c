/* SPDX-License-Identifier: MIT */
#pragma once

#include "config/settings.h"

/* Each returns an exit code; argv[0] is the command name. */
int cmd_plugins(const struct settings *s, int argc, char **argv);
int cmd_list(const struct settings *s, int argc, char **argv);
int cmd_check(const struct settings *s, int argc, char **argv);
int cmd_print(const struct settings *s, int argc, char **argv);
int cmd_start(const struct settings *s, int argc, char **argv);
int cmd_stop(const struct settings *s, int argc, char **argv);
int cmd_cleanup(const struct settings *s, int argc, char **argv);
int cmd_status(const struct settings *s, int argc, char **argv);
int cmd_resume(const struct settings *s, int argc, char **argv);
int cmd_run(const struct settings *s, int argc, char **argv);
int cmd_shell(const struct settings *s, int argc, char **argv);
int cmd_exec(const struct settings *s, int argc, char **argv);
