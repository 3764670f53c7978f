/* Moves a process's wall clock (CLOCK_REALTIME) while its monotonic clock runs on, the way
 * NTP stepping the clock or an operator running `date -s` does; for LD_PRELOAD in
 * tests/reliability/test_faults.py.
 *
 * The offset, in seconds (may be negative or fractional), is read from the file named by
 * $NYXMON_WALL_CLOCK_FILE, at most every 20 ms. clock_gettime(CLOCK_REALTIME*),
 * gettimeofday() and time() are shifted; every other clock and every sleep is left alone.
 *
 * Debian's libfaketime (0.9.10) does the same with FAKETIME_DONT_FAKE_MONOTONIC=1, but then
 * misreads absolute monotonic deadlines in clock_nanosleep (Python's time.sleep fails with
 * EINVAL), so a process under it cannot even start.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static volatile long long offset_ns;
static volatile long long read_at_ns = -1;

static long long as_ns(const struct timespec *ts) {
    return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static void refresh(void) {
    struct timespec now;
    real_clock_gettime(CLOCK_MONOTONIC, &now);
    if (read_at_ns >= 0 && as_ns(&now) - read_at_ns < 20000000LL)
        return;
    read_at_ns = as_ns(&now);
    const char *path = getenv("NYXMON_WALL_CLOCK_FILE");
    if (path == NULL)
        return;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    double seconds;
    if (fscanf(f, "%lf", &seconds) == 1)
        offset_ns = (long long)(seconds * 1e9);
    fclose(f);
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
    if (real_clock_gettime == NULL)
        real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real_clock_gettime(clock, ts);
    if (rc == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
        refresh();
        long long ns = as_ns(ts) + offset_ns;
        ts->tv_sec = ns / 1000000000LL;
        ts->tv_nsec = ns % 1000000000LL;
    }
    return rc;
}

int gettimeofday(struct timeval *tv, void *tz) {
    (void)tz;
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0 && tv != NULL) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return rc;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out != NULL)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
