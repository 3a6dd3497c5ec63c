/* pm_testing.h - small helpers shared by the particle-mesh tests: checks that
 * count failures, a seeded random generator, host tensor transfers and an
 * Einstein-de Sitter background whose growth factors are known exactly. */
#ifndef D3M_PM_TESTING_H
#define D3M_PM_TESTING_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "d3m.h"
#include "pm/pm.h"

static int failures;

#define CHECK(cond, ...)                                           \
    do {                                                           \
        if (!(cond)) {                                             \
            failures++;                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);   \
            fprintf(stderr, __VA_ARGS__);                          \
            fprintf(stderr, "\n");                                 \
        }                                                          \
    } while (0)

/* Abort the test program when the library reports a failure. */
#define REQUIRE_OK(expr)                                                            \
    do {                                                                            \
        int status_ = (expr);                                                       \
        if (status_ != D3M_OK) {                                                    \
            fprintf(stderr, "FAIL %s:%d: %s returned %d: %s\n", __FILE__, __LINE__, \
                    #expr, status_, d3m_last_error());                              \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

/* xorshift64*: a fixed-seed generator, so failures reproduce. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static inline void rng_seed(uint64_t seed)
{
    rng_state = seed ? seed : 0x9E3779B97F4A7C15ull;
}

static inline double rng_uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) * (1.0 / 9007199254740992.0);
}

static inline d3m_tensor *new_tensor(int ndim, const size_t *shape)
{
    d3m_tensor *t = NULL;
    REQUIRE_OK(d3m_tensor_new(ndim, shape, &t));
    return t;
}

static inline d3m_tensor *tensor_from(int ndim, const size_t *shape, const float *host)
{
    d3m_tensor *t = new_tensor(ndim, shape);
    REQUIRE_OK(d3m_tensor_write(t, host));
    return t;
}

static inline float *tensor_to_host(const d3m_tensor *t)
{
    float *host = malloc(t->numel * sizeof *host);
    if (host == NULL) {
        fprintf(stderr, "out of host memory\n");
        exit(1);
    }
    REQUIRE_OK(d3m_tensor_read(t, host));
    return host;
}

/* Einstein-de Sitter: Omega_m = 1, E = a^-3/2, D1 = a, D2 = -3/7 a^2. */
static inline int eds_growth(const void *context, double a, d3m_pm_growth *g)
{
    (void)context;
    g->E = pow(a, -1.5);
    g->D1 = a;
    g->D2 = -3.0 / 7.0 * a * a;
    g->f1 = 1.0;
    g->f2 = 2.0;
    g->dD1da = 1.0;
    return D3M_OK;
}

static const d3m_pm_background eds_background = {1.0, eds_growth, NULL};

#endif
