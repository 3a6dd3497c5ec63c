/* test_ic.c - white noise, the linear field and ZA/2LPT displacements:
 * measured power against P(k) within cosmic variance, Hermitian symmetry,
 * determinism, modes shared between mesh sizes, and plane waves with
 * analytic displacements. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm/ic.h"

static int failures;

#define CHECK(cond, ...)                                \
    do {                                                \
        if (!(cond)) {                                  \
            failures++;                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

#define REQUIRE_OK(expr)                                                          \
    do {                                                                          \
        int status_ = (expr);                                                     \
        if (status_ != D3M_OK) {                                                  \
            printf("FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #expr, d3m_last_error()); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)


static d3m_tensor *new_tensor(int ndim, size_t a, size_t b, size_t c, size_t d)
{
    size_t shape[4] = {a, b, c, d};
    d3m_tensor *t = NULL;
    REQUIRE_OK(d3m_tensor_new(ndim, shape, &t));
    return t;
}


static d3m_tensor *new_complex_mesh(int n)
{
    return new_tensor(4, (size_t)n, (size_t)n, (size_t)n / 2 + 1, 2);
}


static float *read_all(const d3m_tensor *t)
{
    float *host = malloc(t->numel * sizeof *host);
    REQUIRE_OK(d3m_tensor_read(t, host));
    return host;
}


static int signed_index(int i, int n)
{
    return i < n / 2 ? i : i - n;
}


/* ---- measured power of the linear field ---------------------------------- */

/* Bins [i kf, (i+1) kf) of |k|; every mode of the half-space counts twice
 * except those on the i2 = 0 and i2 = n/2 planes, whose partners are stored
 * too. The variance of V|delta|^2 is P^2 per full-grid mode, 2 P^2 for the
 * real (self-conjugate) modes; a full-grid mode and its partner carry the
 * same value, which the weight-2 interior modes account for. */
enum { MAX_BINS = 64 };

typedef struct binned {
    double weight[MAX_BINS];     /* full-grid mode count */
    double measured[MAX_BINS];   /* sum of weight V |delta_hat|^2 */
    double expected[MAX_BINS];   /* sum of weight P(k) */
    double variance[MAX_BINS];   /* variance of the measured sum, one realisation */
} binned;

static void bin_power(const float *delta_k, int n, double box, const d3m_cosmology *c, binned *b,
                      int with_expectation)
{
    size_t nh = (size_t)n / 2 + 1;
    double kf = 2.0 * M_PI / box, cells = (double)n * n * n, volume = box * box * box;
    for (int i0 = 0; i0 < n; i0++)
        for (int i1 = 0; i1 < n; i1++)
            for (size_t i2 = 0; i2 < nh; i2++) {
                int m0 = signed_index(i0, n), m1 = signed_index(i1, n), m2 = (int)i2;
                double k = kf * sqrt((double)(m0 * m0 + m1 * m1 + m2 * m2));
                int bin = (int)floor(k / kf);
                if (k == 0.0 || bin >= MAX_BINS)
                    continue;
                size_t idx = ((size_t)i0 * n + (size_t)i1) * nh + i2;
                double re = delta_k[2 * idx] / cells, im = delta_k[2 * idx + 1] / cells;
                int plane = i2 == 0 || 2 * i2 == (size_t)n;
                double w = plane ? 1.0 : 2.0;
                b->measured[bin] += w * volume * (re * re + im * im);
                if (!with_expectation)
                    continue;
                double p = d3m_cosmo_linear_power(c, k);
                int self = plane && (m0 == 0 || 2 * m0 == -n) && (m1 == 0 || 2 * m1 == -n);
                b->weight[bin] += w;
                b->expected[bin] += w * p;
                b->variance[bin] += self ? 2.0 * p * p : (plane ? 2.0 * p * p : 4.0 * p * p);
            }
}


/* 64 realisations: the mean measured power per bin must lie within 5 sigma
 * of the mode-averaged input P(k), sigma from the mode count (a 5 sigma
 * miss in any of ~15 bins happens by chance with probability ~1e-5). */
