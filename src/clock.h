/*
 * clock.h - the monotonic clock the loop and the connections keep time by.
 */
#ifndef TINYHTTPD_CLOCK_H
#define TINYHTTPD_CLOCK_H

#include <stdint.h>

/* Milliseconds, coarse (a few ms of resolution, no system call): deadlines. */
int64_t clock_ms(void);

/* Microseconds: request durations. */
int64_t clock_us(void);

#endif
