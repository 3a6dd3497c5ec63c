/* test_nn_ops.c - the non-convolution nn kernels against plain host loops
 * in double precision: forward results, and every backward pass against
 * central differences of the double host forward.
 *
 * Gradient checks use the scalar L = sum_i r_i y_i with random r, so the
 * device backward is fed grad_output = r. The host reference is exact to
 * about 1e-12, so the differences measure the device's float32 error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

static int failures;

#define CHECK(cond, ...)                                    \
    do {                                                    \
        if (!(cond)) {                                      \
            failures++;                                     \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);     \
            printf(__VA_ARGS__);                            \
            printf("\n");                                   \
        }                                                   \
    } while (0)

#define OK(call)                                                                 \
    do {                                                                         \
        if ((call) != D3M_OK) {                                                  \
            printf("FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #call,            \
                   d3m_last_error());                                            \
            exit(1);                                                             \
        }                                                                        \
    } while (0)


/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* Uniform in [lo, hi), from a 64-bit xorshift* generator (fixed seed). */
static double uniform(double lo, double hi)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t bits = rng_state * 2685821657736338717u;
    return lo + (hi - lo) * (double)(bits >> 11) * 0x1.0p-53;
}

/* Random host array rounded to float, so host and device see the same values. */
static double *random_array(size_t n, double lo, double hi)
{
    double *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = (double)(float)uniform(lo, hi);
    return a;
}

static d3m_tensor *upload(int ndim, const size_t *shape, const double *values)
{
    d3m_tensor *t = NULL;
    OK(d3m_tensor_new(ndim, shape, &t));
    float *host = malloc(t->numel * sizeof *host);
    for (size_t i = 0; i < t->numel; i++)
        host[i] = (float)values[i];
    OK(d3m_tensor_write(t, host));
    free(host);
    return t;
}

static d3m_tensor *zeros(int ndim, const size_t *shape)
{
    d3m_tensor *t = NULL;
    OK(d3m_tensor_zeros(ndim, shape, &t));
    return t;
}

static double *download(const d3m_tensor *t)
{
    float *host = malloc(t->numel * sizeof *host);
    OK(d3m_tensor_read(t, host));
    double *a = malloc(t->numel * sizeof *a);
    for (size_t i = 0; i < t->numel; i++)
        a[i] = host[i];
    free(host);
    return a;
}

static size_t product(int ndim, const size_t *shape)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

/* max |a - b| / (abs + rel max |b|) over n values: <= 1 passes. */
static double error_ratio(const double *a, const double *b, size_t n, double abs_tol,
                          double rel_tol)
{
    double scale = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(a[i] - b[i]) / (abs_tol + rel_tol * scale));
    return worst;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}


/* Central differences of L(v) = <r, f(v)> with respect to every v[i]. */
typedef void (*host_forward)(const void *context, double *out);

static double *numeric_gradient(double *v, size_t n, host_forward f, const void *context,
                                const double *r, size_t out_n, double h)
{
    double *g = malloc(n * sizeof *g), *out = malloc(out_n * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        double saved = v[i];
        v[i] = saved + h;
        f(context, out);
        double plus = dot(r, out, out_n);
        v[i] = saved - h;
        f(context, out);
        double minus = dot(r, out, out_n);
        v[i] = saved;
        g[i] = (plus - minus) / (2.0 * h);
    }
    free(out);
    return g;
}


/* ---- batch normalisation --------------------------------------------------- */

typedef struct bn_case {
    size_t n, c, s;
    double *x, *w, *b, *running_mean, *running_var;
    int training;
} bn_case;

static void bn_host_stats(const bn_case *k, size_t c, double *mean, double *var)
{
    double m = 0.0, v = 0.0, count = (double)(k->n * k->s);
    for (size_t n = 0; n < k->n; n++)
        for (size_t s = 0; s < k->s; s++)
            m += k->x[(n * k->c + c) * k->s + s];
    m /= count;
    for (size_t n = 0; n < k->n; n++)
        for (size_t s = 0; s < k->s; s++) {
            double d = k->x[(n * k->c + c) * k->s + s] - m;
            v += d * d;
        }
    *mean = m;
    *var = v / count;
}

