/* power.c - binned power spectra of meshes and xi(r) from the mesh power.
 * The r2c transform runs on the device. The mode sums read the half-space
 * spectrum back and accumulate in double, because a float sum over 10^6
 * modes would lose the low-amplitude bins. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "stats/stats.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif


/* Mesh geometry and the half-space spectra of one or two fields. */
typedef struct spectra {
    size_t n, components, half;   /* half = n/2 + 1 complex columns */
    float *a, *b;                 /* [components, n, n, half, 2]; b NULL for auto power */
} spectra;


static void spectra_free(spectra *s)
{
    free(s->a);
    free(s->b);
}


int d3m_stats_default_k_edges(double box, int n, double *edges)
{
    double k_f = 2.0 * M_PI / box;
    for (int i = 1; i <= n / 2; i++)
        edges[i - 1] = i * k_f;
    return n / 2 - 1;
}


static int check_mesh(const d3m_tensor *t, const char *what, size_t *n, size_t *components)
{
    if (t->ndim != 3 && t->ndim != 4) {
        char text[96];
        d3m_format_shape(text, sizeof text, t->ndim, t->shape);
        return d3m_fail(D3M_ERR_SHAPE, "%s has shape %s; expected a cubic mesh [n, n, n] or "
                        "[C, n, n, n]", what, text);
    }
    int first = t->ndim - 3;
    size_t m = t->shape[first];
    if (t->shape[first + 1] != m || t->shape[first + 2] != m || m < 2) {
        char text[96];
        d3m_format_shape(text, sizeof text, t->ndim, t->shape);
        return d3m_fail(D3M_ERR_SHAPE, "%s has shape %s; the last three extents must be equal "
                        "and at least 2 (a cubic mesh)", what, text);
    }
    *n = m;
    *components = t->ndim == 4 ? t->shape[0] : 1;
    return D3M_OK;
}


static int check_edges(const double *edges, int nbins, const char *what)
{
    if (nbins < 1)
        return d3m_fail(D3M_ERR_ARG, "%s: %d bins given; at least one bin is needed", what, nbins);
    for (int b = 0; b < nbins; b++)
        if (!(edges[b] >= 0.0) || !(edges[b + 1] > edges[b]))
            return d3m_fail(D3M_ERR_ARG, "%s: bin edges must be non-negative and strictly "
                            "ascending, got edges[%d] = %g, edges[%d] = %g", what, b, edges[b],
                            b + 1, edges[b + 1]);
    return D3M_OK;
}


/* Forward transform of every component of t, read back to a new host array. */
static int transform(const d3m_tensor *t, size_t n, size_t components, float **out)
{
    size_t shape[5] = {components, n, n, n / 2 + 1, 2};
    int batched = t->ndim == 4;
    d3m_tensor *cplx = NULL;
    D3M_TRY(d3m_tensor_new(4 + batched, batched ? shape : shape + 1, &cplx));
    int status = d3m_fft_r2c(t, cplx);
    if (status == D3M_OK) {
        *out = malloc(cplx->numel * sizeof **out);
        if (*out == NULL)
            status = d3m_fail(D3M_ERR_MEMORY, "out of host memory for a %zu^3 spectrum", n);
        else
            status = d3m_tensor_read(cplx, *out);
    }
    d3m_tensor_free(cplx);
    return status;
}


static int spectra_compute(const d3m_tensor *a, const d3m_tensor *b, spectra *s)
{
    memset(s, 0, sizeof *s);
    D3M_TRY(check_mesh(a, "first mesh of the power spectrum", &s->n, &s->components));
    if (b != NULL) {
        size_t nb, cb;
        D3M_TRY(check_mesh(b, "second mesh of the cross power", &nb, &cb));
        if (nb != s->n || cb != s->components || b->ndim != a->ndim)
            return d3m_fail(D3M_ERR_SHAPE, "cross power of meshes with different shapes "
                            "(%zu components of %zu^3 and %zu of %zu^3); give meshes of the "
                            "same shape", s->components, s->n, cb, nb);
    }
    s->half = s->n / 2 + 1;
    int status = transform(a, s->n, s->components, &s->a);
    if (status == D3M_OK && b != NULL)
        status = transform(b, s->n, s->components, &s->b);
    if (status != D3M_OK)
        spectra_free(s);
    return status;
}


/* Signed frequency index of FFT position i on an n mesh. */
static long frequency(size_t i, size_t n)
{
    return i <= n / 2 ? (long)i : (long)i - (long)n;
}


/* Factor that divides P(k) for the window compensation; s_i = sin(pi f_i / n). */
static double window_power(d3m_window window, const long *f, size_t n)
{
    double w = 1.0;
    for (int d = 0; d < 3; d++) {
        double x = M_PI * (double)f[d] / (double)n;
        double s = sin(x);
        if (window == D3M_WINDOW_CIC) {
            w *= 1.0 - 2.0 / 3.0 * s * s;
        } else if (window == D3M_WINDOW_CIC_SINC2 && f[d] != 0) {
            double sinc = s / x;
            w *= sinc * sinc * sinc * sinc;
        }
    }
    return w;
}


/* Bin of value v, or -1 when outside [edges[0], edges[nbins]). */
static int find_bin(const double *edges, int nbins, double v)
{
    if (v < edges[0] || v >= edges[nbins])
        return -1;
    int lo = 0, hi = nbins;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (v >= edges[mid])
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}