static void test_power_of_realisations(int n, double box)
{
    d3m_cosmology c;
    REQUIRE_OK(d3m_cosmology_init(&c, 0.3089, 0.0486, 0.6774, 0.9667, 2.142e-9, 0));
    d3m_tensor *delta_k = new_complex_mesh(n);
    const int realisations = 64;
    binned b;
    memset(&b, 0, sizeof b);
    for (int r = 0; r < realisations; r++) {
        REQUIRE_OK(d3m_linear_field(&c, box, n, 1000 + (uint64_t)r, delta_k));
        float *host = read_all(delta_k);
        bin_power(host, n, box, &c, &b, r == 0);
        free(host);
    }

    double chi2 = 0.0;
    int bins = 0;
    for (int i = 1; i < MAX_BINS; i++) {
        if (b.weight[i] == 0.0)
            continue;
        double mean = b.measured[i] / realisations / b.weight[i];
        double expected = b.expected[i] / b.weight[i];
        double sigma = sqrt(b.variance[i] / realisations) / b.weight[i];
        double pull = (mean - expected) / sigma;
        chi2 += pull * pull;
        bins++;
        printf("n %d bin %2d modes %5.0f P measured %10.2f expected %10.2f sigma %8.2f pull %+.2f\n",
               n, i, b.weight[i], mean, expected, sigma, pull);
        CHECK(fabs(pull) < 5.0, "n %d bin %d: measured P %.3f, expected %.3f +- %.3f", n, i, mean,
              expected, sigma);
    }
    /* chi^2 over the bins: mean = bins, a value above 3 bins is p < 1e-4. */
    printf("n %d: chi^2 = %.2f over %d bins\n", n, chi2, bins);
    CHECK(chi2 < 3.0 * bins, "chi^2 = %.2f over %d bins", chi2, bins);
    d3m_tensor_free(delta_k);
    d3m_cosmology_clear(&c);
}


/* ---- white noise conventions ------------------------------------------------ */

static void test_white_noise(void)
{
    const int n = 32;
    size_t cells = (size_t)n * n * n;
    d3m_tensor *noise = new_complex_mesh(n), *back = new_complex_mesh(n);
    d3m_tensor *real = new_tensor(3, n, n, n, 1);
    REQUIRE_OK(d3m_white_noise(n, 42, noise));
    REQUIRE_OK(d3m_fft_c2r(noise, real));

    /* Unit variance per cell: standard error of the variance of 32^3
     * Gaussian cells is sqrt(2/32768) = 0.008, so 0.04 is 5 sigma. The
     * mean is the DC mode, zero up to float rounding. */
    double sum = 0.0, sum2 = 0.0;
    REQUIRE_OK(d3m_tensor_sum(real, &sum));
    REQUIRE_OK(d3m_tensor_dot(real, real, &sum2));
    double mean = sum / cells, variance = sum2 / cells - mean * mean;
    printf("white noise %d^3: mean %.3g variance %.5f\n", n, mean, variance);
    CHECK(fabs(mean) < 1e-5, "white noise mean %g", mean);
    CHECK(fabs(variance - 1.0) < 0.04, "white noise variance %g", variance);

    /* Hermitian symmetry: c2r followed by r2c returns the modes unchanged
     * (an asymmetric plane would come back symmetrised). Float FFT
     * round-off: 1e-4 relative to the largest mode. */
    REQUIRE_OK(d3m_fft_r2c(real, back));
    float *a = read_all(noise), *b = read_all(back);
    double max_abs = 0.0, max_diff = 0.0;
    for (size_t i = 0; i < noise->numel; i++) {
        max_abs = fmax(max_abs, fabs(a[i]));
        max_diff = fmax(max_diff, fabs(a[i] - b[i]));
    }
    CHECK(max_diff < 1e-4 * max_abs, "c2r/r2c round trip differs by %g (max %g)", max_diff, max_abs);
    CHECK(a[0] == 0.0f, "real part of the DC mode = %g", a[0]);
    CHECK(a[1] == 0.0f, "imaginary part of the DC mode = %g", a[1]);

    /* A real self-conjugate mode: (0, 0, n/2). */
    size_t nyquist = (size_t)n / 2;
    CHECK(a[2 * nyquist + 1] == 0.0f, "imaginary part of mode (0, 0, n/2) = %g",
          a[2 * nyquist + 1]);
    free(a);
    free(b);
    d3m_tensor_free(noise);
    d3m_tensor_free(back);
    d3m_tensor_free(real);
}


