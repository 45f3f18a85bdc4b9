/* How the agent's `shutdown` powers the guest off, whatever runs as PID 1 (shutdown.c). */
#ifndef BANGER_AGENT_SHUTDOWN_H
#define BANGER_AGENT_SHUTDOWN_H

/* Starts the power-off in a child process and returns at once (the answer still has to go out). */
void power_off_guest(void);

#endif
