/* test_conv.c - periodic conv3d and conv_transpose3d against double-precision
 * host loops: forward passes on random data, and central-difference
 * gradient checks of every backward pass, on both the fast and the
 * reference path. The seed is printed; D3M_TEST_SEED sets it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "d3m.h"
#include "nn/conv.h"

/* Forward results: float32 sums of up to Ci * 27 = 459 products of values
 * in [-1, 1]. Rounding grows like sqrt(terms) * 6e-8 relative to the
 * largest partial sums (about 2e-6 here); 2e-5 of the largest |output|
 * leaves a 10x margin, while an indexing error moves outputs by O(1). */
#define FORWARD_TOLERANCE 2e-5

/* Gradients: float32 sums of up to N * (output voxels) = 1024 products;
 * same reasoning with sqrt(1024) * 6e-8 = 2e-6, a 10x margin again. The
 * host loss is linear in every parameter, so its central difference in
 * double is exact up to 1e-12. */
#define GRADIENT_TOLERANCE 2e-5

/* Fast against reference path: both are float32, summing up to 4096
 * products in different orders; sqrt(4096) * 6e-8 = 4e-6 of the largest
 * partial sums, so 5e-5 of the largest |value| leaves a 10x margin. */
#define PATH_TOLERANCE 5e-5

/* Entries checked per gradient when there are more (chosen at random). */
#define MAX_CHECKED_ENTRIES 160

static uint64_t rng_state;
static int failures;


static double uniform(void)
{
    /* xorshift64*; values in [-1, 1) */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 2685821657736338717ull;
    return (double)(r >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}


static void fill_random(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (double)(float)uniform();   /* exactly representable in float */
}


static int wrap(int i, int n)
{
    int r = i % n;
    return r < 0 ? r + n : r;
}


/* ---- problem shapes -------------------------------------------------------- */

typedef struct problem {
    const char *name;
    int transposed;    /* conv_transpose3d (k = 3, doubling) instead of conv3d */
    int batch, channels_in, channels_out;
    int depth, height, width;   /* input extents */
    int ksize, stride;
} problem;

static int out_extent(const problem *p, int extent)
{
    return p->transposed ? 2 * extent : extent / p->stride;
}

static size_t input_count(const problem *p)
{
    return (size_t)p->batch * (size_t)p->channels_in * (size_t)(p->depth * p->height * p->width);
}

static size_t output_count(const problem *p)
{
    return (size_t)p->batch * (size_t)p->channels_out *
           (size_t)(out_extent(p, p->depth) * out_extent(p, p->height) * out_extent(p, p->width));
}

static size_t weight_count(const problem *p)
{
    return (size_t)(p->channels_in * p->channels_out * p->ksize * p->ksize * p->ksize);
}


/* ---- host references (double) --------------------------------------------- */

/* conv3d: out[n][co][o] = b[co] + sum w[co][ci][d] in[n][ci][s o + d - k/2]. */
static void host_conv3d(const problem *p, const double *in, const double *w, const double *b,
                        double *out)
{
    int k = p->ksize, pad = k / 2, s = p->stride;
    int od = p->depth / s, oh = p->height / s, ow = p->width / s;
    for (int n = 0; n < p->batch; n++)
    for (int co = 0; co < p->channels_out; co++)
    for (int z = 0; z < od; z++)
    for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
        double sum = b ? b[co] : 0.0;
        for (int ci = 0; ci < p->channels_in; ci++)
        for (int dz = 0; dz < k; dz++)
        for (int dy = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++) {
            int iz = wrap(s * z + dz - pad, p->depth), iy = wrap(s * y + dy - pad, p->height);
            int ix = wrap(s * x + dx - pad, p->width);
            sum += w[(((co * p->channels_in + ci) * k + dz) * k + dy) * k + dx] *
                   in[(((n * p->channels_in + ci) * p->depth + iz) * p->height + iy) * p->width + ix];
        }
        out[(((n * p->channels_out + co) * od + z) * oh + y) * ow + x] = sum;
    }
}