/* Same seed: bit-identical; another seed: different. */
static void test_determinism(void)
{
    const int n = 16;
    d3m_cosmology c;
    REQUIRE_OK(d3m_cosmology_init(&c, 0.3, 0.05, 0.7, 0.96, 2e-9, 0));
    d3m_tensor *t = new_complex_mesh(n);
    REQUIRE_OK(d3m_linear_field(&c, 100.0, n, 7, t));
    float *first = read_all(t);
    REQUIRE_OK(d3m_linear_field(&c, 100.0, n, 7, t));
    float *second = read_all(t);
    REQUIRE_OK(d3m_linear_field(&c, 100.0, n, 8, t));
    float *other = read_all(t);
    CHECK(memcmp(first, second, t->numel * sizeof(float)) == 0, "same seed, different fields");
    CHECK(memcmp(first, other, t->numel * sizeof(float)) != 0, "seeds 7 and 8 gave one field");
    free(first);
    free(second);
    free(other);
    d3m_tensor_free(t);
    d3m_cosmology_clear(&c);
}


/* delta_hat = delta_k / n^3 of every mode with |m_d| < n_small/2 is the
 * same in a 32^3 and a 64^3 field of the same seed and box. Each value is
 * made in double and rounded to float once, and the division by n^3 is
 * exact, so the values agree to one float rounding (2^-23 ~ 1.2e-7; the
 * tolerance is 3e-7 relative). */
static void test_modes_shared_between_meshes(void)
{
    const int small = 32, large = 64;
    const double box = 128.0;
    d3m_cosmology c;
    REQUIRE_OK(d3m_cosmology_init(&c, 0.3089, 0.0486, 0.6774, 0.9667, 2.142e-9, 0));
    d3m_tensor *ts = new_complex_mesh(small), *tl = new_complex_mesh(large);
    REQUIRE_OK(d3m_linear_field(&c, box, small, 99, ts));
    REQUIRE_OK(d3m_linear_field(&c, box, large, 99, tl));
    float *s = read_all(ts), *l = read_all(tl);

    double cells_s = pow(small, 3), cells_l = pow(large, 3);
    size_t nhs = small / 2 + 1, nhl = large / 2 + 1;
    int compared = 0, mismatched = 0;
    for (int m0 = -small / 2 + 1; m0 < small / 2; m0++)
        for (int m1 = -small / 2 + 1; m1 < small / 2; m1++)
            for (int m2 = 0; m2 < small / 2; m2++) {
                size_t is = ((size_t)((m0 + small) % small) * small + (size_t)((m1 + small) % small)) *
                                nhs + (size_t)m2;
                size_t il = ((size_t)((m0 + large) % large) * large + (size_t)((m1 + large) % large)) *
                                nhl + (size_t)m2;
                for (int part = 0; part < 2; part++) {
                    double vs = s[2 * is + part] / cells_s, vl = l[2 * il + part] / cells_l;
                    compared++;
                    if (fabs(vs - vl) > 3e-7 * fmax(fabs(vs), fabs(vl)))
                        mismatched++;
                }
            }
    printf("modes shared by 32^3 and 64^3: %d values compared, %d differ\n", compared, mismatched);
    CHECK(mismatched == 0, "%d of %d low-k values differ between 32^3 and 64^3", mismatched,
          compared);

    /* The mode (-16, 0, 0) is its own partner, so real, in the 32^3 mesh
     * but an ordinary complex mode in the 64^3 mesh: it differs, which
     * shows that the comparison above can fail. */
    size_t is = (size_t)(small / 2) * small * nhs;
    size_t il = (size_t)(large - small / 2) * large * nhl;
    CHECK(s[2 * is + 1] == 0.0f, "mode (-16, 0, 0) of 32^3 should be real");
    CHECK(l[2 * il + 1] != 0.0f, "mode (-16, 0, 0) of 64^3 should be complex");
    free(s);
    free(l);
    d3m_tensor_free(ts);
    d3m_tensor_free(tl);
    d3m_cosmology_clear(&c);
}


/* ---- plane waves -------------------------------------------------------------- */

typedef struct wave {
    int m[3];
    double amplitude;
} wave;

/* delta_k of a sum of cosine waves delta(q) = sum A cos(k.q), by r2c of
 * the real field. */
