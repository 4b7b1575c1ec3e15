/*
 * clock.c - the monotonic clock.  CLOCK_MONOTONIC cannot fail with a valid
 * clock id and a valid pointer, so its result is not checked.
 */
#include "config.h"

#include "clock.h"

#include <time.h>

int64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
