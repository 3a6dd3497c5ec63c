/* test_stats_power.c - binned power spectra against analytic cases: plane
 * waves, white noise of known variance, identical and independent fields,
 * the CIC window factors, component sums, and shape errors. */
#include "stats/stats.h"
#include "stats_testing.h"

#define N 16
#define BOX 100.0
#define MAX_BINS 64

typedef struct spectrum {
    double x[MAX_BINS], value[MAX_BINS], count[MAX_BINS];
    d3m_binned binned;
} spectrum;


static void spectrum_init(spectrum *s, int nbins)
{
    s->binned = (d3m_binned){nbins, s->x, s->value, s->count};
}


static float *plane_wave(size_t n, const long *f, double amplitude)
{
    float *mesh = malloc(n * n * n * sizeof *mesh);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t l = 0; l < n; l++) {
                double phase = 2.0 * M_PI * (double)(f[0] * (long)i + f[1] * (long)j +
                                                     f[2] * (long)l) / (double)n;
                mesh[(i * n + j) * n + l] = (float)(amplitude * cos(phase + 0.3));
            }
    return mesh;
}


/* All power of A cos(k.x + phase) lands in the bin of |k|: two modes
 * (k and -k) of P = V A^2 / 4 each. */
static void test_plane_wave(const long *f)
{
    size_t shape[3] = {N, N, N};
    double amplitude = 0.7, k_f = 2.0 * M_PI / BOX;
    float *host = plane_wave(N, f, amplitude);
    d3m_tensor *mesh = tensor_from(3, shape, host);
    double edges[N / 2];
    spectrum s;
    spectrum_init(&s, d3m_stats_default_k_edges(BOX, N, edges));
    REQUIRE_OK(d3m_stats_power(mesh, NULL, BOX, D3M_WINDOW_NONE, edges, &s.binned));

    double k = k_f * sqrt((double)(f[0] * f[0] + f[1] * f[1] + f[2] * f[2]));
    double expected = BOX * BOX * BOX * amplitude * amplitude / 4.0;
    int wave_bin = (int)floor(k / k_f) - 1;
    for (int b = 0; b < s.binned.nbins; b++) {
        double total = s.value[b] * s.count[b];
        if (b == wave_bin) {
            /* float FFT of an O(1) field: relative error ~1e-6; 1e-4 leaves margin. */
            CHECK(fabs(total / 2.0 - expected) < 1e-4 * expected,
                  "wave (%ld,%ld,%ld): bin %d holds %g, expected 2 x %g", f[0], f[1], f[2], b,
                  total, expected);
            CHECK(s.x[b] >= edges[b], "mean k %g below the bin [%g, %g)", s.x[b], edges[b],
                  edges[b + 1]);
            CHECK(s.x[b] < edges[b + 1], "mean k %g above the bin [%g, %g)", s.x[b], edges[b],
                  edges[b + 1]);
        } else {
            /* Leakage is float round-off only: 1e-9 of the wave power. */
            CHECK(fabs(total) < 1e-9 * expected, "wave (%ld,%ld,%ld): bin %d holds %g", f[0],
                  f[1], f[2], b, total);
        }
    }
    d3m_tensor_free(mesh);
    free(host);
}


/* Mode counts per bin equal a direct count of the full grid's vectors, for
 * even n (with a Nyquist plane) and odd n (without). */
static void test_mode_counts(size_t n)
{
    size_t shape[3] = {n, n, n};
    float *host = calloc(n * n * n, sizeof *host);
    d3m_tensor *mesh = tensor_from(3, shape, host);
    double edges[N / 2 + 1];
    spectrum s;
    spectrum_init(&s, d3m_stats_default_k_edges(BOX, (int)n, edges));
    REQUIRE_OK(d3m_stats_power(mesh, NULL, BOX, D3M_WINDOW_NONE, edges, &s.binned));
    double k_f = 2.0 * M_PI / BOX;
    long lo = -(long)((n - 1) / 2), hi = (long)(n / 2);
    for (int b = 0; b < s.binned.nbins; b++) {
        double count = 0.0;
        for (long i = lo; i <= hi; i++)
            for (long j = lo; j <= hi; j++)
                for (long l = lo; l <= hi; l++) {
                    double k = k_f * sqrt((double)(i * i + j * j + l * l));
                    if (k >= edges[b] && k < edges[b + 1])
                        count += 1.0;
                }
        /* Every full-grid vector is one half-space mode or the conjugate
         * of one, so the counts are equal integers. */
        CHECK(s.count[b] == count, "n = %zu, bin %d: %g modes, direct count %g", n, b, s.count[b],
              count);
    }
    d3m_tensor_free(mesh);
    free(host);
}


