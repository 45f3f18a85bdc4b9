/*
 * A small JSON reader and writer for banger-agent: enough for the agent's requests
 * (objects, arrays, strings, numbers, booleans, null) with hard limits on depth and size,
 * and a writer that always emits valid UTF-8 JSON whatever bytes it is given.
 */
#ifndef BANGER_AGENT_JSON_H
#define BANGER_AGENT_JSON_H

#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
  jtype type;
  int boolean;
  double num;
  /* J_STR: bytes (NUL-terminated, may hold embedded NULs: compare len with strlen). */
  char *str;
  size_t len;
  /* J_ARR and J_OBJ: n items; keys[i] is set for objects. */
  struct jval **items;
  char **keys;
  size_t n;
  /* Where the value's text began and ended in the input (to echo request ids verbatim). */
  size_t start, end;
} jval;

/* Parses exactly one JSON value (surrounding whitespace allowed). NULL on any error,
 * with a short reason in *err. Depth is limited to 32 levels. */
jval *json_parse(const char *text, size_t len, const char **err);
void json_free(jval *v);
/* Member of an object, or NULL. */
const jval *json_get(const jval *obj, const char *key);

/* A growable byte buffer. Allocation failure aborts (the agent cannot do anything useful then). */
typedef struct {
  char *data;
  size_t len, cap;
} sbuf;

void sb_init(sbuf *b);
void sb_free(sbuf *b);
void sb_putn(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a quoted JSON string; invalid UTF-8 becomes U+FFFD, control bytes are escaped. */
void sb_json_str(sbuf *b, const char *s, size_t n);

#endif
