/* ic.c - white noise and the linear density field (made on the host, so
 * they are the same on every device), and the ZA/2LPT displacements
 * (Fourier filters in kernels/ic.cl and the FFTs of the runtime). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pm/ic.h"
#include "runtime/runtime.h"

#define LOCAL_SIZE 64
#define MAX_MESH 4096

/* Modes of kernels/ic.cl's ic_filter. */
enum { MODE_PSI1 = 0, MODE_HESSIAN_DIAG = 1, MODE_HESSIAN_OFF = 2, MODE_PSI2 = 3 };


/* ---- Philox4x32-10 (a counter-based generator: the output is a fixed
 * function of a 128-bit counter and a 64-bit key) ------------------------ */

static void philox_round(uint32_t *ctr, const uint32_t *key)
{
    uint64_t p0 = (uint64_t)0xD2511F53u * ctr[0];
    uint64_t p1 = (uint64_t)0xCD9E8D57u * ctr[2];
    uint32_t next[4] = {(uint32_t)(p1 >> 32) ^ ctr[1] ^ key[0], (uint32_t)p1,
                        (uint32_t)(p0 >> 32) ^ ctr[3] ^ key[1], (uint32_t)p0};
    memcpy(ctr, next, sizeof next);
}


static void philox4x32_10(const uint32_t *counter, const uint32_t *key_in, uint32_t *out)
{
    uint32_t ctr[4] = {counter[0], counter[1], counter[2], counter[3]};
    uint32_t key[2] = {key_in[0], key_in[1]};
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            key[0] += 0x9E3779B9u;
            key[1] += 0xBB67AE85u;
        }
        philox_round(ctr, key);
    }
    memcpy(out, ctr, sizeof ctr);
}


/* Uniform double in (0, 1) from 53 bits of two words. */
static double uniform53(uint32_t hi, uint32_t lo)
{
    uint64_t bits = ((uint64_t)(hi >> 5) << 26) | (lo >> 6);
    return ((double)bits + 0.5) / 9007199254740992.0;
}


/* Key of the column of signed wavenumbers (m0, m1): the generator's output
 * for the counter (m0, m1, 0, 1) under the user's seed. */
static void column_key(uint64_t seed, int m0, int m1, uint32_t *key)
{
    uint32_t seed_key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t counter[4] = {(uint32_t)m0, (uint32_t)m1, 0u, 1u};
    uint32_t out[4];
    philox4x32_10(counter, seed_key, out);
    key[0] = out[0];
    key[1] = out[1];
}


/* Two independent standard normals for wavenumber m2 of a column (Box-Muller). */
static void gaussian_pair(const uint32_t *key, int m2, double *g)
{
    uint32_t counter[4] = {(uint32_t)m2, 0u, 0u, 0u};
    uint32_t out[4];
    philox4x32_10(counter, key, out);
    double u1 = uniform53(out[0], out[1]);
    double u2 = uniform53(out[2], out[3]);
    double r = sqrt(-2.0 * log(u1));
    g[0] = r * cos(2.0 * M_PI * u2);
    g[1] = r * sin(2.0 * M_PI * u2);
}


/* ---- white noise ------------------------------------------------------------ */

/* Signed wavenumber in [-n/2, n/2) of index i (the Nyquist index maps to -n/2). */
static int wavenumber(int i, int n)
{
    return i < n / 2 ? i : i - n;
}


/* Of a mode m and its conjugate partner -m (reduced into [-n/2, n/2)), the
 * one drawn is the larger in the order (m2, m1, m0). Both the choice and
 * the draw depend on the wavenumbers only, never on n. Returns 1 when m is
 * drawn, 0 when it is the conjugate of its partner, 2 when m = -m. */
static int mode_role(const int *m, int n, int *partner)
{
    for (int d = 0; d < 3; d++)
        partner[d] = m[d] == -n / 2 ? m[d] : -m[d];
    if (partner[0] == m[0] && partner[1] == m[1] && partner[2] == m[2])
        return 2;
    for (int d = 2; d >= 0; d--) {
        if (m[d] != partner[d])
            return m[d] > partner[d] ? 1 : 0;
    }
    return 2;
}


/* W(k) / sqrt(n^3) of one mode (W of d3m_white_noise): E|w|^2 = 1. */
static void noise_mode(uint64_t seed, const int *m, int n, double *w)
{
    int partner[3];
    int role = mode_role(m, n, partner);
    const int *drawn = role == 0 ? partner : m;
    uint32_t key[2];
    double g[2];
    column_key(seed, drawn[0], drawn[1], key);
    gaussian_pair(key, drawn[2], g);

    if (role == 2) {
        w[0] = g[0];
        w[1] = 0.0;
        return;
    }
    w[0] = g[0] * M_SQRT1_2;
    w[1] = (role == 1 ? g[1] : -g[1]) * M_SQRT1_2;
}


static int check_mesh(int n, const char *what)
{
    if (n < 2 || n > MAX_MESH || n % 2 != 0)
        return d3m_fail(D3M_ERR_ARG, "invalid mesh size n = %d for %s: expected an even n "
                        "from 2 to %d", n, what, MAX_MESH);
    return D3M_OK;
}


