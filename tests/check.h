/* check.h - minimal assertions for the C tests: each failed check prints its
 * location and message and the test exits non-zero at the end. */
#ifndef D3M_TEST_CHECK_H
#define D3M_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "d3m.h"

static int check_failures;
static int check_count;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        check_count++;                                                     \
        if (!(cond)) {                                                     \
            check_failures++;                                              \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

/* A d3m call that must succeed; on failure the test cannot go on. */
#define REQUIRE_OK(call)                                                   \
    do {                                                                   \
        int require_status_ = (call);                                      \
        if (require_status_ != D3M_OK) {                                   \
            fprintf(stderr, "%s:%d: %s failed (%d): %s\n", __FILE__, __LINE__, #call, \
                    require_status_, d3m_last_error());                    \
            return 1;                                                      \
        }                                                                  \
    } while (0)

/* |a - b| <= abs_tol + rel_tol |b| */
static inline int close_to(double a, double b, double abs_tol, double rel_tol)
{
    return fabs(a - b) <= abs_tol + rel_tol * fabs(b);
}

static inline int contains(const char *text, const char *part)
{
    return strstr(text, part) != NULL;
}

static inline int check_report(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

/* Deterministic uniform numbers in [-1, 1) (splitmix64). */
static inline double test_random(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 4503599627370496.0 - 1.0;
}

#endif