/* |delta_a delta_b^*| real part over all components at one half-space index. */
static double mode_product(const spectra *s, size_t index)
{
    size_t stride = s->n * s->n * s->half * 2;
    const float *b = s->b != NULL ? s->b : s->a;
    double sum = 0.0;
    for (size_t c = 0; c < s->components; c++) {
        const float *za = s->a + c * stride + 2 * index;
        const float *zb = b + c * stride + 2 * index;
        sum += (double)za[0] * zb[0] + (double)za[1] * zb[1];
    }
    return sum;
}


static void binned_clear(d3m_binned *out)
{
    size_t bytes = (size_t)out->nbins * sizeof(double);
    memset(out->x, 0, bytes);
    memset(out->value, 0, bytes);
    memset(out->count, 0, bytes);
}


static void binned_finish(d3m_binned *out)
{
    for (int i = 0; i < out->nbins; i++)
        if (out->count[i] > 0) {
            out->x[i] /= out->count[i];
            out->value[i] /= out->count[i];
        }
}


int d3m_stats_power(const d3m_tensor *a, const d3m_tensor *b, double box, d3m_window window,
                    const double *edges, d3m_binned *out)
{
    if (!(box > 0.0))
        return d3m_fail(D3M_ERR_ARG, "power spectrum: box = %g; give the box side in Mpc/h", box);
    D3M_TRY(check_edges(edges, out->nbins, "power spectrum"));
    spectra s;
    D3M_TRY(spectra_compute(a, b, &s));

    size_t n = s.n;
    double cells = (double)n * (double)n * (double)n;
    double scale = box * box * box / (cells * cells);   /* V |F / N_cells|^2 */
    double k_f = 2.0 * M_PI / box;
    binned_clear(out);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t l = 0; l < s.half; l++) {
                long f[3] = {frequency(i, n), frequency(j, n), (long)l};
                double k = k_f * sqrt((double)(f[0] * f[0] + f[1] * f[1] + f[2] * f[2]));
                int bin = k > 0.0 ? find_bin(edges, out->nbins, k) : -1;
                if (bin < 0)
                    continue;
                /* Modes with 0 < l < n/2 stand for their conjugates too. */
                double weight = (l == 0 || (n % 2 == 0 && l == n / 2)) ? 1.0 : 2.0;
                double p = scale * mode_product(&s, (i * n + j) * s.half + l);
                p /= window_power(window, f, n);
                out->x[bin] += weight * k;
                out->value[bin] += weight * p;
                out->count[bin] += weight;
            }
    binned_finish(out);
    spectra_free(&s);
    return D3M_OK;
}


/* Bin the real mesh xi over minimum-image separations. */
static void bin_separations(const float *xi, size_t n, double box, const double *edges,
                            d3m_binned *out)
{
    double h = box / (double)n;
    binned_clear(out);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t l = 0; l < n; l++) {
                double dx = h * (double)frequency(i, n), dy = h * (double)frequency(j, n);
                double dz = h * (double)frequency(l, n);
                double r = sqrt(dx * dx + dy * dy + dz * dz);
                int bin = find_bin(edges, out->nbins, r);
                if (bin < 0)
                    continue;
                out->x[bin] += r;
                out->value[bin] += xi[(i * n + j) * n + l];
                out->count[bin] += 1.0;
            }
    binned_finish(out);
}


int d3m_stats_xi_mesh(const d3m_tensor *a, double box, d3m_window window, double shot_noise,
                      const double *edges, d3m_binned *out)
{
    if (!(box > 0.0))
        return d3m_fail(D3M_ERR_ARG, "xi from the power: box = %g; give the box side in Mpc/h",
                        box);
    D3M_TRY(check_edges(edges, out->nbins, "xi from the power"));
    if (a->ndim != 3)
        return d3m_fail(D3M_ERR_SHAPE, "xi from the power takes one mesh [n, n, n], got %d "
                        "dimensions", a->ndim);
    spectra s;
    D3M_TRY(spectra_compute(a, NULL, &s));

    /* xi(x) = sum_k |delta_k|^2 e^{ik.x} = N_cells c2r(|delta_k|^2), |delta_k|^2 = P / V. */
    size_t n = s.n;
    double cells = (double)n * (double)n * (double)n;
    double volume = box * box * box;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t l = 0; l < s.half; l++) {
                size_t index = (i * n + j) * s.half + l;
                long f[3] = {frequency(i, n), frequency(j, n), (long)l};
                double p = 0.0;
                if (index != 0) {
                    p = mode_product(&s, index) / (cells * cells) / window_power(window, f, n);
                    p = (p - shot_noise / volume) * cells;
                }
                s.a[2 * index] = (float)p;
                s.a[2 * index + 1] = 0.0f;
            }

    size_t cshape[4] = {n, n, s.half, 2}, rshape[3] = {n, n, n};
    d3m_tensor *cplx = NULL, *real = NULL;
    float *xi = malloc(n * n * n * sizeof *xi);
    int status = xi == NULL ? d3m_fail(D3M_ERR_MEMORY, "out of host memory for a %zu^3 mesh", n)
                            : d3m_tensor_new(4, cshape, &cplx);
    if (status == D3M_OK)
        status = d3m_tensor_new(3, rshape, &real);
    if (status == D3M_OK)
        status = d3m_tensor_write(cplx, s.a);
    if (status == D3M_OK)
        status = d3m_fft_c2r(cplx, real);
    if (status == D3M_OK)
        status = d3m_tensor_read(real, xi);
    if (status == D3M_OK)
        bin_separations(xi, n, box, edges, out);
    d3m_tensor_free(cplx);
    d3m_tensor_free(real);
    free(xi);
    spectra_free(&s);
    return status;
}