/* White noise of variance sigma^2 has P = sigma^2 V / N_cells in every bin. */
static void test_white_noise(void)
{
    size_t cells = N * N * N, shape[3] = {N, N, N};
    double sigma = 2.0;
    uint64_t seed = 12345;
    printf("white noise seed %llu\n", (unsigned long long)seed);
    rng r = {seed};
    float *host = malloc(cells * sizeof *host);
    for (size_t i = 0; i < cells; i++)
        host[i] = (float)(sigma * rng_normal(&r));
    d3m_tensor *mesh = tensor_from(3, shape, host);
    double edges[N / 2];
    spectrum s;
    spectrum_init(&s, d3m_stats_default_k_edges(BOX, N, edges));
    REQUIRE_OK(d3m_stats_power(mesh, NULL, BOX, D3M_WINDOW_NONE, edges, &s.binned));
    double expected = sigma * sigma * BOX * BOX * BOX / (double)cells;
    for (int b = 0; b < s.binned.nbins; b++) {
        /* count / 2 independent modes, each |delta_k|^2 exponential: the
         * bin mean has relative error sqrt(2 / count); allow 5 of them. */
        double tolerance = 5.0 * sqrt(2.0 / s.count[b]);
        CHECK(fabs(s.value[b] / expected - 1.0) < tolerance, "bin %d: P = %g, expected %g +- %g",
              b, s.value[b], expected, tolerance * expected);
    }
    d3m_tensor_free(mesh);
    free(host);
}


/* cross(a, a) = auto(a) bin by bin (so T = r = 1); cross(a, b) of
 * independent noise gives r = 0 within sqrt(2 / count). */
static void test_cross_power(void)
{
    size_t cells = N * N * N, shape[3] = {N, N, N};
    rng r = {777};
    float *ha = malloc(cells * sizeof *ha), *hb = malloc(cells * sizeof *hb);
    for (size_t i = 0; i < cells; i++) {
        ha[i] = (float)rng_normal(&r);
        hb[i] = (float)rng_normal(&r);
    }
    d3m_tensor *a = tensor_from(3, shape, ha), *b = tensor_from(3, shape, hb);
    double edges[N / 2];
    int nbins = d3m_stats_default_k_edges(BOX, N, edges);
    spectrum paa, pbb, pab, self;
    spectrum_init(&paa, nbins);
    spectrum_init(&pbb, nbins);
    spectrum_init(&pab, nbins);
    spectrum_init(&self, nbins);
    REQUIRE_OK(d3m_stats_power(a, NULL, BOX, D3M_WINDOW_CIC, edges, &paa.binned));
    REQUIRE_OK(d3m_stats_power(b, NULL, BOX, D3M_WINDOW_CIC, edges, &pbb.binned));
    REQUIRE_OK(d3m_stats_power(a, b, BOX, D3M_WINDOW_CIC, edges, &pab.binned));
    REQUIRE_OK(d3m_stats_power(a, a, BOX, D3M_WINDOW_CIC, edges, &self.binned));
    for (int i = 0; i < nbins; i++) {
        /* Same products in the same order: equal up to double round-off. */
        CHECK(fabs(self.value[i] - paa.value[i]) <= 1e-12 * paa.value[i], "bin %d: %g vs %g", i,
              self.value[i], paa.value[i]);
        double corr = pab.value[i] / sqrt(paa.value[i] * pbb.value[i]);
        double tolerance = 5.0 * sqrt(2.0 / pab.count[i]);
        CHECK(fabs(corr) < tolerance, "bin %d: r = %g for independent fields (limit %g)", i, corr,
              tolerance);
    }
    d3m_tensor_free(a);
    d3m_tensor_free(b);
    free(ha);
    free(hb);
}