/* conv_transpose3d done literally: pad each axis periodically by 1 on the
 * high side (n + 1 values), ConvTranspose3d with k = 3, stride 2 and no
 * padding (2 (n + 1) + 1 values, tap k of input j landing at 2 j + k, as in
 * PyTorch), then crop 1 at the start and 2 at the end (2 n values). */
static void host_conv_transpose3d(const problem *p, const double *in, const double *w,
                                  const double *b, double *out)
{
    int d = p->depth, h = p->height, wd = p->width;
    int fd = 2 * (d + 1) + 1, fh = 2 * (h + 1) + 1, fw = 2 * (wd + 1) + 1;
    double *full = malloc((size_t)fd * (size_t)fh * (size_t)fw * sizeof *full);
    for (int n = 0; n < p->batch; n++)
    for (int co = 0; co < p->channels_out; co++) {
        memset(full, 0, (size_t)fd * (size_t)fh * (size_t)fw * sizeof *full);
        for (int ci = 0; ci < p->channels_in; ci++)
        for (int jz = 0; jz <= d; jz++)
        for (int jy = 0; jy <= h; jy++)
        for (int jx = 0; jx <= wd; jx++) {
            double x = in[(((n * p->channels_in + ci) * d + jz % d) * h + jy % h) * wd + jx % wd];
            for (int kz = 0; kz < 3; kz++)
            for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                double wv = w[(((ci * p->channels_out + co) * 3 + kz) * 3 + ky) * 3 + kx];
                full[((2 * jz + kz) * fh + 2 * jy + ky) * fw + 2 * jx + kx] += wv * x;
            }
        }
        for (int z = 0; z < 2 * d; z++)
        for (int y = 0; y < 2 * h; y++)
        for (int x = 0; x < 2 * wd; x++)
            out[(((n * p->channels_out + co) * 2 * d + z) * 2 * h + y) * 2 * wd + x] =
                full[((z + 1) * fh + y + 1) * fw + x + 1] + (b ? b[co] : 0.0);
    }
    free(full);
}


static void host_forward(const problem *p, const double *in, const double *w, const double *b,
                         double *out)
{
    if (p->transposed)
        host_conv_transpose3d(p, in, w, b, out);
    else
        host_conv3d(p, in, w, b, out);
}


/* ---- device helpers -------------------------------------------------------- */

static d3m_tensor *device_tensor(int ndim, const size_t *shape, const double *values)
{
    d3m_tensor *t = NULL;
    if (d3m_tensor_new(ndim, shape, &t) != D3M_OK) {
        fprintf(stderr, "allocation failed: %s\n", d3m_last_error());
        exit(2);
    }
    float *host = malloc(t->numel * sizeof *host);
    for (size_t i = 0; i < t->numel; i++)
        host[i] = values ? (float)values[i] : 0.0f;
    if (d3m_tensor_write(t, host) != D3M_OK) {
        fprintf(stderr, "write failed: %s\n", d3m_last_error());
        exit(2);
    }
    free(host);
    return t;
}


static double *read_back(const d3m_tensor *t)
{
    float *host = malloc(t->numel * sizeof *host);
    double *values = malloc(t->numel * sizeof *values);
    if (d3m_tensor_read(t, host) != D3M_OK) {
        fprintf(stderr, "read failed: %s\n", d3m_last_error());
        exit(2);
    }
    for (size_t i = 0; i < t->numel; i++)
        values[i] = host[i];
    free(host);
    return values;
}


static void shapes_of(const problem *p, size_t in_shape[5], size_t w_shape[5], size_t out_shape[5])
{
    size_t in[5] = {(size_t)p->batch, (size_t)p->channels_in, (size_t)p->depth, (size_t)p->height,
                    (size_t)p->width};
    size_t out[5] = {(size_t)p->batch, (size_t)p->channels_out, (size_t)out_extent(p, p->depth),
                     (size_t)out_extent(p, p->height), (size_t)out_extent(p, p->width)};
    size_t k = (size_t)p->ksize;
    size_t w_conv[5] = {(size_t)p->channels_out, (size_t)p->channels_in, k, k, k};
    size_t w_transposed[5] = {(size_t)p->channels_in, (size_t)p->channels_out, 3, 3, 3};
    memcpy(in_shape, in, sizeof in);
    memcpy(out_shape, out, sizeof out);
    memcpy(w_shape, p->transposed ? w_transposed : w_conv, sizeof w_conv);
}