static void bn_host_forward(const void *context, double *y)
{
    const bn_case *k = context;
    for (size_t c = 0; c < k->c; c++) {
        double mean = k->running_mean[c], var = k->running_var[c];
        if (k->training)
            bn_host_stats(k, c, &mean, &var);
        double invstd = 1.0 / sqrt(var + 1e-5);
        for (size_t n = 0; n < k->n; n++)
            for (size_t s = 0; s < k->s; s++) {
                size_t i = (n * k->c + c) * k->s + s;
                y[i] = (k->x[i] - mean) * invstd * k->w[c] + k->b[c];
            }
    }
}

static void test_batchnorm(int ndim, const size_t *shape, int training)
{
    bn_case k = {shape[0], shape[1], product(ndim - 2, shape + 2), NULL, NULL, NULL, NULL, NULL,
                 training};
    size_t total = product(ndim, shape), vec[1] = {k.c};
    k.x = random_array(total, -1.0, 3.0);
    k.w = random_array(k.c, 0.5, 1.5);
    k.b = random_array(k.c, -0.5, 0.5);
    k.running_mean = random_array(k.c, -0.2, 0.2);
    k.running_var = random_array(k.c, 0.5, 2.0);
    double *r = random_array(total, -1.0, 1.0);

    d3m_tensor *x = upload(ndim, shape, k.x), *w = upload(1, vec, k.w), *b = upload(1, vec, k.b);
    d3m_tensor *rm = upload(1, vec, k.running_mean), *rv = upload(1, vec, k.running_var);
    d3m_tensor *y = zeros(ndim, shape), *mean = zeros(1, vec), *invstd = zeros(1, vec);
    OK(d3m_batchnorm_forward(x, w, b, rm, rv, training, 0.1, 1e-5, y, mean, invstd));

    /* Forward: float32 normalisation of O(1) values; 1e-5 relative is a
     * few ulp of the largest output. */
    double *expected = malloc(total * sizeof *expected), *got = download(y);
    bn_host_forward(&k, expected);
    CHECK(error_ratio(got, expected, total, 1e-6, 1e-5) <= 1.0,
          "batchnorm forward (training %d, N %zu, C %zu, S %zu) differs from the host loop",
          training, k.n, k.c, k.s);

    /* Running statistics: momentum 0.1 and the unbiased variance. */
    double *got_rm = download(rm), *got_rv = download(rv);
    for (size_t c = 0; c < k.c; c++) {
        double m = k.running_mean[c], v = k.running_var[c];
        if (training) {
            double bm, bv, count = (double)(k.n * k.s);
            bn_host_stats(&k, c, &bm, &bv);
            m = 0.9 * m + 0.1 * bm;
            v = 0.9 * v + 0.1 * bv * count / (count - 1.0);
        }
        CHECK(fabs(got_rm[c] - m) <= 1e-6, "running_mean of channel %zu (training %d): got %g, "
              "expected %g", c, training, got_rm[c], m);
        CHECK(fabs(got_rv[c] - v) <= 1e-6 * fabs(v) + 1e-7, "running_var of channel %zu "
              "(training %d): got %g, expected %g", c, training, got_rv[c], v);
    }

    /* Backward against central differences (h = 1e-4 in double: truncation
     * error ~1e-8). Float32 gradients of sums over <= 512 terms: 1e-4
     * relative to the largest gradient component. */
    d3m_tensor *rt = upload(ndim, shape, r), *dx = zeros(ndim, shape);
    d3m_tensor *dw = zeros(1, vec), *db = zeros(1, vec);
    OK(d3m_batchnorm_backward(rt, x, w, mean, invstd, training, dx, dw, db));
    double *got_dx = download(dx), *got_dw = download(dw), *got_db = download(db);
    double *num_dx = numeric_gradient(k.x, total, bn_host_forward, &k, r, total, 1e-4);
    double *num_dw = numeric_gradient(k.w, k.c, bn_host_forward, &k, r, total, 1e-4);
    double *num_db = numeric_gradient(k.b, k.c, bn_host_forward, &k, r, total, 1e-4);
    CHECK(error_ratio(got_dx, num_dx, total, 1e-5, 1e-4) <= 1.0,
          "batchnorm grad_input (training %d, N %zu, C %zu, S %zu)", training, k.n, k.c, k.s);
    CHECK(error_ratio(got_dw, num_dw, k.c, 1e-5, 1e-4) <= 1.0, "batchnorm grad_weight");
    CHECK(error_ratio(got_db, num_db, k.c, 1e-5, 1e-4) <= 1.0, "batchnorm grad_bias");

    /* Parameter gradients accumulate: a second backward doubles them. */
    OK(d3m_batchnorm_backward(rt, x, w, mean, invstd, training, NULL, dw, db));
    double *twice = download(dw);
    for (size_t c = 0; c < k.c; c++)
        CHECK(fabs(twice[c] - 2.0 * got_dw[c]) <= 1e-5 * (1.0 + fabs(got_dw[c])),
              "batchnorm grad_weight does not accumulate: %g after two passes, %g after one",
              twice[c], got_dw[c]);

    printf("batchnorm training %d shape N %zu C %zu S %zu: checked\n", training, k.n, k.c, k.s);
    free(k.x); free(k.w); free(k.b); free(k.running_mean); free(k.running_var); free(r);
    free(expected); free(got); free(got_rm); free(got_rv); free(got_dx); free(got_dw);
    free(got_db); free(num_dx); free(num_dw); free(num_db); free(twice);
    d3m_tensor *all[] = {x, w, b, rm, rv, y, mean, invstd, rt, dx, dw, db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        d3m_tensor_free(all[i]);
}

/* Statistics of 50 samples of 32^3 voxels with a mean of 1000 and a
 * standard deviation of 1: a naive float sum would lose the variance. */
static void test_batchnorm_large_batch(void)
{
    size_t shape[5] = {50, 2, 32, 32, 32}, vec[1] = {2};
    size_t total = product(5, shape);
    double *x = malloc(total * sizeof *x);
    for (size_t i = 0; i < total; i++)
        x[i] = (double)(float)(1000.0 + uniform(-sqrt(3.0), sqrt(3.0)));
    double ones[2] = {1.0, 1.0}, zero[2] = {0.0, 0.0};
    d3m_tensor *xt = upload(5, shape, x), *w = upload(1, vec, ones), *b = upload(1, vec, zero);
    d3m_tensor *rm = upload(1, vec, zero), *rv = upload(1, vec, ones);
    d3m_tensor *mean = zeros(1, vec), *invstd = zeros(1, vec), *y = NULL;
    OK(d3m_tensor_new(5, shape, &y));
    OK(d3m_batchnorm_forward(xt, w, b, rm, rv, 1, 0.1, 1e-5, y, mean, invstd));

    bn_case k = {shape[0], shape[1], 32 * 32 * 32, x, NULL, NULL, NULL, NULL, 1};
    double *got_mean = download(mean), *got_invstd = download(invstd);
    for (size_t c = 0; c < 2; c++) {
        double m, v;
        bn_host_stats(&k, c, &m, &v);
        double invstd_expected = 1.0 / sqrt(v + 1e-5);
        /* Mean: float32 resolution at 1000 is 6e-5, so 1e-4 absolute. The
         * variance comes from centered values; 1e-4 relative on invstd. */
        CHECK(fabs(got_mean[c] - m) <= 1e-4, "large-batch mean of channel %zu: got %.8g, "
              "expected %.8g", c, got_mean[c], m);
        CHECK(fabs(got_invstd[c] / invstd_expected - 1.0) <= 1e-4, "large-batch invstd of "
              "channel %zu: got %.8g, expected %.8g", c, got_invstd[c], invstd_expected);
    }
    printf("batchnorm statistics over 50 x 32^3 voxels: checked\n");
    free(x); free(got_mean); free(got_invstd);
    d3m_tensor *all[] = {xt, w, b, rm, rv, mean, invstd, y};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        d3m_tensor_free(all[i]);
}


/* Backward sums over 4 x 32^3 voxels per channel, which the device splits
 * into several work-groups per channel, against double host sums. */
static void test_batchnorm_backward_large(void)
{
    size_t shape[5] = {4, 2, 32, 32, 32}, vec[1] = {2};
    size_t total = product(5, shape), per = 32 * 32 * 32;
    bn_case k = {4, 2, per, random_array(total, -1, 3), NULL, NULL, NULL, NULL, 1};
    double w[2] = {1.5, -0.5}, b[2] = {0.1, 0.2}, zero[2] = {0, 0}, one[2] = {1, 1};
    double *r = random_array(total, -1, 1);
    d3m_tensor *x = upload(5, shape, k.x), *wt = upload(1, vec, w), *bt = upload(1, vec, b);
    d3m_tensor *rm = upload(1, vec, zero), *rv = upload(1, vec, one), *rt = upload(5, shape, r);
    d3m_tensor *y = zeros(5, shape), *dx = zeros(5, shape), *mean = zeros(1, vec);
    d3m_tensor *invstd = zeros(1, vec), *dw = zeros(1, vec), *db = zeros(1, vec);
    OK(d3m_batchnorm_forward(x, wt, bt, rm, rv, 1, 0.1, 1e-5, y, mean, invstd));
    OK(d3m_batchnorm_backward(rt, x, wt, mean, invstd, 1, dx, dw, db));

    double *got_dw = download(dw), *got_db = download(db), *got_dx = download(dx);
    double worst_dx = 0.0;
    for (size_t c = 0; c < 2; c++) {
        double m, v, sum_dy = 0.0, sum_dy_xhat = 0.0, count = 4.0 * (double)per;
        bn_host_stats(&k, c, &m, &v);
        double is = 1.0 / sqrt(v + 1e-5);
        for (size_t n = 0; n < 4; n++)
            for (size_t s = 0; s < per; s++) {
                size_t i = (n * 2 + c) * per + s;
                sum_dy += r[i];
                sum_dy_xhat += r[i] * (k.x[i] - m) * is;
            }
        for (size_t n = 0; n < 4; n++)
            for (size_t s = 0; s < per; s++) {
                size_t i = (n * 2 + c) * per + s;
                double xhat = (k.x[i] - m) * is;
                double expected = w[c] * is * (r[i] - sum_dy / count - xhat * sum_dy_xhat / count);
                worst_dx = fmax(worst_dx, fabs(got_dx[i] - expected));
            }
        /* Sums of 1.3e5 terms of O(1) with random signs are O(400); Kahan
         * partials keep the error near float resolution, 1e-3 absolute. */
        CHECK(fabs(got_db[c] - sum_dy) <= 1e-3, "large-batch grad_bias of channel %zu: got %.8g, "
              "expected %.8g", c, got_db[c], sum_dy);
        CHECK(fabs(got_dw[c] - sum_dy_xhat) <= 1e-3, "large-batch grad_weight of channel %zu: got "
              "%.8g, expected %.8g", c, got_dw[c], sum_dy_xhat);
    }
    /* grad_input of O(1): a few float ulp. */
    CHECK(worst_dx <= 1e-5, "large-batch grad_input differs by %g", worst_dx);
    printf("batchnorm backward over 4 x 32^3 voxels: checked\n");
    free(k.x); free(r); free(got_dw); free(got_db); free(got_dx);
    d3m_tensor *all[] = {x, wt, bt, rm, rv, rt, y, dx, mean, invstd, dw, db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        d3m_tensor_free(all[i]);
}

/* Weight and bias gradients of the pointwise layer over 2 x 32^3 voxels
 * (several work-groups per sum) against double host sums. */
static void test_pointwise_large(void)
{
    size_t xs[5] = {2, 3, 32, 32, 32}, ys[5] = {2, 2, 32, 32, 32}, ws[5] = {3, 2, 1, 1, 1};
    size_t bs[1] = {2}, per = 32 * 32 * 32;
    double *x = random_array(product(5, xs), -1, 1), *r = random_array(product(5, ys), -1, 1);
    d3m_tensor *xt = upload(5, xs, x), *rt = upload(5, ys, r), *dw = zeros(5, ws);
    d3m_tensor *db = zeros(1, bs);
    OK(d3m_pointwise_backward_weight(rt, xt, dw, db));
    double *got_dw = download(dw), *got_db = download(db);
    for (size_t i = 0; i < 3; i++)
        for (size_t o = 0; o < 2; o++) {
            double sum = 0.0, bias_sum = 0.0;
            for (size_t n = 0; n < 2; n++)
                for (size_t s = 0; s < per; s++) {
                    sum += x[(n * 3 + i) * per + s] * r[(n * 2 + o) * per + s];
                    bias_sum += r[(n * 2 + o) * per + s];
                }
            /* Sums of 6.6e4 random-sign terms: 1e-3 absolute. */
            CHECK(fabs(got_dw[i * 2 + o] - sum) <= 1e-3, "large pointwise grad_weight[%zu, %zu]: "
                  "got %.8g, expected %.8g", i, o, got_dw[i * 2 + o], sum);
            if (i == 0)
                CHECK(fabs(got_db[o] - bias_sum) <= 1e-3, "large pointwise grad_bias[%zu]: got "
                      "%.8g, expected %.8g", o, got_db[o], bias_sum);
        }
    printf("pointwise gradients over 2 x 32^3 voxels: checked\n");
    free(x); free(r); free(got_dw); free(got_db);
    d3m_tensor_free(xt); d3m_tensor_free(rt); d3m_tensor_free(dw); d3m_tensor_free(db);
}


/* ---- ReLU -------------------------------------------------------------------- */

typedef struct vector_case {
    size_t n;
    double *x;
} vector_case;

static void relu_host(const void *context, double *y)
{
    const vector_case *k = context;
    for (size_t i = 0; i < k->n; i++)
        y[i] = k->x[i] > 0.0 ? k->x[i] : 0.0;
}

static void test_relu(void)
{
    size_t shape[5] = {2, 3, 4, 4, 8}, total = product(5, shape);
    vector_case k = {total, random_array(total, -1.0, 1.0)};
    /* Keep values 0.01 away from the kink so that differences with h = 1e-3
     * stay on one side of it. */
    for (size_t i = 0; i < total; i++)
        if (fabs(k.x[i]) < 0.01)
            k.x[i] = 0.5;
    double *r = random_array(total, -1.0, 1.0), *expected = malloc(total * sizeof *expected);
    d3m_tensor *x = upload(5, shape, k.x), *y = zeros(5, shape), *rt = upload(5, shape, r);
    d3m_tensor *dx = zeros(5, shape);

    OK(d3m_relu_forward(x, y));
    relu_host(&k, expected);
    double *got = download(y);
    CHECK(error_ratio(got, expected, total, 0.0, 1e-7) <= 1.0, "relu forward is not exact");

    OK(d3m_relu_backward(rt, x, dx));
    double *got_dx = download(dx);
    double *num = numeric_gradient(k.x, total, relu_host, &k, r, total, 1e-3);
    CHECK(error_ratio(got_dx, num, total, 1e-9, 1e-9) <= 1.0, "relu backward differs from "
          "central differences");
    printf("relu: checked\n");
    free(k.x); free(r); free(expected); free(got); free(got_dx); free(num);
    d3m_tensor_free(x); d3m_tensor_free(y); d3m_tensor_free(rt); d3m_tensor_free(dx);
}


/* ---- concatenation ------------------------------------------------------------ */

static void test_concat_split(void)
{
    size_t sa[5] = {2, 3, 4, 4, 8}, sb[5] = {2, 5, 4, 4, 8}, sc[5] = {2, 8, 4, 4, 8};
    size_t na = product(5, sa), nb = product(5, sb), s = 4 * 4 * 8;
    double *a = random_array(na, -1, 1), *b = random_array(nb, -1, 1);
    d3m_tensor *ta = upload(5, sa, a), *tb = upload(5, sb, b), *tc = zeros(5, sc);
    const d3m_tensor *inputs[2] = {ta, tb};
    OK(d3m_concat_channels(2, inputs, tc));

    double *c = download(tc);
    int exact = 1;
    for (size_t n = 0; n < 2; n++)
        for (size_t ch = 0; ch < 8; ch++)
            for (size_t v = 0; v < s; v++) {
                double want = ch < 3 ? a[(n * 3 + ch) * s + v] : b[(n * 5 + ch - 3) * s + v];
                exact &= c[(n * 8 + ch) * s + v] == want;
            }
    CHECK(exact, "concat of [2,3,...] and [2,5,...] is not torch.cat(dim=1)");

    d3m_tensor *ga = zeros(5, sa), *gb = zeros(5, sb);
    d3m_tensor *outputs[2] = {ga, gb};
    OK(d3m_split_channels(tc, 2, outputs));
    double *back_a = download(ga), *back_b = download(gb);
    CHECK(memcmp(back_a, a, na * sizeof *a) == 0, "split does not return the first input");
    CHECK(memcmp(back_b, b, nb * sizeof *b) == 0, "split does not return the second input");

    size_t wrong[5] = {2, 7, 4, 4, 8};
    d3m_tensor *tw = zeros(5, wrong);
    CHECK(d3m_concat_channels(2, inputs, tw) == D3M_ERR_SHAPE, "concat into 7 channels of 3 + 5 "
          "was not rejected");
    CHECK(strstr(d3m_last_error(), "8 channels") != NULL, "message does not name the channel "
          "count: %s", d3m_last_error());
    printf("concat and split: checked\n");
    free(a); free(b); free(c); free(back_a); free(back_b);
    d3m_tensor *all[] = {ta, tb, tc, ga, gb, tw};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        d3m_tensor_free(all[i]);
}


/* ---- MSE ---------------------------------------------------------------------- */

typedef struct mse_case {
    size_t n;
    double *pred, *target;
} mse_case;

static void mse_host(const void *context, double *out)
{
    const mse_case *k = context;
    double sum = 0.0;
    for (size_t i = 0; i < k->n; i++)
        sum += (k->pred[i] - k->target[i]) * (k->pred[i] - k->target[i]);
    out[0] = sum / (double)k->n;
}

static void test_mse(void)
{
    size_t shape[5] = {2, 3, 8, 8, 4}, total = product(5, shape);
    mse_case k = {total, random_array(total, -2, 2), random_array(total, -2, 2)};
    d3m_tensor *p = upload(5, shape, k.pred), *t = upload(5, shape, k.target);
    d3m_tensor *g = zeros(5, shape);

    double loss = 0.0, expected = 0.0;
    OK(d3m_mse_loss(p, t, &loss));
    mse_host(&k, &expected);
    /* Compensated float sums: 1e-6 relative. */
    CHECK(fabs(loss - expected) <= 1e-6 * expected, "mse loss %.9g, host %.9g", loss, expected);

    double one = 1.0;
    OK(d3m_mse_backward(p, t, 1.0, g));
    double *got = download(g), *num = numeric_gradient(k.pred, total, mse_host, &k, &one, 1, 1e-4);
    CHECK(error_ratio(got, num, total, 1e-9, 1e-5) <= 1.0, "mse backward differs from central "
          "differences");
    printf("mse: checked\n");
    free(k.pred); free(k.target); free(got); free(num);
    d3m_tensor_free(p); d3m_tensor_free(t); d3m_tensor_free(g);
}


/* ---- pointwise transposed convolution ----------------------------------------- */

typedef struct pointwise_case {
    size_t n, ci, co, s;
    double *x, *w, *b;
} pointwise_case;

static void pointwise_host(const void *context, double *y)
{
    const pointwise_case *k = context;
    for (size_t n = 0; n < k->n; n++)
        for (size_t o = 0; o < k->co; o++)
            for (size_t s = 0; s < k->s; s++) {
                double acc = k->b[o];
                for (size_t i = 0; i < k->ci; i++)
                    acc += k->w[i * k->co + o] * k->x[(n * k->ci + i) * k->s + s];
                y[(n * k->co + o) * k->s + s] = acc;
            }
}

static void test_pointwise(void)
{
    size_t xs[5] = {2, 5, 4, 8, 4}, ys[5] = {2, 3, 4, 8, 4}, ws[5] = {5, 3, 1, 1, 1}, bs[1] = {3};
    pointwise_case k = {2, 5, 3, 4 * 8 * 4, NULL, NULL, NULL};
    size_t nx = product(5, xs), ny = product(5, ys);
    k.x = random_array(nx, -1, 1);
    k.w = random_array(15, -1, 1);
    k.b = random_array(3, -1, 1);
    double *r = random_array(ny, -1, 1), *expected = malloc(ny * sizeof *expected);
    d3m_tensor *x = upload(5, xs, k.x), *w = upload(5, ws, k.w), *b = upload(1, bs, k.b);
    d3m_tensor *y = zeros(5, ys), *rt = upload(5, ys, r), *dx = zeros(5, xs);
    d3m_tensor *dw = zeros(5, ws), *db = zeros(1, bs);

    OK(d3m_pointwise_forward(x, w, b, y));
    pointwise_host(&k, expected);
    double *got = download(y);
    CHECK(error_ratio(got, expected, ny, 1e-6, 1e-6) <= 1.0, "pointwise forward");

    OK(d3m_pointwise_backward_input(rt, w, dx));
    OK(d3m_pointwise_backward_weight(rt, x, dw, db));
    double *got_dx = download(dx), *got_dw = download(dw), *got_db = download(db);
    double *num_dx = numeric_gradient(k.x, nx, pointwise_host, &k, r, ny, 1e-4);
    double *num_dw = numeric_gradient(k.w, 15, pointwise_host, &k, r, ny, 1e-4);
    double *num_db = numeric_gradient(k.b, 3, pointwise_host, &k, r, ny, 1e-4);
    /* Sums of at most 256 float products: 1e-5 relative. */
    CHECK(error_ratio(got_dx, num_dx, nx, 1e-6, 1e-5) <= 1.0, "pointwise grad_input");
    CHECK(error_ratio(got_dw, num_dw, 15, 1e-6, 1e-5) <= 1.0, "pointwise grad_weight");
    CHECK(error_ratio(got_db, num_db, 3, 1e-6, 1e-5) <= 1.0, "pointwise grad_bias");
    printf("pointwise: checked\n");
    free(k.x); free(k.w); free(k.b); free(r); free(expected); free(got); free(got_dx);
    free(got_dw); free(got_db); free(num_dx); free(num_dw); free(num_db);
    d3m_tensor *all[] = {x, w, b, y, rt, dx, dw, db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        d3m_tensor_free(all[i]);
}


/* ---- Adam --------------------------------------------------------------------- */

/* Three steps on two tensors against the update written out in double. */
static void test_adam(int decoupled)
{
    size_t s1[1] = {37}, s2[2] = {3, 5};
    size_t sizes[2] = {37, 15};
    d3m_adam_options o = {1e-2, 0.9, 0.999, 1e-8, 0.1, decoupled};
    double *p[2], *g[2], m[2][37] = {{0}}, v[2][37] = {{0}};
    d3m_tensor *tp[2], *tg[2], *tm[2], *tv[2];
    for (int k = 0; k < 2; k++) {
        p[k] = random_array(sizes[k], -1, 1);
        g[k] = random_array(sizes[k], -1, 1);
        tp[k] = upload(k ? 2 : 1, k ? s2 : s1, p[k]);
        tg[k] = upload(k ? 2 : 1, k ? s2 : s1, g[k]);
        tm[k] = zeros(k ? 2 : 1, k ? s2 : s1);
        tv[k] = zeros(k ? 2 : 1, k ? s2 : s1);
    }
    for (long step = 1; step <= 3; step++) {
        OK(d3m_adam_step(2, tp, (const d3m_tensor *const *)tg, tm, tv, step, &o));
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < sizes[k]; i++) {
                double grad = g[k][i], param = p[k][i];
                if (decoupled)
                    param *= 1.0 - o.lr * o.weight_decay;
                else
                    grad += o.weight_decay * param;
                m[k][i] = o.beta1 * m[k][i] + (1 - o.beta1) * grad;
                v[k][i] = o.beta2 * v[k][i] + (1 - o.beta2) * grad * grad;
                double mhat = m[k][i] / (1 - pow(o.beta1, (double)step));
                double vhat = v[k][i] / (1 - pow(o.beta2, (double)step));
                p[k][i] = param - o.lr * mhat / (sqrt(vhat) + o.eps);
            }
    }
    for (int k = 0; k < 2; k++) {
        double *got = download(tp[k]);
        /* Steps of about lr = 1e-2 on O(1) parameters in float: 1e-6. */
        CHECK(error_ratio(got, p[k], sizes[k], 1e-6, 0.0) <= 1.0, "adam (decoupled %d) tensor %d "
              "after 3 steps differs from the double update", decoupled, k);
        free(got);
        free(p[k]);
        free(g[k]);
        d3m_tensor_free(tp[k]); d3m_tensor_free(tg[k]); d3m_tensor_free(tm[k]);
        d3m_tensor_free(tv[k]);
    }
    CHECK(d3m_adam_step(0, NULL, NULL, NULL, NULL, 0, &o) == D3M_ERR_ARG, "adam step 0 accepted");
    printf("adam decoupled %d: checked\n", decoupled);
}


int main(void)
{
    OK(d3m_use_device(NULL));
    size_t cubic[5] = {2, 3, 4, 4, 4}, single[5] = {1, 5, 4, 8, 4}, flat[2] = {6, 4};
    test_batchnorm(5, cubic, 1);
    test_batchnorm(5, single, 1);
    test_batchnorm(5, cubic, 0);
    test_batchnorm(2, flat, 1);
    test_batchnorm_large_batch();
    test_batchnorm_backward_large();
    test_relu();
    test_concat_split();
    test_mse();
    test_pointwise();
    test_pointwise_large();
    test_adam(0);
    test_adam(1);
    printf("%d failure(s); %ld tensors still alive\n", failures, d3m_live_tensors());
    CHECK(d3m_live_tensors() == 0, "tensors leaked");
    return failures != 0;
}
