/*
 * The stdout protocol, one line each, read by src/backup/bbcopy.ts:
 *   P <bytes>         bytes of regular files done so far (at most every 200 ms)
 *   D "<path>"        a device node left out (README "Device nodes")
 *   V "<path>"        an entry that vanished while it was read (the run exits 24, like rsync)
 *   X {"p":..,"problem":..}   restore: an entry that does not match the snapshot's index
 *   S {...}           the summary, last
 * Paths are JSON strings relative to the volume root.
 */
#include "bbcopy.h"

#include <stdarg.h>
#include <string.h>

#define MAX_PROBLEMS 20

static uint64_t last_report;

void progress_bytes(uint64_t total) {
  uint64_t now = now_ns();
  if (now - last_report < 200000000u) return;
  last_report = now;
  fprintf(stdout, "P %llu\n", (unsigned long long)total);
  fflush(stdout);
}

static void json_path(buf_t *b, const char *rel) {
  /* names that are not UTF-8 never reach here (the walk refuses them) */
  if (json_string(b, rel, strlen(rel)) != 0) buf_adds(b, "\"?\"");
}

void report_path(char kind, const char *rel) {
  static buf_t b;
  b.len = 0;
  buf_addc(&b, kind);
  buf_addc(&b, ' ');
  json_path(&b, rel);
  buf_addc(&b, '\n');
  fwrite(b.s, 1, b.len, stdout);
}

void report_problem(const char *rel, const char *fmt, ...) {
  static unsigned shown;
  if (shown++ >= MAX_PROBLEMS) return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  static buf_t b;
  b.len = 0;
  buf_adds(&b, "X {\"p\":");
  json_path(&b, rel);
  buf_adds(&b, ",\"problem\":");
  json_string(&b, msg, strlen(msg));
  buf_adds(&b, "}\n");
  fwrite(b.s, 1, b.len, stdout);
}

void report_flush(void) { fflush(stdout); }