/* Fill host (complex [n, n, n/2+1]) with the noise W(k) of
 * d3m_white_noise, times amplitude_by_k2[|m|^2] unless that is NULL. */
static void fill_modes(int n, uint64_t seed, const double *amplitude_by_k2, float *host)
{
    size_t nh = (size_t)n / 2 + 1;
    double root_cells = sqrt((double)n * n * n);
    for (int i0 = 0; i0 < n; i0++) {
        for (int i1 = 0; i1 < n; i1++) {
            for (size_t i2 = 0; i2 < nh; i2++) {
                size_t idx = ((size_t)i0 * n + (size_t)i1) * nh + i2;
                int m[3] = {wavenumber(i0, n), wavenumber(i1, n), wavenumber((int)i2, n)};
                double w[2] = {0.0, 0.0};
                if (m[0] != 0 || m[1] != 0 || m[2] != 0)
                    noise_mode(seed, m, n, w);

                double scale = root_cells;
                if (amplitude_by_k2 != NULL)
                    scale *= amplitude_by_k2[m[0] * m[0] + m[1] * m[1] + m[2] * m[2]];
                host[2 * idx] = (float)(w[0] * scale);
                host[2 * idx + 1] = (float)(w[1] * scale);
            }
        }
    }
}


static int check_complex_mesh(const d3m_tensor *t, int n, const char *what)
{
    size_t shape[4] = {(size_t)n, (size_t)n, (size_t)n / 2 + 1, 2};
    return d3m_check_shape(t, what, 4, shape);
}


static int write_modes(int n, uint64_t seed, const double *amplitude_by_k2, d3m_tensor *out)
{
    size_t count = (size_t)n * n * ((size_t)n / 2 + 1) * 2;
    float *host = malloc(count * sizeof *host);
    if (host == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for a %d^3 noise field (%.1f MiB)",
                        n, (double)count * sizeof(float) / 1048576.0);
    fill_modes(n, seed, amplitude_by_k2, host);
    int status = d3m_tensor_write(out, host);
    free(host);
    return status;
}


int d3m_white_noise(int n, uint64_t seed, d3m_tensor *noise_k)
{
    D3M_TRY(check_mesh(n, "white noise"));
    D3M_TRY(check_complex_mesh(noise_k, n, "output of d3m_white_noise"));
    return write_modes(n, seed, NULL, noise_k);
}