static int check_status(int status, const char *what)
{
    if (status == D3M_OK)
        return 1;
    printf("  %s failed: %s\n", what, d3m_last_error());
    failures++;
    return 0;
}


/* Report max |a - b| relative to max |b|. */
static void compare(const char *test, const char *quantity, const double *device,
                    const double *reference, size_t count, const size_t *indices, double tolerance)
{
    double max_error = 0.0, max_reference = 0.0;
    for (size_t j = 0; j < count; j++) {
        size_t i = indices ? indices[j] : j;
        max_error = fmax(max_error, fabs(device[i] - reference[i]));
        max_reference = fmax(max_reference, fabs(reference[i]));
    }
    double relative = max_error / fmax(max_reference, 1e-30);
    int ok = relative <= tolerance && max_reference > 0.0;
    printf("  %-40s %-12s %s  max error %.2e of max |reference| %.3g\n", test, quantity,
           ok ? "ok  " : "FAIL", max_error, max_reference);
    if (!ok)
        failures++;
}


/* ---- forward ---------------------------------------------------------------- */

static void test_forward(const problem *p)
{
    size_t in_shape[5], w_shape[5], out_shape[5], b_shape[1] = {(size_t)p->channels_out};
    shapes_of(p, in_shape, w_shape, out_shape);
    double *in = malloc(input_count(p) * sizeof *in);
    double *w = malloc(weight_count(p) * sizeof *w);
    double *b = malloc((size_t)p->channels_out * sizeof *b);
    double *expected = malloc(output_count(p) * sizeof *expected);
    fill_random(in, input_count(p));
    fill_random(w, weight_count(p));
    fill_random(b, (size_t)p->channels_out);
    host_forward(p, in, w, b, expected);

    d3m_tensor *t_in = device_tensor(5, in_shape, in), *t_w = device_tensor(5, w_shape, w);
    d3m_tensor *t_b = device_tensor(1, b_shape, b), *t_out = device_tensor(5, out_shape, NULL);
    int status = p->transposed ? d3m_conv_transpose3d_forward(t_in, t_w, t_b, t_out)
                               : d3m_conv3d_forward(t_in, t_w, t_b, p->stride, t_out);
    if (check_status(status, p->name)) {
        double *got = read_back(t_out);
        compare(p->name, "forward", got, expected, output_count(p), NULL, FORWARD_TOLERANCE);
        free(got);
    }
    d3m_tensor_free(t_in);
    d3m_tensor_free(t_w);
    d3m_tensor_free(t_b);
    d3m_tensor_free(t_out);
    free(in);
    free(w);
    free(b);
    free(expected);
}


/* ---- gradient checks --------------------------------------------------------- */

/* Loss sum(out * r) from the host forward in double. */
static double host_loss(const problem *p, const double *in, const double *w, const double *b,
                        const double *r, double *scratch)
{
    host_forward(p, in, w, b, scratch);
    double loss = 0.0;
    for (size_t i = 0; i < output_count(p); i++)
        loss += scratch[i] * r[i];
    return loss;
}


/* Central differences of the loss over the entries of values (all of them,
 * or MAX_CHECKED_ENTRIES chosen at random), written to numeric[]. */
static size_t numeric_gradient(const problem *p, double *values, size_t count, double *in,
                               double *w, double *b, const double *r, double *numeric,
                               size_t *indices)
{
    const double step = 0.5;   /* the loss is linear in every entry */
    double *scratch = malloc(output_count(p) * sizeof *scratch);
    size_t checked = count <= MAX_CHECKED_ENTRIES ? count : MAX_CHECKED_ENTRIES;
    for (size_t j = 0; j < checked; j++) {
        size_t i = checked == count ? j : (size_t)((uniform() + 1.0) * 0.5 * (double)count) % count;
        indices[j] = i;
        double saved = values[i];
        values[i] = saved + step;
        double up = host_loss(p, in, w, b, r, scratch);
        values[i] = saved - step;
        double down = host_loss(p, in, w, b, r, scratch);
        values[i] = saved;
        numeric[i] = (up - down) / (2.0 * step);
    }
    free(scratch);
    return checked;
}


