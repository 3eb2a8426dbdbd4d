/*
 * The index line format, written and read exactly as JSON.stringify / JSON.parse do for
 * IndexEntry (src/store/manifest.ts). The reader accepts any JSON object per line and keeps the
 * keys it knows; anything it cannot read makes the line invalid (the caller then stops trusting
 * the file: a damaged parent index only costs hashing, never a wrong hash).
 */
#include "bbcopy.h"

#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence at s (n bytes left), 0 when invalid (overlong, surrogate, > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned cp;
  if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
  else return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

int json_string(buf_t *out, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t l = utf8_len(u + i, n - i);
    if (l == 0) return -1;
    i += l;
  }
  static const char hex[] = "0123456789abcdef";
  buf_reserve(out, n + 2);
  buf_addc(out, '"');
  size_t run = 0; /* bytes copied as they are */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = u[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    buf_add(out, s + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': buf_add(out, "\\\"", 2); break;
      case '\\': buf_add(out, "\\\\", 2); break;
      case '\b': buf_add(out, "\\b", 2); break;
      case '\f': buf_add(out, "\\f", 2); break;
      case '\n': buf_add(out, "\\n", 2); break;
      case '\r': buf_add(out, "\\r", 2); break;
      case '\t': buf_add(out, "\\t", 2); break;
      default: {
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        buf_add(out, e, 6);
      }
    }
  }
  buf_add(out, s + run, n - run);
  buf_addc(out, '"');
  return 0;
}

/* ---- reading ---- */

typedef struct {
  const char *s, *end;
} cur_t;

static void ws(cur_t *c) {
  while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\r' || *c->s == '\n')) c->s++;
}

static int hex4(const char *s, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char ch = s[i];
    unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0') : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10) : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10) : 99;
    if (d > 15) return -1;
    *v = *v * 16 + d;
  }
  return 0;
}

