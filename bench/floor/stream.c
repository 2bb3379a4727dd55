/* The native memory floor: the bytes of a table (a file) read once, front to back, by the cheapest loop gcc
 * vectorises (a sum of 64-bit words; -O3 -march=native). bench/floor.mjs compiles it at bench time, outside the
 * repository's build. Prints {"median_ms": m, "gbps": g} over `reps` passes after one untimed pass.
 * usage: stream FILE REPS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: stream FILE REPS\n"), 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 1;
  fseek(f, 0, SEEK_END);
  size_t n = (size_t)ftell(f), words = (n + 7) / 8;
  fseek(f, 0, SEEK_SET);
  uint64_t *w = aligned_alloc(64, (words * 8 + 63) & ~(size_t)63);
  memset(w, 0, words * 8);
  if (fread(w, 1, n, f) != n) return fprintf(stderr, "short read\n"), 1;
  fclose(f);
  int reps = atoi(argv[2]);
  double *ms = malloc(sizeof(double) * (size_t)reps);
  volatile uint64_t sink = 0;
  for (int r = -1; r < reps; r++) {
    double t = now_ms();
    uint64_t s = 0;
    for (size_t i = 0; i < words; i++) s += w[i];
    sink += s;
    if (r >= 0) ms[r] = now_ms() - t;
  }
  qsort(ms, (size_t)reps, sizeof(double), cmp);
  double m = ms[reps / 2];
  printf("{\"median_ms\": %.4f, \"gbps\": %.3f, \"sink\": %llu}\n", m, n / m / 1e6, (unsigned long long)sink);
  return 0;
}