static d3m_tensor *plane_waves(int n, const wave *waves, int count)
{
    size_t cells = (size_t)n * n * n;
    float *host = malloc(cells * sizeof *host);
    for (int i0 = 0; i0 < n; i0++)
        for (int i1 = 0; i1 < n; i1++)
            for (int i2 = 0; i2 < n; i2++) {
                double v = 0.0;
                for (int w = 0; w < count; w++) {
                    const int *m = waves[w].m;
                    v += waves[w].amplitude * cos(2.0 * M_PI * (m[0] * i0 + m[1] * i1 + m[2] * i2) / n);
                }
                host[((size_t)i0 * n + (size_t)i1) * n + (size_t)i2] = (float)v;
            }
    d3m_tensor *real = new_tensor(3, n, n, n, 1);
    d3m_tensor *delta_k = new_complex_mesh(n);
    REQUIRE_OK(d3m_tensor_write(real, host));
    REQUIRE_OK(d3m_fft_r2c(real, delta_k));
    d3m_tensor_free(real);
    free(host);
    return delta_k;
}


/* max |psi - expected| over all components and particles, relative to
 * scale. */
typedef void (*displacement_fn)(const double *q, int d, const void *ctx, double *out);

static double max_error(const float *psi, int n, double box, displacement_fn fn, const void *ctx)
{
    size_t cells = (size_t)n * n * n;
    double worst = 0.0;
    for (int d = 0; d < 3; d++)
        for (size_t i = 0; i < cells; i++) {
            double q[3] = {(double)(i / ((size_t)n * n)) * box / n,
                           (double)((i / (size_t)n) % (size_t)n) * box / n,
                           (double)(i % (size_t)n) * box / n};
            double expected = 0.0;
            fn(q, d, ctx, &expected);
            worst = fmax(worst, fabs(psi[d * cells + i] - expected));
        }
    return worst;
}


typedef struct wave_context {
    const wave *waves;
    int count;
    double box;
    int n;
    int gradient;
} wave_context;

static double wave_k(const wave *w, int d, double box)
{
    return 2.0 * M_PI * w->m[d] / box;
}

/* Derivative factor of the chosen gradient for wavenumber k on the mesh. */
static double derivative(double k, int gradient, double box, int n)
{
    if (gradient == D3M_GRADIENT_EXACT)
        return k;
    double h = box / n;
    return (8.0 * sin(k * h) - sin(2.0 * k * h)) / (6.0 * h);
}

/* ZA of delta = A cos(k.q): psi1_d = -A D_d(k) / k^2 sin(k.q). */
static void za_expected(const double *q, int d, const void *ctx_, double *out)
{
    const wave_context *ctx = ctx_;
    *out = 0.0;
    for (int w = 0; w < ctx->count; w++) {
        const wave *wv = &ctx->waves[w];
        double k2 = 0.0, phase = 0.0;
        for (int e = 0; e < 3; e++) {
            double k = wave_k(wv, e, ctx->box);
            k2 += k * k;
            phase += k * q[e];
        }
        *out += -wv->amplitude * derivative(wave_k(wv, d, ctx->box), ctx->gradient, ctx->box, ctx->n) /
                k2 * sin(phase);
    }
}

/* 2LPT of two orthogonal waves A cos(k1.q) + B cos(k2.q): S = A B cos(k1.q)
 * cos(k2.q), since the Hessian A u1 u1^T c1 + B u2 u2^T c2 has eigenvalues
 * A c1, B c2 and 0. With K^2 = k1^2 + k2^2 = |k1 +- k2|^2,
 * psi2 = A B / (2 K^2) [(k1 + k2) sin((k1 + k2).q) + (k1 - k2) sin((k1 - k2).q)]. */
static void lpt2_expected(const double *q, int d, const void *ctx_, double *out)
{
    const wave_context *ctx = ctx_;
    const wave *w1 = &ctx->waves[0], *w2 = &ctx->waves[1];
    double kk = 0.0, plus = 0.0, minus = 0.0;
    for (int e = 0; e < 3; e++) {
        double a = wave_k(w1, e, ctx->box), b = wave_k(w2, e, ctx->box);
        kk += a * a + b * b;
        plus += (a + b) * q[e];
        minus += (a - b) * q[e];
    }
    double a = wave_k(w1, d, ctx->box), b = wave_k(w2, d, ctx->box);
    *out = w1->amplitude * w2->amplitude / (2.0 * kk) * ((a + b) * sin(plus) + (a - b) * sin(minus));
}

