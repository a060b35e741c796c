/* Power button watching and the clean shutdown of PID 1. */
#ifndef VMSILO_GUEST_POWER_H
#define VMSILO_GUEST_POWER_H

#define POWER_MAX_BUTTONS 8

struct buttons {
        int fds[POWER_MAX_BUTTONS];
        char names[POWER_MAX_BUTTONS][32];
        int n;
};

/* Opens /dev/input/event* devices that report KEY_POWER and are not open yet. */
void buttons_scan(struct buttons *b);
/* Reads the events of one button; returns 1 on a KEY_POWER press. */
int buttons_pressed(int fd);

enum shutdown_flags {
        SHUTDOWN_ANNOUNCE = 1 << 0,  /* print "powering off" */
        SHUTDOWN_DEBUGEXIT = 1 << 1, /* write the status to the isa-debug-exit port */
};

/* The host asked for a power-off: systemctl poweroff under systemd, else SIGUSR2 to PID 1.
 * Returns at once (the power-off runs in the background). */
int request_poweroff(void);

/* Stops every process, syncs, unmounts and powers off; never returns. */
__attribute__((noreturn)) void system_shutdown(int flags, int status);

#endif
