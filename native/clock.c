/* Where the time goes, by phase, for the summary line (the bench's phase breakdown). */
#include "bbcopy.h"

#include <time.h>

__thread uint64_t phase_ns[PH_COUNT];

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *phase_name(int ph) {
  static const char *names[PH_COUNT] = {"walk", "read", "hash", "write", "metadata", "index"};
  return names[ph];
}