static void put_utf8(buf_t *b, unsigned cp) {
  char t[4];
  size_t n;
  if (cp < 0x80) t[0] = (char)cp, n = 1;
  else if (cp < 0x800) t[0] = (char)(0xC0 | (cp >> 6)), t[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000) t[0] = (char)(0xE0 | (cp >> 12)), t[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), t[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  else t[0] = (char)(0xF0 | (cp >> 18)), t[1] = (char)(0x80 | ((cp >> 12) & 0x3F)), t[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), t[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  buf_add(b, t, n);
}

/* A JSON string into out (UTF-8). A lone surrogate cannot name a file: the line is invalid. */
static int parse_string(cur_t *c, buf_t *out) {
  out->len = 0;
  buf_reserve(out, 0);
  out->s[0] = 0;
  if (c->s >= c->end || *c->s != '"') return -1;
  c->s++;
  const char *run = c->s;
  while (c->s < c->end) {
    char ch = *c->s;
    if (ch == '"') {
      buf_add(out, run, (size_t)(c->s - run));
      c->s++;
      return 0;
    }
    if ((unsigned char)ch < 0x20) return -1;
    if (ch != '\\') {
      c->s++;
      continue;
    }
    buf_add(out, run, (size_t)(c->s - run));
    if (c->end - c->s < 2) return -1;
    char e = c->s[1];
    c->s += 2;
    switch (e) {
      case '"': buf_addc(out, '"'); break;
      case '\\': buf_addc(out, '\\'); break;
      case '/': buf_addc(out, '/'); break;
      case 'b': buf_addc(out, '\b'); break;
      case 'f': buf_addc(out, '\f'); break;
      case 'n': buf_addc(out, '\n'); break;
      case 'r': buf_addc(out, '\r'); break;
      case 't': buf_addc(out, '\t'); break;
      case 'u': {
        unsigned v, lo;
        if (c->end - c->s < 4 || hex4(c->s, &v)) return -1;
        c->s += 4;
        if (v >= 0xDC00 && v <= 0xDFFF) return -1;
        if (v >= 0xD800 && v <= 0xDBFF) {
          if (c->end - c->s < 6 || c->s[0] != '\\' || c->s[1] != 'u' || hex4(c->s + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) return -1;
          c->s += 6;
          v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (v == 0) return -1; /* no NUL in a file name */
        put_utf8(out, v);
        break;
      }
      default: return -1;
    }
    run = c->s;
  }
  return -1;
}

/* An integer (JSON number without fraction or exponent). */
static int parse_int(cur_t *c, long long *v) {
  char *end;
  if (c->s >= c->end) return -1;
  long long x = strtoll(c->s, &end, 10);
  if (end == c->s || end > c->end) return -1;
  if (end < c->end && (*end == '.' || *end == 'e' || *end == 'E')) return -1;
  c->s = end;
  *v = x;
  return 0;
}

/* Skips any JSON value (for keys this reader does not know). */
static int skip_value(cur_t *c, int depth) {
  static buf_t scratch;
  ws(c);
  if (c->s >= c->end || depth > 32) return -1;
  char ch = *c->s;
  if (ch == '"') return parse_string(c, &scratch);
  if (ch == '{' || ch == '[') {
    char close = ch == '{' ? '}' : ']';
    c->s++;
    ws(c);
    if (c->s < c->end && *c->s == close) return c->s++, 0;
    for (;;) {
      if (ch == '{') {
        ws(c);
        if (parse_string(c, &scratch)) return -1;
        ws(c);
        if (c->s >= c->end || *c->s != ':') return -1;
        c->s++;
      }
      if (skip_value(c, depth + 1)) return -1;
      ws(c);
      if (c->s < c->end && *c->s == ',') {
        c->s++;
        continue;
      }
      if (c->s < c->end && *c->s == close) return c->s++, 0;
      return -1;
    }
  }
  const char *start = c->s;
  while (c->s < c->end && strchr("-+.0123456789eEtrufalsn", *c->s)) c->s++;
  return c->s > start ? 0 : -1;
}

void entry_free(entry_t *e) {
  buf_free(&e->p);
  buf_free(&e->link);
}

int json_parse_entry(const char *line, size_t n, entry_t *e) {
  static buf_t key, val;
  cur_t c = {line, line + n};
  bool have_p = false, have_mode = false, have_uid = false, have_gid = false;
  e->t = 0;
  e->mtime[0] = 0;
  e->sha256[0] = 0;
  e->has_size = e->has_link = e->has_meta = false;
  e->link.len = 0;
  ws(&c);
  if (c.s >= c.end || *c.s != '{') return -1;
  c.s++;
  ws(&c);
  if (c.s < c.end && *c.s == '}') return -1;
  for (;;) {
    ws(&c);
    if (parse_string(&c, &key)) return -1;
    ws(&c);
    if (c.s >= c.end || *c.s != ':') return -1;
    c.s++;
    ws(&c);
    const char *k = key.s;
    if (!strcmp(k, "p")) {
      if (parse_string(&c, &e->p)) return -1;
      have_p = true;
    } else if (!strcmp(k, "t")) {
      if (parse_string(&c, &val) || val.len != 1 || !strchr("fdlo", val.s[0])) return -1;
      e->t = val.s[0];
    } else if (!strcmp(k, "mode")) {
      if (parse_int(&c, &e->mode)) return -1;
      have_mode = true;
    } else if (!strcmp(k, "uid")) {
      if (parse_int(&c, &e->uid)) return -1;
      have_uid = true;
    } else if (!strcmp(k, "gid")) {
      if (parse_int(&c, &e->gid)) return -1;
      have_gid = true;
    } else if (!strcmp(k, "mtime")) {
      if (parse_string(&c, &val) || val.len == 0 || val.len >= sizeof e->mtime) return -1;
      memcpy(e->mtime, val.s, val.len + 1);
    } else if (!strcmp(k, "size")) {
      if (parse_int(&c, &e->size) || e->size < 0) return -1;
      e->has_size = true;
    } else if (!strcmp(k, "sha256")) {
      if (parse_string(&c, &val) || val.len != 64 || strspn(val.s, "0123456789abcdef") != 64) return -1;
      memcpy(e->sha256, val.s, 65);
    } else if (!strcmp(k, "link")) {
      if (parse_string(&c, &e->link)) return -1;
      e->has_link = true;
    } else if (skip_value(&c, 0)) {
      return -1;
    }
    ws(&c);
    if (c.s < c.end && *c.s == ',') {
      c.s++;
      continue;
    }
    if (c.s < c.end && *c.s == '}') {
      c.s++;
      break;
    }
    return -1;
  }
  ws(&c);
  if (c.s != c.end || !have_p) return -1;
  e->has_meta = have_mode && have_uid && have_gid;
  return 0;
}
