#define _GNU_SOURCE
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) abort();
  return q;
}

void sb_init(sbuf *b) { b->data = NULL; b->len = b->cap = 0; }
void sb_free(sbuf *b) { free(b->data); sb_init(b); }

void sb_putn(sbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

void sb_printf(sbuf *b, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) { sb_putn(b, small, (size_t)n); return; }
  char *big = xrealloc(NULL, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb_putn(b, big, (size_t)n);
  free(big);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t need;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) { need = 2; cp = c & 0x1f; }
  else if (c >= 0xe0 && c <= 0xef) { need = 3; cp = c & 0x0f; }
  else if (c >= 0xf0 && c <= 0xf4) { need = 4; cp = c & 0x07; }
  else return 0;
  if (n < need) return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return need;
}

void sb_json_str(sbuf *b, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  sb_putn(b, "\"", 1);
  size_t i = 0;
  while (i < n) {
    unsigned c = u[i];
    if (c == '"') { sb_putn(b, "\\\"", 2); i++; }
    else if (c == '\\') { sb_putn(b, "\\\\", 2); i++; }
    else if (c == '\n') { sb_putn(b, "\\n", 2); i++; }
    else if (c == '\r') { sb_putn(b, "\\r", 2); i++; }
    else if (c == '\t') { sb_putn(b, "\\t", 2); i++; }
    else if (c < 0x20 || c == 0x7f) { sb_printf(b, "\\u%04x", c); i++; }
    else {
      size_t k = utf8_seq(u + i, n - i);
      if (k == 0) { sb_puts(b, "\\ufffd"); i++; }
      else { sb_putn(b, s + i, k); i += k; }
    }
  }
  sb_putn(b, "\"", 1);
}

typedef struct {
  const char *s;
  size_t len, pos;
  const char *err;
  int depth;
} parser;

static void skip_ws(parser *p) {
  while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r')) p->pos++;
}

static jval *new_val(jtype t, size_t start) {
  jval *v = calloc(1, sizeof *v);
  if (!v) abort();
  v->type = t;
  v->start = start;
  return v;
}

static int hex4(parser *p, uint32_t *out) {
  if (p->pos + 4 > p->len) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p->s[p->pos + (size_t)i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
    else return 0;
  }
  p->pos += 4;
  *out = v;
  return 1;
}

static void put_utf8(sbuf *b, uint32_t cp) {
  char o[4];
  if (cp < 0x80) { o[0] = (char)cp; sb_putn(b, o, 1); }
  else if (cp < 0x800) { o[0] = (char)(0xc0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3f)); sb_putn(b, o, 2); }
  else if (cp < 0x10000) { o[0] = (char)(0xe0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f)); sb_putn(b, o, 3); }
  else { o[0] = (char)(0xf0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f)); o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f)); sb_putn(b, o, 4); }
}

