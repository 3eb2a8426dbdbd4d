/*
 * The order of index lines: depth first, path components compared by UTF-16 code units, as
 * JavaScript's `<` on strings (comparePaths in src/backup/tree-index.ts). Names are UTF-8 here;
 * UTF-8 byte order equals code point order, which differs from UTF-16 order only between
 * U+E000..U+FFFF and the supplementary planes (surrogate pairs sort before U+E000 in UTF-16).
 */
#include "bbcopy.h"

#include <string.h>

/* Decodes the code point at s; -1 at the end of the component (NUL or '/'); -2 when invalid. */
static long decode(const unsigned char *s) {
  unsigned c = s[0];
  if (c == 0 || c == '/') return -1;
  if (c < 0x80) return c;
  int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (len == 0) return -2;
  long cp = c & (0x3F >> (len - 1));
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return -2;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  return cp;
}

/* UTF-16 rank: BMP below the surrogates, then the supplementary planes, then U+E000..U+FFFF. */
static int tier(long cp) { return cp < 0xD800 ? 0 : cp >= 0x10000 ? 1 : 2; }

/* Compares two components (ending at NUL or '/'); *la / *lb get their lengths. */
static int component_cmp(const char *a, const char *b, size_t *la, size_t *lb) {
  const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
  size_t i = 0;
  while (x[i] && x[i] != '/' && x[i] == y[i]) i++;
  size_t ea = i, eb = i;
  while (x[ea] && x[ea] != '/') ea++;
  while (y[eb] && y[eb] != '/') eb++;
  *la = ea;
  *lb = eb;
  bool end_a = !x[i] || x[i] == '/', end_b = !y[i] || y[i] == '/';
  if (end_a || end_b) return end_a && end_b ? 0 : end_a ? -1 : 1;
  size_t s = i;
  while (s > 0 && (x[s] & 0xC0) == 0x80) s--;
  long ca = decode(x + s), cb = decode(y + s);
  if (ca < 0 || cb < 0) return x[i] < y[i] ? -1 : 1; /* not UTF-8: plain bytes */
  if (tier(ca) != tier(cb)) return tier(ca) < tier(cb) ? -1 : 1;
  return ca < cb ? -1 : 1;
}

int name_cmp(const char *a, const char *b) {
  size_t la, lb;
  return component_cmp(a, b, &la, &lb);
}

int path_cmp(const char *a, const char *b) {
  /* "" is the root: before everything */
  if (!*a || !*b) return !*a && !*b ? 0 : !*a ? -1 : 1;
  for (;;) {
    size_t la, lb;
    int r = component_cmp(a, b, &la, &lb);
    if (r) return r;
    a += la;
    b += lb;
    if (!*a || !*b) return !*a && !*b ? 0 : !*a ? -1 : 1;
    a++; /* the '/' */
    b++;
  }
}