int d3m_linear_field(const d3m_cosmology *c, double box, int n, uint64_t seed,
                     d3m_tensor *delta_k)
{
    D3M_TRY(check_mesh(n, "the linear field"));
    if (!(box > 0.0) || !isfinite(box))
        return d3m_fail(D3M_ERR_ARG, "invalid box = %g for the linear field: expected a side "
                        "length > 0 in Mpc/h", box);
    D3M_TRY(check_complex_mesh(delta_k, n, "output of d3m_linear_field"));

    double kf = 2.0 * M_PI / box;
    int half = n / 2;
    int max_k2 = 3 * half * half;
    D3M_TRY(d3m_cosmo_check_k_range(c, kf, kf * sqrt((double)max_k2)));

    /* sqrt(P(k) n^3 / V) for every integer |m|^2 on the mesh. */
    double *amplitude = calloc((size_t)max_k2 + 1, sizeof *amplitude);
    if (amplitude == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for the linear field");
    double cells_per_volume = (double)n * n * n / (box * box * box);
    for (int q = 1; q <= max_k2; q++) {
        double p = d3m_cosmo_linear_power(c, kf * sqrt((double)q));
        if (!isfinite(p) || p < 0.0) {
            free(amplitude);
            return d3m_fail(D3M_ERR_VALUE, "P(k = %g h/Mpc) = %g is not a valid power for the "
                            "linear field", kf * sqrt((double)q), p);
        }
        amplitude[q] = sqrt(p * cells_per_volume);
    }
    int status = write_modes(n, seed, amplitude, delta_k);
    free(amplitude);
    return status;
}


/* ---- LPT displacements ------------------------------------------------------ */

static int filter(const d3m_tensor *in, d3m_tensor *out, int n, double box, int gradient,
                  int mode)
{
    size_t modes = (size_t)n * n * ((size_t)n / 2 + 1);
    size_t global[2] = {d3m_round_up(modes, LOCAL_SIZE), 3};
    size_t local[2] = {LOCAL_SIZE, 1};
    return d3m_launch("ic.cl", "ic_filter", NULL, 2, global, local, "ttifii", in, out, n, box,
                      gradient, mode);
}


static int check_lpt_arguments(const d3m_tensor *delta_k, double box, int gradient,
                               const d3m_tensor *psi1, const d3m_tensor *psi2, int *n_out)
{
    if (delta_k->ndim != 4 || delta_k->shape[3] != 2) {
        char text[128];
        d3m_format_shape(text, sizeof text, delta_k->ndim, delta_k->shape);
        return d3m_fail(D3M_ERR_SHAPE, "delta_k of d3m_lpt_displacements has shape %s; expected "
                        "a complex mesh [n, n, n/2+1, 2]", text);
    }
    int n = (int)delta_k->shape[0];
    D3M_TRY(check_mesh(n, "LPT displacements"));
    D3M_TRY(check_complex_mesh(delta_k, n, "delta_k of d3m_lpt_displacements"));
    if (!(box > 0.0) || !isfinite(box))
        return d3m_fail(D3M_ERR_ARG, "invalid box = %g for LPT displacements: expected a side "
                        "length > 0 in Mpc/h", box);
    if (gradient != D3M_GRADIENT_EXACT && gradient != D3M_GRADIENT_FD4)
        return d3m_fail(D3M_ERR_ARG, "invalid gradient %d: expected D3M_GRADIENT_EXACT (0) or "
                        "D3M_GRADIENT_FD4 (1)", gradient);
    size_t shape[4] = {3, (size_t)n, (size_t)n, (size_t)n};
    D3M_TRY(d3m_check_shape(psi1, "psi1 of d3m_lpt_displacements", 4, shape));
    if (psi2 != NULL)
        D3M_TRY(d3m_check_shape(psi2, "psi2 of d3m_lpt_displacements", 4, shape));
    *n_out = n;
    return D3M_OK;
}


/* S(k) of the second-order potential, with psi2 used as scratch for the
 * diagonal of the Hessian. */
static int second_order_source(const d3m_tensor *delta_k, double box, int gradient, int n,
                               d3m_tensor *batch_k, d3m_tensor *psi2, d3m_tensor *source_k)
{
    size_t cells = (size_t)n * n * n;
    size_t shape3[4] = {3, (size_t)n, (size_t)n, (size_t)n};
    size_t shape1[3] = {(size_t)n, (size_t)n, (size_t)n};
    d3m_tensor *off = NULL, *source = NULL;

    int status = d3m_tensor_new(4, shape3, &off);
    if (status == D3M_OK)
        status = d3m_tensor_new(3, shape1, &source);
    if (status == D3M_OK)
        status = filter(delta_k, batch_k, n, box, gradient, MODE_HESSIAN_DIAG);
    if (status == D3M_OK)
        status = d3m_fft_c2r(batch_k, psi2);
    if (status == D3M_OK)
        status = filter(delta_k, batch_k, n, box, gradient, MODE_HESSIAN_OFF);
    if (status == D3M_OK)
        status = d3m_fft_c2r(batch_k, off);
    if (status == D3M_OK) {
        size_t global = d3m_round_up(cells, LOCAL_SIZE), local = LOCAL_SIZE;
        status = d3m_launch("ic.cl", "ic_second_order_source", NULL, 1, &global, &local, "tttl",
                            psi2, off, source, (long long)cells);
    }
    if (status == D3M_OK)
        status = d3m_fft_r2c(source, source_k);
    d3m_tensor_free(off);
    d3m_tensor_free(source);
    return status;
}


int d3m_lpt_displacements(const d3m_tensor *delta_k, double box, int gradient, d3m_tensor *psi1,
                          d3m_tensor *psi2)
{
    int n = 0;
    D3M_TRY(check_lpt_arguments(delta_k, box, gradient, psi1, psi2, &n));

    size_t batch_shape[5] = {3, (size_t)n, (size_t)n, (size_t)n / 2 + 1, 2};
    d3m_tensor *batch_k = NULL, *source_k = NULL;
    D3M_TRY(d3m_tensor_new(5, batch_shape, &batch_k));

    /* First order: psi1 = IFFT[i k / k^2 delta]. */
    int status = filter(delta_k, batch_k, n, box, gradient, MODE_PSI1);
    if (status == D3M_OK)
        status = d3m_fft_c2r(batch_k, psi1);

    /* Second order: psi2 = IFFT[-i k / k^2 S(k)]. */
    if (status == D3M_OK && psi2 != NULL) {
        status = d3m_tensor_new(4, batch_shape + 1, &source_k);
        if (status == D3M_OK)
            status = second_order_source(delta_k, box, gradient, n, batch_k, psi2, source_k);
        if (status == D3M_OK)
            status = filter(source_k, batch_k, n, box, gradient, MODE_PSI2);
        if (status == D3M_OK)
            status = d3m_fft_c2r(batch_k, psi2);
    }
    d3m_tensor_free(batch_k);
    d3m_tensor_free(source_k);
    return status;
}


int d3m_lpt_combine(const d3m_tensor *psi1, double c1, const d3m_tensor *psi2, double c2,
                    d3m_tensor *out)
{
    D3M_TRY(d3m_check_same_numel(out, psi1, "psi1 and output of d3m_lpt_combine"));
    if (psi2 == NULL) {
        psi2 = psi1;
        c2 = 0.0;
    }
    D3M_TRY(d3m_check_same_numel(out, psi2, "psi2 and output of d3m_lpt_combine"));
    size_t global = d3m_round_up(out->numel, LOCAL_SIZE), local = LOCAL_SIZE;
    return d3m_launch("ic.cl", "ic_combine", NULL, 1, &global, &local, "ttftfl", out, psi1, c1,
                      psi2, c2, (long long)out->numel);
}