/* Parses a string at p->pos (which is at the opening quote) into a fresh buffer. */
static int parse_string_raw(parser *p, char **out, size_t *outlen) {
  sbuf b;
  sb_init(&b);
  sb_putn(&b, "", 0);
  p->pos++; /* opening quote */
  while (p->pos < p->len) {
    unsigned char c = (unsigned char)p->s[p->pos++];
    if (c == '"') { *out = b.data; *outlen = b.len; return 1; }
    if (c < 0x20) { p->err = "control character in string"; break; }
    if (c != '\\') { sb_putn(&b, (const char *)&c, 1); continue; }
    if (p->pos >= p->len) { p->err = "truncated escape"; break; }
    char e = p->s[p->pos++];
    switch (e) {
      case '"': sb_putn(&b, "\"", 1); break;
      case '\\': sb_putn(&b, "\\", 1); break;
      case '/': sb_putn(&b, "/", 1); break;
      case 'b': sb_putn(&b, "\b", 1); break;
      case 'f': sb_putn(&b, "\f", 1); break;
      case 'n': sb_putn(&b, "\n", 1); break;
      case 'r': sb_putn(&b, "\r", 1); break;
      case 't': sb_putn(&b, "\t", 1); break;
      case 'u': {
        uint32_t cp;
        if (!hex4(p, &cp)) { p->err = "bad \\u escape"; goto fail; }
        if (cp >= 0xd800 && cp <= 0xdbff) {
          uint32_t lo;
          if (p->pos + 2 <= p->len && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
            p->pos += 2;
            if (!hex4(p, &lo) || lo < 0xdc00 || lo > 0xdfff) { p->err = "bad surrogate pair"; goto fail; }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else cp = 0xfffd;
        } else if (cp >= 0xdc00 && cp <= 0xdfff) cp = 0xfffd;
        put_utf8(&b, cp);
        break;
      }
      default: p->err = "bad escape"; goto fail;
    }
  }
  if (!p->err) p->err = "unterminated string";
fail:
  sb_free(&b);
  return 0;
}

static jval *parse_value(parser *p);

static jval *parse_container(parser *p, int is_obj) {
  jval *v = new_val(is_obj ? J_OBJ : J_ARR, p->pos);
  size_t cap = 0;
  char close = is_obj ? '}' : ']';
  if (++p->depth > MAX_DEPTH) { p->err = "nesting too deep"; goto fail; }
  p->pos++;
  skip_ws(p);
  if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; goto done; }
  for (;;) {
    char *key = NULL;
    size_t keylen;
    skip_ws(p);
    if (is_obj) {
      if (p->pos >= p->len || p->s[p->pos] != '"') { p->err = "expected a key"; goto fail; }
      if (!parse_string_raw(p, &key, &keylen)) goto fail;
      skip_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != ':') { free(key); p->err = "expected ':'"; goto fail; }
      p->pos++;
    }
    jval *item = parse_value(p);
    if (!item) { free(key); goto fail; }
    if (v->n == cap) {
      cap = cap ? cap * 2 : 4;
      v->items = xrealloc(v->items, cap * sizeof *v->items);
      if (is_obj) v->keys = xrealloc(v->keys, cap * sizeof *v->keys);
    }
    v->items[v->n] = item;
    if (is_obj) v->keys[v->n] = key;
    v->n++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
    if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; break; }
    p->err = is_obj ? "expected ',' or '}'" : "expected ',' or ']'";
    goto fail;
  }
done:
  p->depth--;
  v->end = p->pos;
  return v;
fail:
  json_free(v);
  return NULL;
}

static jval *parse_value(parser *p) {
  skip_ws(p);
  if (p->pos >= p->len) { p->err = "unexpected end of input"; return NULL; }
  char c = p->s[p->pos];
  size_t start = p->pos;
  if (c == '{' || c == '[') return parse_container(p, c == '{');
  if (c == '"') {
    jval *v = new_val(J_STR, start);
    if (!parse_string_raw(p, &v->str, &v->len)) { free(v); return NULL; }
    v->end = p->pos;
    return v;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    size_t i = p->pos;
    if (p->s[i] == '-') i++;
    if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') { p->err = "bad number"; return NULL; }
    while (i < p->len && ((p->s[i] >= '0' && p->s[i] <= '9') || p->s[i] == '.' || p->s[i] == 'e' || p->s[i] == 'E' || p->s[i] == '+' || p->s[i] == '-')) i++;
    if (i - p->pos > 40) { p->err = "number too long"; return NULL; }
    char tmp[48];
    memcpy(tmp, p->s + p->pos, i - p->pos);
    tmp[i - p->pos] = '\0';
    char *endp;
    double d = strtod(tmp, &endp);
    if (*endp != '\0') { p->err = "bad number"; return NULL; }
    jval *v = new_val(J_NUM, start);
    v->num = d;
    p->pos = i;
    v->end = i;
    return v;
  }
  static const struct { const char *word; jtype t; int b; } words[] = { { "true", J_BOOL, 1 }, { "false", J_BOOL, 0 }, { "null", J_NULL, 0 } };
  for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
    size_t wl = strlen(words[k].word);
    if (p->len - p->pos >= wl && memcmp(p->s + p->pos, words[k].word, wl) == 0) {
      jval *v = new_val(words[k].t, start);
      v->boolean = words[k].b;
      p->pos += wl;
      v->end = p->pos;
      return v;
    }
  }
  p->err = "unexpected character";
  return NULL;
}

jval *json_parse(const char *text, size_t len, const char **err) {
  parser p = { text, len, 0, NULL, 0 };
  jval *v = parse_value(&p);
  if (v) {
    skip_ws(&p);
    if (p.pos != p.len) { json_free(v); v = NULL; p.err = "trailing characters after the value"; }
  }
  if (!v && err) *err = p.err ? p.err : "invalid JSON";
  return v;
}

void json_free(jval *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    json_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->str);
  free(v);
}

const jval *json_get(const jval *obj, const char *key) {
  if (!obj || obj->type != J_OBJ) return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
  return NULL;
}
