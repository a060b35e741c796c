/* vmsilo-resume: fresh randomness and the host's clock after a snapshot restore. */
#ifndef VMSILO_GUEST_RESUME_H
#define VMSILO_GUEST_RESUME_H

int resume_main(int argc, char **argv);

#endif
