/* test_fft.c - 3D real FFTs against analytic transforms: a plane wave, a
 * shifted delta function, round trips on non-cubic and batched meshes, and
 * the errors for unsupported sizes and shapes. */
#include <complex.h>
#include <stdlib.h>

#include "check.h"

#define TWO_PI 6.283185307179586

/* Forward convention: F(k) = sum_x f(x) exp(-i k.x), unnormalised. */

static int test_plane_wave(void)
{
    enum { N1 = 8, N2 = 12, N3 = 10, NH = N3 / 2 + 1 };
    const int m1 = 1, m2 = 3, m3 = 2;   /* integer wavenumbers */
    static float f[N1 * N2 * N3], F[N1 * N2 * NH * 2];
    for (int i = 0; i < N1; i++)
        for (int j = 0; j < N2; j++)
            for (int k = 0; k < N3; k++)
                f[(i * N2 + j) * N3 + k] =
                    (float)cos(TWO_PI * ((double)m1 * i / N1 + (double)m2 * j / N2 + (double)m3 * k / N3));

    size_t rs[3] = {N1, N2, N3}, cs[4] = {N1, N2, NH, 2};
    d3m_tensor *real, *spectrum;
    REQUIRE_OK(d3m_tensor_new(3, rs, &real));
    REQUIRE_OK(d3m_tensor_new(4, cs, &spectrum));
    REQUIRE_OK(d3m_tensor_write(real, f));
    REQUIRE_OK(d3m_fft_r2c(real, spectrum));
    REQUIRE_OK(d3m_tensor_read(spectrum, F));

    /* cos -> N/2 at +k (the half space contains +k since m3 > 0), zero
     * elsewhere. Float FFT error grows like log N times epsilon times the
     * total power; 1e-3 of the peak N/2 = 480 is far above that and far
     * below any misplaced mode. */
    const double peak = N1 * N2 * N3 / 2.0;
    double worst = 0.0;
    for (int i = 0; i < N1; i++)
        for (int j = 0; j < N2; j++)
            for (int k = 0; k < NH; k++) {
                size_t at = ((size_t)(i * N2 + j) * NH + (size_t)k) * 2;
                double expected = (i == m1 && j == m2 && k == m3) ? peak : 0.0;
                worst = fmax(worst, fabs(F[at] - expected) + fabs(F[at + 1]));
            }
    CHECK(worst < 1e-3 * peak, "plane wave: worst deviation %g of peak %g", worst, peak);

    d3m_tensor_free(real);
    d3m_tensor_free(spectrum);
    return 0;
}


static int test_shifted_delta(void)
{
    enum { N = 16, NH = N / 2 + 1 };
    const int x1 = 3, x2 = 5, x3 = 7;
    static float f[N * N * N], F[N * N * NH * 2];
    f[(x1 * N + x2) * N + x3] = 1.0f;

    size_t rs[3] = {N, N, N}, cs[4] = {N, N, NH, 2};
    d3m_tensor *real, *spectrum;
    REQUIRE_OK(d3m_tensor_new(3, rs, &real));
    REQUIRE_OK(d3m_tensor_new(4, cs, &spectrum));
    REQUIRE_OK(d3m_tensor_write(real, f));
    REQUIRE_OK(d3m_fft_r2c(real, spectrum));
    REQUIRE_OK(d3m_tensor_read(spectrum, F));

    /* F(k) = exp(-2 pi i k.x0 / N), modulus one; 1e-5 covers the float
     * twiddle factors (about 10 roundings of 6e-8). */
    double worst = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            for (int k = 0; k < NH; k++) {
                double phase = -TWO_PI * (double)(i * x1 + j * x2 + k * x3) / N;
                size_t at = ((size_t)(i * N + j) * NH + (size_t)k) * 2;
                worst = fmax(worst, fabs(F[at] - cos(phase)) + fabs(F[at + 1] - sin(phase)));
            }
    CHECK(worst < 1e-5, "shifted delta: worst deviation %g", worst);

    d3m_tensor_free(real);
    d3m_tensor_free(spectrum);
    return 0;
}