static void test_gradients(const problem *p)
{
    size_t in_shape[5], w_shape[5], out_shape[5], b_shape[1] = {(size_t)p->channels_out};
    shapes_of(p, in_shape, w_shape, out_shape);
    size_t n_in = input_count(p), n_w = weight_count(p), n_b = (size_t)p->channels_out;
    double *in = malloc(n_in * sizeof *in), *w = malloc(n_w * sizeof *w);
    double *b = malloc(n_b * sizeof *b), *r = malloc(output_count(p) * sizeof *r);
    fill_random(in, n_in);
    fill_random(w, n_w);
    fill_random(b, n_b);
    fill_random(r, output_count(p));

    d3m_tensor *t_in = device_tensor(5, in_shape, in), *t_w = device_tensor(5, w_shape, w);
    d3m_tensor *t_r = device_tensor(5, out_shape, r);
    d3m_tensor *t_gin = device_tensor(5, in_shape, NULL);
    /* grad_weight and grad_bias start from 1: the backward pass adds. */
    double *ones = malloc((n_w > n_b ? n_w : n_b) * sizeof *ones);
    for (size_t i = 0; i < (n_w > n_b ? n_w : n_b); i++)
        ones[i] = 1.0;
    d3m_tensor *t_gw = device_tensor(5, w_shape, ones), *t_gb = device_tensor(1, b_shape, ones);

    int status = p->transposed ? d3m_conv_transpose3d_backward_input(t_r, t_w, t_gin)
                               : d3m_conv3d_backward_input(t_r, t_w, p->stride, t_gin);
    if (status == D3M_OK)
        status = p->transposed
                     ? d3m_conv_transpose3d_backward_weight(t_r, t_in, t_gw, t_gb)
                     : d3m_conv3d_backward_weight(t_r, t_in, p->stride, t_gw, t_gb);
    if (check_status(status, p->name)) {
        double *g_in = read_back(t_gin), *g_w = read_back(t_gw), *g_b = read_back(t_gb);
        for (size_t i = 0; i < n_w; i++)
            g_w[i] -= 1.0;
        for (size_t i = 0; i < n_b; i++)
            g_b[i] -= 1.0;
        size_t max_count = n_in > n_w ? n_in : n_w;
        double *numeric = calloc(max_count, sizeof *numeric);
        size_t *indices = malloc(max_count * sizeof *indices);

        size_t checked = numeric_gradient(p, in, n_in, in, w, b, r, numeric, indices);
        compare(p->name, "grad input", g_in, numeric, checked, indices, GRADIENT_TOLERANCE);
        checked = numeric_gradient(p, w, n_w, in, w, b, r, numeric, indices);
        compare(p->name, "grad weight", g_w, numeric, checked, indices, GRADIENT_TOLERANCE);
        checked = numeric_gradient(p, b, n_b, in, w, b, r, numeric, indices);
        compare(p->name, "grad bias", g_b, numeric, checked, indices, GRADIENT_TOLERANCE);
        free(numeric);
        free(indices);
        free(g_in);
        free(g_w);
        free(g_b);
    }
    d3m_tensor_free(t_in);
    d3m_tensor_free(t_w);
    d3m_tensor_free(t_r);
    d3m_tensor_free(t_gin);
    d3m_tensor_free(t_gw);
    d3m_tensor_free(t_gb);
    free(in);
    free(w);
    free(b);
    free(r);
    free(ones);
}


/* ---- fast and reference paths on larger shapes ---------------------------------- */

/* Run forward, backward input and backward weight (with bias) of p on the
 * current path; results are malloc'ed host copies. */
