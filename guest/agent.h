/* The guest agent: runs commands for the host over a virtio-console port or vsock. */
#ifndef VMSILO_GUEST_AGENT_H
#define VMSILO_GUEST_AGENT_H

struct agent_options {
        const char *root; /* commands run chrooted here ("/" = no chroot) */
        const char *port; /* virtio-console port device, or NULL */
        int vsock;        /* also listen on AF_VSOCK port 5000 */
        int fd;           /* an already connected stream (tests), or -1 */
};

/* Serves until SIGTERM (or until the --fd stream closes). Returns an exit code. */
int agent_run(const struct agent_options *o);
/* Command-line entry point of "vmsilo-agent". */
int agent_main(int argc, char **argv);

#endif