static int test_round_trip(size_t batch, size_t n1, size_t n2, size_t n3)
{
    size_t nh = n3 / 2 + 1, count = batch * n1 * n2 * n3;
    float *f = malloc(count * sizeof *f), *g = malloc(count * sizeof *g);
    float *before = malloc(batch * n1 * n2 * nh * 2 * sizeof *before);
    float *after = malloc(batch * n1 * n2 * nh * 2 * sizeof *after);
    unsigned long long seed = 42;
    for (size_t i = 0; i < count; i++)
        f[i] = (float)test_random(&seed);

    size_t rs[4] = {batch, n1, n2, n3}, cs[5] = {batch, n1, n2, nh, 2};
    int batched = batch > 1;
    d3m_tensor *real, *spectrum, *back;
    REQUIRE_OK(d3m_tensor_new(3 + batched, rs + !batched, &real));
    REQUIRE_OK(d3m_tensor_new(4 + batched, cs + !batched, &spectrum));
    REQUIRE_OK(d3m_tensor_new(3 + batched, rs + !batched, &back));
    REQUIRE_OK(d3m_tensor_write(real, f));
    REQUIRE_OK(d3m_fft_r2c(real, spectrum));
    REQUIRE_OK(d3m_tensor_read(spectrum, before));
    REQUIRE_OK(d3m_fft_c2r(spectrum, back));
    REQUIRE_OK(d3m_tensor_read(spectrum, after));
    REQUIRE_OK(d3m_tensor_read(back, g));

    /* Values are O(1); a forward and an inverse float FFT add errors of a
     * few epsilon times log2(N): 1e-5 absolute. */
    double worst = 0.0;
    for (size_t i = 0; i < count; i++)
        worst = fmax(worst, fabs((double)f[i] - g[i]));
    CHECK(worst < 1e-5, "round trip %zu x %zu x %zu x %zu: max error %g", batch, n1, n2, n3, worst);
    CHECK(memcmp(before, after, batch * n1 * n2 * nh * 2 * sizeof(float)) == 0,
          "c2r changed its input");

    /* The overwriting variant runs the same transform, so the result is
     * bit-identical; only its input may change. */
    float *g_overwrite = malloc(count * sizeof *g_overwrite);
    REQUIRE_OK(d3m_fft_c2r_overwrite(spectrum, back));
    REQUIRE_OK(d3m_tensor_read(back, g_overwrite));
    CHECK(memcmp(g, g_overwrite, count * sizeof(float)) == 0,
          "c2r_overwrite differs from c2r for %zu x %zu x %zu x %zu", batch, n1, n2, n3);
    free(g_overwrite);

    d3m_tensor_free(real);
    d3m_tensor_free(spectrum);
    d3m_tensor_free(back);
    free(f);
    free(g);
    free(before);
    free(after);
    return 0;
}


static int test_errors(void)
{
    size_t rs[3] = {17, 16, 16}, cs[4] = {17, 16, 9, 2};
    d3m_tensor *real, *spectrum;
    REQUIRE_OK(d3m_tensor_new(3, rs, &real));
    REQUIRE_OK(d3m_tensor_new(4, cs, &spectrum));
    CHECK(d3m_fft_r2c(real, spectrum) == D3M_ERR_FFT, "size 17 accepted");
    CHECK(contains(d3m_last_error(), "17"), "message does not name the size: %s", d3m_last_error());
    CHECK(contains(d3m_last_error(), "2, 3, 5, 7"), "message does not name the radices: %s",
          d3m_last_error());
    d3m_tensor_free(real);
    d3m_tensor_free(spectrum);

    size_t good[3] = {8, 8, 8}, wrong[4] = {8, 8, 8, 2};
    REQUIRE_OK(d3m_tensor_new(3, good, &real));
    REQUIRE_OK(d3m_tensor_new(4, wrong, &spectrum));
    CHECK(d3m_fft_r2c(real, spectrum) == D3M_ERR_SHAPE, "wrong complex shape accepted");
    CHECK(contains(d3m_last_error(), "[8, 8, 5, 2]"), "message: %s", d3m_last_error());
    CHECK(contains(d3m_last_error(), "[8, 8, 8, 2]"), "message: %s", d3m_last_error());
    d3m_tensor_free(real);
    d3m_tensor_free(spectrum);
    return 0;
}


int main(void)
{
    if (d3m_use_device(NULL) != D3M_OK) {
        fprintf(stderr, "no device: %s\n", d3m_last_error());
        return 1;
    }
    if (test_plane_wave() || test_shifted_delta() || test_round_trip(1, 16, 12, 10) ||
        test_round_trip(3, 8, 8, 8) || test_round_trip(1, 32, 32, 32) || test_errors())
        return 1;
    return check_report("test_fft");
}