/* The window divides one mode's power by the stated factor. */
static void test_window(void)
{
    long f[3] = {3, 1, 2};
    size_t shape[3] = {N, N, N};
    float *host = plane_wave(N, f, 1.0);
    d3m_tensor *mesh = tensor_from(3, shape, host);
    double k_f = 2.0 * M_PI / BOX, k = k_f * sqrt(14.0);
    double edges[2] = {k - 0.01 * k_f, k + 0.01 * k_f};
    spectrum none, cic, sinc;
    spectrum_init(&none, 1);
    spectrum_init(&cic, 1);
    spectrum_init(&sinc, 1);
    REQUIRE_OK(d3m_stats_power(mesh, NULL, BOX, D3M_WINDOW_NONE, edges, &none.binned));
    REQUIRE_OK(d3m_stats_power(mesh, NULL, BOX, D3M_WINDOW_CIC, edges, &cic.binned));
    REQUIRE_OK(d3m_stats_power(mesh, NULL, BOX, D3M_WINDOW_CIC_SINC2, edges, &sinc.binned));
    double aliased = 1.0, sinc4 = 1.0;
    for (int d = 0; d < 3; d++) {
        double x = M_PI * (double)f[d] / N, s = sin(x);
        aliased *= 1.0 - 2.0 / 3.0 * s * s;
        sinc4 *= pow(s / x, 4.0);
    }
    /* Double arithmetic on identical inputs: 1e-12 relative. */
    CHECK(fabs(cic.value[0] * aliased / none.value[0] - 1.0) < 1e-12, "CIC %g, none %g",
          cic.value[0], none.value[0]);
    CHECK(fabs(sinc.value[0] * sinc4 / none.value[0] - 1.0) < 1e-12, "sinc^2 %g, none %g",
          sinc.value[0], none.value[0]);
    d3m_tensor_free(mesh);
    free(host);
}


/* The power of a [3, n, n, n] field is the sum of its components' powers. */
static void test_component_sum(void)
{
    size_t cells = N * N * N, shape3[3] = {N, N, N}, shape4[4] = {3, N, N, N};
    rng r = {99};
    float *host = malloc(3 * cells * sizeof *host);
    for (size_t i = 0; i < 3 * cells; i++)
        host[i] = (float)rng_normal(&r);
    d3m_tensor *all = tensor_from(4, shape4, host);
    double edges[N / 2];
    int nbins = d3m_stats_default_k_edges(BOX, N, edges);
    spectrum total, part;
    spectrum_init(&total, nbins);
    spectrum_init(&part, nbins);
    REQUIRE_OK(d3m_stats_power(all, NULL, BOX, D3M_WINDOW_NONE, edges, &total.binned));
    double sum[N / 2] = {0};
    for (int d = 0; d < 3; d++) {
        d3m_tensor *one = tensor_from(3, shape3, host + (size_t)d * cells);
        REQUIRE_OK(d3m_stats_power(one, NULL, BOX, D3M_WINDOW_NONE, edges, &part.binned));
        for (int b = 0; b < nbins; b++)
            sum[b] += part.value[b];
        d3m_tensor_free(one);
    }
    for (int b = 0; b < nbins; b++)
        CHECK(fabs(total.value[b] - sum[b]) < 1e-12 * sum[b], "bin %d: %g vs %g", b,
              total.value[b], sum[b]);
    d3m_tensor_free(all);
    free(host);
}


static void test_errors(void)
{
    size_t shape[3] = {N, N, N / 2}, good[3] = {N, N, N};
    d3m_tensor *flat = NULL, *mesh = NULL;
    REQUIRE_OK(d3m_tensor_zeros(3, shape, &flat));
    REQUIRE_OK(d3m_tensor_zeros(3, good, &mesh));
    double edges[3] = {0.1, 0.2, 0.3}, bad_edges[3] = {0.1, 0.3, 0.2};
    spectrum s;
    spectrum_init(&s, 2);
    CHECK(d3m_stats_power(flat, NULL, BOX, D3M_WINDOW_NONE, edges, &s.binned) == D3M_ERR_SHAPE,
          "non-cubic mesh accepted");
    CHECK(strstr(d3m_last_error(), "[16, 16, 8]") != NULL, "message: %s", d3m_last_error());
    CHECK(d3m_stats_power(mesh, NULL, BOX, D3M_WINDOW_NONE, bad_edges, &s.binned) == D3M_ERR_ARG,
          "descending edges accepted");
    CHECK(d3m_stats_power(mesh, NULL, -1.0, D3M_WINDOW_NONE, edges, &s.binned) == D3M_ERR_ARG,
          "negative box accepted");
    CHECK(d3m_stats_power(mesh, flat, BOX, D3M_WINDOW_NONE, edges, &s.binned) != D3M_OK,
          "cross power of different shapes accepted");
    d3m_tensor_free(flat);
    d3m_tensor_free(mesh);
}


int main(void)
{
    REQUIRE_OK(d3m_use_device(NULL));
    long wave_a[3] = {1, 2, 3}, wave_b[3] = {2, -1, 0}, wave_c[3] = {0, 0, 5};
    test_plane_wave(wave_a);
    test_plane_wave(wave_b);
    test_plane_wave(wave_c);
    test_mode_counts(N);
    test_mode_counts(N - 1);
    test_white_noise();
    test_cross_power();
    test_window();
    test_component_sum();
    test_errors();
    printf("%s: %d failures\n", __FILE__, failures);
    return failures ? 1 : 0;
}
