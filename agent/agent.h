/*
 * What main.c (the connections and the poll loop) offers the request handlers in the other
 * files: the clock, non-blocking fds, and replies on a connection.
 */
#ifndef BANGER_AGENT_AGENT_H
#define BANGER_AGENT_AGENT_H

#include "json.h"

#define PROTOCOL_VERSION 1

long long now_ms(void);
void set_nonblock(int fd);
/* The generation of connection ci (bumped when its slot is reused). */
unsigned conn_gen(int ci);
/* Sends msg plus a newline to connection ci if it still is generation gen. */
void send_line(int ci, unsigned gen, sbuf *msg);
void reply_ok(int ci, unsigned gen, const char *id, const char *result);
void reply_error(int ci, const char *id, const char *code, const char *message);

#endif