static void zero_expected(const double *q, int d, const void *ctx, double *out)
{
    (void)q;
    (void)d;
    (void)ctx;
    *out = 0.0;
}


/* Float FFTs of a 16^3 mesh: errors ~1e-6 of the field's largest value,
 * so every tolerance is 1e-5 of the analytic amplitude. */
static void test_plane_waves(void)
{
    const int n = 16;
    const double box = 100.0;
    d3m_tensor *psi1 = new_tensor(4, 3, n, n, n), *psi2 = new_tensor(4, 3, n, n, n);

    /* A single wave in a general direction: ZA exact, 2LPT zero. */
    for (int gradient = 0; gradient < 2; gradient++) {
        wave single = {{1, 2, -3}, 0.3};
        d3m_tensor *delta_k = plane_waves(n, &single, 1);
        REQUIRE_OK(d3m_lpt_displacements(delta_k, box, gradient, psi1, psi2));
        float *p1 = read_all(psi1), *p2 = read_all(psi2);
        wave_context ctx = {&single, 1, box, n, gradient};
        double k = 2.0 * M_PI * sqrt(14.0) / box;
        double scale1 = single.amplitude / k;
        double scale2 = single.amplitude * single.amplitude / k;
        double e1 = max_error(p1, n, box, za_expected, &ctx);
        double e2 = max_error(p2, n, box, zero_expected, &ctx);
        printf("single wave, gradient %d: ZA error %.2e of %.3g, 2LPT %.2e of %.3g\n", gradient, e1,
               scale1, e2, scale2);
        CHECK(e1 < 1e-5 * scale1, "single wave ZA error %g (gradient %d)", e1, gradient);
        CHECK(e2 < 1e-5 * scale2, "single wave 2LPT should be zero, max %g (gradient %d)", e2,
              gradient);
        free(p1);
        free(p2);
        d3m_tensor_free(delta_k);
    }

    /* Two orthogonal waves, along the axes and along diagonals. */
    const wave pairs[2][2] = {{{{2, 0, 0}, 0.2}, {{0, 3, 0}, 0.5}},
                              {{{1, 1, 0}, 0.4}, {{2, -2, 1}, 0.3}}};
    for (int p = 0; p < 2; p++) {
        d3m_tensor *delta_k = plane_waves(n, pairs[p], 2);
        REQUIRE_OK(d3m_lpt_displacements(delta_k, box, D3M_GRADIENT_EXACT, psi1, psi2));
        float *p1 = read_all(psi1), *p2 = read_all(psi2);
        wave_context ctx = {pairs[p], 2, box, n, D3M_GRADIENT_EXACT};
        double k_min = 2.0 * M_PI * sqrt(2.0) / box;
        double scale2 = pairs[p][0].amplitude * pairs[p][1].amplitude / k_min;
        double e1 = max_error(p1, n, box, za_expected, &ctx);
        double e2 = max_error(p2, n, box, lpt2_expected, &ctx);
        printf("orthogonal pair %d: ZA error %.2e, 2LPT error %.2e of %.3g\n", p, e1, e2, scale2);
        CHECK(e1 < 1e-5 * 0.5 / k_min, "orthogonal pair %d ZA error %g", p, e1);
        CHECK(e2 < 1e-5 * scale2, "orthogonal pair %d 2LPT error %g", p, e2);
        free(p1);
        free(p2);
        d3m_tensor_free(delta_k);
    }

    /* ZA alone: psi2 NULL is accepted. */
    wave single = {{0, 0, 1}, 1.0};
    d3m_tensor *delta_k = plane_waves(n, &single, 1);
    REQUIRE_OK(d3m_lpt_displacements(delta_k, box, D3M_GRADIENT_EXACT, psi1, NULL));
    d3m_tensor_free(delta_k);
    d3m_tensor_free(psi1);
    d3m_tensor_free(psi2);
}


/* psi1 of a linear field against Parseval's theorem on the host modes:
 * sum_x |psi1|^2 = (1/N) sum_k |delta_k|^2 sum_d D_d^2 / k^4 over the full
 * grid, D_d = k_d except 0 on Nyquist indices. */