static int run_all_passes(const problem *p, const double *in, const double *w, const double *r,
                          double **out, double **grad_in, double **grad_w, double **grad_b)
{
    size_t in_shape[5], w_shape[5], out_shape[5], b_shape[1] = {(size_t)p->channels_out};
    shapes_of(p, in_shape, w_shape, out_shape);
    d3m_tensor *t_in = device_tensor(5, in_shape, in), *t_w = device_tensor(5, w_shape, w);
    d3m_tensor *t_r = device_tensor(5, out_shape, r), *t_out = device_tensor(5, out_shape, NULL);
    d3m_tensor *t_gin = device_tensor(5, in_shape, NULL), *t_gw = device_tensor(5, w_shape, NULL);
    d3m_tensor *t_gb = device_tensor(1, b_shape, NULL);
    int status;
    if (p->transposed) {
        status = d3m_conv_transpose3d_forward(t_in, t_w, NULL, t_out);
        if (status == D3M_OK)
            status = d3m_conv_transpose3d_backward_input(t_r, t_w, t_gin);
        if (status == D3M_OK)
            status = d3m_conv_transpose3d_backward_weight(t_r, t_in, t_gw, t_gb);
    } else {
        status = d3m_conv3d_forward(t_in, t_w, NULL, p->stride, t_out);
        if (status == D3M_OK)
            status = d3m_conv3d_backward_input(t_r, t_w, p->stride, t_gin);
        if (status == D3M_OK)
            status = d3m_conv3d_backward_weight(t_r, t_in, p->stride, t_gw, t_gb);
    }
    int ok = check_status(status, p->name);
    if (ok) {
        *out = read_back(t_out);
        *grad_in = read_back(t_gin);
        *grad_w = read_back(t_gw);
        *grad_b = read_back(t_gb);
    }
    d3m_tensor_free(t_in);
    d3m_tensor_free(t_w);
    d3m_tensor_free(t_r);
    d3m_tensor_free(t_out);
    d3m_tensor_free(t_gin);
    d3m_tensor_free(t_gw);
    d3m_tensor_free(t_gb);
    return ok;
}


/* The fast path against the reference path (itself checked against the
 * host above) on shapes large enough that the weight gradient sums several
 * output planes per partial and channels span several blocks of 16. */
static void test_paths_agree(const problem *p)
{
    double *in = malloc(input_count(p) * sizeof *in), *w = malloc(weight_count(p) * sizeof *w);
    double *r = malloc(output_count(p) * sizeof *r);
    fill_random(in, input_count(p));
    fill_random(w, weight_count(p));
    fill_random(r, output_count(p));

    double *fast[4] = {NULL}, *reference[4] = {NULL};
    d3m_conv_set_path(D3M_CONV_FAST);
    int ok = run_all_passes(p, in, w, r, &fast[0], &fast[1], &fast[2], &fast[3]);
    d3m_conv_set_path(D3M_CONV_REFERENCE);
    ok = ok && run_all_passes(p, in, w, r, &reference[0], &reference[1], &reference[2],
                              &reference[3]);
    if (ok) {
        const char *names[4] = {"forward", "grad input", "grad weight", "grad bias"};
        size_t counts[4] = {output_count(p), input_count(p), weight_count(p),
                            (size_t)p->channels_out};
        for (int k = 0; k < 4; k++)
            compare(p->name, names[k], fast[k], reference[k], counts[k], NULL, PATH_TOLERANCE);
    }
    for (int k = 0; k < 4; k++) {
        free(fast[k]);
        free(reference[k]);
    }
    free(in);
    free(w);
    free(r);
}


/* ---- cases --------------------------------------------------------------------- */

/* name, transposed, N, Ci, Co, D, H, W, k, stride. The network uses
 * multiples of 4; odd extents check the remainder handling (fewer than 16
 * voxels left, fewer than 8 along x). */
