/* stats_testing.h - helpers shared by the statistics tests: a seeded random
 * generator, tensors from host arrays, check macros and test fixtures. The
 * fixtures (a smooth random displacement field, a host CIC assignment) are
 * built from first principles, so the tests need no other part of d3m. */
#ifndef D3M_STATS_TESTING_H
#define D3M_STATS_TESTING_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "d3m.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static int failures;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, \
                    #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

#define REQUIRE_OK(expr)                                                          \
    do {                                                                          \
        if ((expr) != D3M_OK) {                                                   \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,  \
                    d3m_last_error());                                            \
            exit(1);                                                              \
        }                                                                         \
    } while (0)


/* splitmix64: a small, seedable generator; the seed is printed by each test. */
typedef struct rng {
    uint64_t state;
} rng;

static inline uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double rng_uniform(rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double rng_normal(rng *r)
{
    double u = rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}


static inline d3m_tensor *tensor_from(int ndim, const size_t *shape, const float *host)
{
    d3m_tensor *t = NULL;
    REQUIRE_OK(d3m_tensor_new(ndim, shape, &t));
    REQUIRE_OK(d3m_tensor_write(t, host));
    return t;
}


/* Signed frequency of FFT index i on an n mesh. */
static inline long test_frequency(size_t i, size_t n)
{
    return i <= n / 2 ? (long)i : (long)i - (long)n;
}


/*
 * A smooth Gaussian displacement field [3, n, n, n] in Mpc/h: white noise,
 * transformed on the device, filtered by i k / k^2 sqrt(P(k)) with
 * P(k) = amplitude k exp(-(k R)^2) (a smooth bump, no physics), and
 * transformed back. The rms displacement scales with amplitude.
 */
static inline float *smooth_displacement(size_t n, double box, double amplitude, double smoothing,
                                  uint64_t seed)
{
    size_t cells = n * n * n, half = n / 2 + 1;
    size_t rshape[3] = {n, n, n}, cshape[4] = {n, n, half, 2};
    rng r = {seed};
    float *noise = malloc(cells * sizeof *noise);
    for (size_t i = 0; i < cells; i++)
        noise[i] = (float)rng_normal(&r);
    d3m_tensor *real = tensor_from(3, rshape, noise), *cplx = NULL;
    REQUIRE_OK(d3m_tensor_new(4, cshape, &cplx));
    REQUIRE_OK(d3m_fft_r2c(real, cplx));
    float *spectrum = malloc(n * n * half * 2 * sizeof *spectrum);
    float *component = malloc(n * n * half * 2 * sizeof *component);
    float *out = malloc(3 * cells * sizeof *out);
    REQUIRE_OK(d3m_tensor_read(cplx, spectrum));

    double k_f = 2.0 * M_PI / box;
    for (int d = 0; d < 3; d++) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                for (size_t l = 0; l < half; l++) {
                    long f[3] = {test_frequency(i, n), test_frequency(j, n), (long)l};
                    size_t index = (i * n + j) * half + l;
                    double k2 = k_f * k_f * (double)(f[0] * f[0] + f[1] * f[1] + f[2] * f[2]);
                    double k = sqrt(k2);
                    int nyquist = (n % 2 == 0) && ((size_t)labs(f[d]) == n / 2);
                    double filter = 0.0;
                    if (k2 > 0.0 && !nyquist)
                        filter = k_f * (double)f[d] / k2 *
                                 sqrt(amplitude * k * exp(-k2 * smoothing * smoothing)) /
                                 sqrt((double)cells);
                    /* multiply by i filter: (re, im) -> (-im, re) filter */
                    component[2 * index] = (float)(-filter * spectrum[2 * index + 1]);
                    component[2 * index + 1] = (float)(filter * spectrum[2 * index]);
                }
        REQUIRE_OK(d3m_tensor_write(cplx, component));
        REQUIRE_OK(d3m_fft_c2r(cplx, real));
        REQUIRE_OK(d3m_tensor_read(real, out + (size_t)d * cells));
    }
    d3m_tensor_free(real);
    d3m_tensor_free(cplx);
    free(noise);
    free(spectrum);
    free(component);
    return out;
}


/* Positions [n^3, 3] of the grid q = (i, j, k) box / n moved by disp [3, n^3], wrapped. */
static inline float *displaced_positions(const float *disp, size_t n, double box)
{
    size_t cells = n * n * n;
    float *pos = malloc(3 * cells * sizeof *pos);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t l = 0; l < n; l++) {
                size_t p = (i * n + j) * n + l;
                size_t q[3] = {i, j, l};
                for (int d = 0; d < 3; d++) {
                    double x = (double)q[d] * box / (double)n + disp[(size_t)d * cells + p];
                    x = fmod(x, box);
                    if (x < 0.0)
                        x += box;
                    pos[3 * p + (size_t)d] = (float)(x < box ? x : 0.0);
                }
            }
    return pos;
}


/* Move particles pos [count, 3] in place by the displacement disp [3, n^3]
 * interpolated trilinearly at each particle, and wrap them into [0, box). */
static inline void displace_particles(float *pos, size_t count, const float *disp, size_t n,
                                      double box)
{
    size_t cells = n * n * n;
    for (size_t p = 0; p < count; p++) {
        long base[3];
        double frac[3], shift[3] = {0.0, 0.0, 0.0};
        for (int d = 0; d < 3; d++) {
            double u = pos[3 * p + (size_t)d] / box * (double)n;
            base[d] = (long)floor(u);
            frac[d] = u - floor(u);
        }
        for (int corner = 0; corner < 8; corner++) {
            double w = 1.0;
            size_t index = 0;
            for (int d = 0; d < 3; d++) {
                int up = (corner >> d) & 1;
                w *= up ? frac[d] : 1.0 - frac[d];
                long c = ((base[d] + up) % (long)n + (long)n) % (long)n;
                index = index * n + (size_t)c;
            }
            for (int d = 0; d < 3; d++)
                shift[d] += w * disp[(size_t)d * cells + index];
        }
        for (int d = 0; d < 3; d++) {
            double x = fmod(pos[3 * p + (size_t)d] + shift[d], box);
            if (x < 0.0)
                x += box;
            pos[3 * p + (size_t)d] = (float)(x < box ? x : 0.0);
        }
    }
}


/* Host cloud-in-cell density 1 + delta = rho / mean on an n^3 mesh: a test
 * fixture standing in for the library's painting. */
static inline float *host_cic_density(const float *pos, size_t count, size_t n, double box)
{
    size_t cells = n * n * n;
    double *mesh = calloc(cells, sizeof *mesh);
    for (size_t p = 0; p < count; p++) {
        long base[3];
        double frac[3];
        for (int d = 0; d < 3; d++) {
            double u = pos[3 * p + (size_t)d] / box * (double)n;
            double fl = floor(u);
            base[d] = (long)fl;
            frac[d] = u - fl;
        }
        for (int corner = 0; corner < 8; corner++) {
            double w = 1.0;
            size_t index = 0;
            for (int d = 0; d < 3; d++) {
                int up = (corner >> d) & 1;
                w *= up ? frac[d] : 1.0 - frac[d];
                long c = (base[d] + up) % (long)n;
                if (c < 0)
                    c += (long)n;
                index = index * n + (size_t)c;
            }
            mesh[index] += w;
        }
    }
    float *out = malloc(cells * sizeof *out);
    double mean = (double)count / (double)cells;
    for (size_t i = 0; i < cells; i++)
        out[i] = (float)(mesh[i] / mean);
    free(mesh);
    return out;
}

#endif