static void test_displacement_variance(void)
{
    const int n = 16;
    const double box = 64.0;
    d3m_cosmology c;
    REQUIRE_OK(d3m_cosmology_init(&c, 0.3089, 0.0486, 0.6774, 0.9667, 2.142e-9, 0));
    d3m_tensor *delta_k = new_complex_mesh(n), *psi1 = new_tensor(4, 3, n, n, n);
    REQUIRE_OK(d3m_linear_field(&c, box, n, 5, delta_k));
    REQUIRE_OK(d3m_lpt_displacements(delta_k, box, D3M_GRADIENT_EXACT, psi1, NULL));

    float *dk = read_all(delta_k);
    size_t nh = n / 2 + 1;
    double cells = (double)n * n * n, kf = 2.0 * M_PI / box, expected = 0.0;
    for (int i0 = 0; i0 < n; i0++)
        for (int i1 = 0; i1 < n; i1++)
            for (size_t i2 = 0; i2 < nh; i2++) {
                int m[3] = {signed_index(i0, n), signed_index(i1, n), (int)i2};
                double k2 = kf * kf * (m[0] * m[0] + m[1] * m[1] + m[2] * m[2]);
                if (k2 == 0.0)
                    continue;
                double grad2 = 0.0;
                for (int d = 0; d < 3; d++)
                    if (2 * abs(m[d]) != n)
                        grad2 += kf * kf * m[d] * m[d];
                size_t idx = ((size_t)i0 * n + (size_t)i1) * nh + i2;
                double power = (double)dk[2 * idx] * dk[2 * idx] + (double)dk[2 * idx + 1] * dk[2 * idx + 1];
                double w = (i2 == 0 || 2 * i2 == (size_t)n) ? 1.0 : 2.0;
                expected += w * power * grad2 / (k2 * k2) / cells;
            }
    double measured = 0.0;
    REQUIRE_OK(d3m_tensor_dot(psi1, psi1, &measured));
    printf("sum |psi1|^2 = %.6g, Parseval %.6g\n", measured, expected);
    /* Float FFT and float sums: 1e-4 relative. */
    CHECK(fabs(measured - expected) < 1e-4 * expected, "psi1 power %g, expected %g", measured,
          expected);
    free(dk);
    d3m_tensor_free(delta_k);
    d3m_tensor_free(psi1);
    d3m_cosmology_clear(&c);
}


static void test_invalid_arguments(void)
{
    d3m_cosmology c;
    REQUIRE_OK(d3m_cosmology_init(&c, 0.3, 0.05, 0.7, 0.96, 2e-9, 0));
    d3m_tensor *t = new_complex_mesh(8), *psi = new_tensor(4, 3, 8, 8, 8);
    CHECK(d3m_linear_field(&c, 100.0, 7, 1, t) == D3M_ERR_ARG, "odd n accepted");
    CHECK(strstr(d3m_last_error(), "n = 7") != NULL, "message: %s", d3m_last_error());
    CHECK(d3m_linear_field(&c, -1.0, 8, 1, t) == D3M_ERR_ARG, "negative box accepted");
    CHECK(d3m_linear_field(&c, 100.0, 16, 1, t) == D3M_ERR_SHAPE, "wrong output shape accepted");
    CHECK(d3m_lpt_displacements(t, 100.0, 2, psi, NULL) == D3M_ERR_ARG, "gradient 2 accepted");
    CHECK(d3m_lpt_displacements(t, 100.0, 0, t, NULL) == D3M_ERR_SHAPE, "psi1 shape unchecked");

    /* A power table that does not reach the mesh's largest k. */
    double k[2] = {1e-3, 1.0}, p[2] = {1e4, 1e2};
    REQUIRE_OK(d3m_cosmology_set_power_table(&c, k, p, 2));
    CHECK(d3m_linear_field(&c, 10.0, 8, 1, t) == D3M_ERR_VALUE, "table range unchecked");
    CHECK(strstr(d3m_last_error(), "extend the table") != NULL, "message: %s", d3m_last_error());
    d3m_tensor_free(t);
    d3m_tensor_free(psi);
    d3m_cosmology_clear(&c);
}


int main(void)
{
    REQUIRE_OK(d3m_use_device(NULL));
    test_white_noise();
    test_determinism();
    test_modes_shared_between_meshes();
    test_power_of_realisations(16, 128.0);
    test_power_of_realisations(32, 256.0);
    test_plane_waves();
    test_displacement_variance();
    test_invalid_arguments();

    if (failures) {
        printf("%d checks failed\n", failures);
        return 1;
    }
    printf("all initial-condition checks passed\n");
    return 0;
}