static const problem forward_cases[] = {
    {"conv3d k3 s1 N2 3->5 8x4x12", 0, 2, 3, 5, 8, 4, 12, 3, 1},
    {"conv3d k3 s1 N1 17->20 4x8x8", 0, 1, 17, 20, 4, 8, 8, 3, 1},
    {"conv3d k3 s2 N2 3->5 8x4x12", 0, 2, 3, 5, 8, 4, 12, 3, 2},
    {"conv3d k3 s2 N1 17->33 8x8x16", 0, 1, 17, 33, 8, 8, 16, 3, 2},
    {"conv3d k1 s1 N2 5->3 4x8x12", 0, 2, 5, 3, 4, 8, 12, 1, 1},
    {"conv3d k1 s2 N1 5->3 4x8x12", 0, 1, 5, 3, 4, 8, 12, 1, 2},
    {"conv3d k1 s1 N2 5->3 3x5x7", 0, 2, 5, 3, 3, 5, 7, 1, 1},
    {"conv3d k3 s1 N2 3->5 3x5x7", 0, 2, 3, 5, 3, 5, 7, 3, 1},
    {"conv_transpose3d N2 3->5 4x2x6", 1, 2, 3, 5, 4, 2, 6, 3, 1},
    {"conv_transpose3d N1 17->20 4x4x8", 1, 1, 17, 20, 4, 4, 8, 3, 1},
};

static const problem gradient_cases[] = {
    {"conv3d k3 s1 N2 3->5 4x4x8", 0, 2, 3, 5, 4, 4, 8, 3, 1},
    {"conv3d k3 s2 N2 3->5 4x8x8", 0, 2, 3, 5, 4, 8, 8, 3, 2},
    {"conv3d k1 s1 N2 3->5 4x4x4", 0, 2, 3, 5, 4, 4, 4, 1, 1},
    {"conv3d k1 s2 N1 3->5 4x8x4", 0, 1, 3, 5, 4, 8, 4, 1, 2},
    {"conv3d k1 s1 N2 3->5 3x3x5", 0, 2, 3, 5, 3, 3, 5, 1, 1},
    {"conv3d k3 s1 N1 3->5 3x3x5", 0, 1, 3, 5, 3, 3, 5, 3, 1},
    {"conv_transpose3d N2 3->5 2x4x2", 1, 2, 3, 5, 2, 4, 2, 3, 1},
    {"conv_transpose3d N1 5->18 4x4x4", 1, 1, 5, 18, 4, 4, 4, 3, 1},
};


/* The weight gradient of the fast path splits the N * out_d output planes
 * into about 8192 / (3 * Ci * ceil(Co / 16)) partial sums: 54 here. */
static const problem path_cases[] = {
    {"paths conv3d s1 N2 17->33 32x8x8", 0, 2, 17, 33, 32, 8, 8, 3, 1},
    {"paths conv3d s2 N4 17->33 32x8x8", 0, 4, 17, 33, 32, 8, 8, 3, 2},
    {"paths conv_transpose3d N4 17->33 16x4x4", 1, 4, 17, 33, 16, 4, 4, 3, 1},
};


int main(void)
{
    const char *seed_text = getenv("D3M_TEST_SEED");
    uint64_t seed = seed_text ? strtoull(seed_text, NULL, 10) : 20190725u;
    printf("seed %llu (set D3M_TEST_SEED to change)\n", (unsigned long long)seed);

    if (d3m_use_device(NULL) != D3M_OK) {
        fprintf(stderr, "no device: %s\n", d3m_last_error());
        return 1;
    }
    const char *path_names[2] = {"fast", "reference"};
    for (int path = 0; path < 2; path++) {
        d3m_conv_set_path(path == 0 ? D3M_CONV_FAST : D3M_CONV_REFERENCE);
        printf("%s path\n", path_names[path]);
        rng_state = seed * 2 + 1;
        for (size_t i = 0; i < sizeof forward_cases / sizeof *forward_cases; i++)
            test_forward(&forward_cases[i]);
        for (size_t i = 0; i < sizeof gradient_cases / sizeof *gradient_cases; i++)
            test_gradients(&gradient_cases[i]);
    }
    printf("fast against reference path\n");
    for (size_t i = 0; i < sizeof path_cases / sizeof *path_cases; i++)
        test_paths_agree(&path_cases[i]);
    printf("%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
