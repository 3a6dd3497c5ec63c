/* zeta.c - three-point multipoles zeta_l(r1, r2) by the algorithm of
 * Slepian & Eisenstein (2015, MNRAS 454, 4142). Each primary gets the
 * spherical-harmonic sums a_lm over each radial bin of secondaries. By the
 * addition theorem, sum_m a_lm(b1) a_lm(b2)^* is (2l + 1) / (4 pi) times
 * the sum of P_l over the triplets. The pair version walks cell lists on
 * the device (kernels/stats_pairs.cl). The mesh version builds a_lm(b, x)
 * by FFT convolution with shell kernels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/cells.h"
#include "stats/stats.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define CHUNK_BYTES (32u << 20)   /* a_lm rows read back per launch */

/* Index of (l, m), 0 <= m <= l, in the triangular a_lm layout. */
#define LM(l, m) ((l) * ((l) + 1) / 2 + (m))


/* Device tables of the Y_lm recurrences (see add_ylm in stats_pairs.cl). */
typedef struct ylm_tables {
    cl_mem qmm, coef_a, coef_b;
} ylm_tables;


static void ylm_tables_free(ylm_tables *t)
{
    if (t->qmm != NULL)
        clReleaseMemObject(t->qmm);
    if (t->coef_a != NULL)
        clReleaseMemObject(t->coef_a);
    if (t->coef_b != NULL)
        clReleaseMemObject(t->coef_b);
    memset(t, 0, sizeof *t);
}


static int upload_floats(const float *host, size_t count, cl_mem *out)
{
    d3m_runtime *rt = d3m_runtime_current();
    if (rt == NULL)
        return D3M_ERR_DEVICE;
    cl_int code;
    *out = clCreateBuffer(rt->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                          count * sizeof(float), (void *)host, &code);
    if (code != CL_SUCCESS)
        return d3m_fail_cl("clCreateBuffer", code, NULL, "spherical harmonic tables");
    return D3M_OK;
}


/* Q_mm = (-1)^m sqrt((2m + 1)!! / (4 pi (2m)!!)) and the l recurrence
 * factors of the fully normalised associated Legendre functions, computed
 * in double and stored as float. */
static int ylm_tables_build(int lmax, ylm_tables *out)
{
    memset(out, 0, sizeof *out);
    int nlm = (lmax + 1) * (lmax + 2) / 2;
    float qmm[D3M_ZETA_MAX_L + 1], coef_a[(D3M_ZETA_MAX_L + 1) * (D3M_ZETA_MAX_L + 2) / 2];
    float coef_b[(D3M_ZETA_MAX_L + 1) * (D3M_ZETA_MAX_L + 2) / 2];
    double q = 1.0 / sqrt(4.0 * M_PI);
    for (int m = 0; m <= lmax; m++) {
        if (m > 0)
            q *= -sqrt((2.0 * m + 1.0) / (2.0 * m));
        qmm[m] = (float)q;
    }
    for (int l = 0; l <= lmax; l++)
        for (int m = 0; m <= l; m++) {
            double a = 0.0, b = 0.0;
            if (l >= m + 2) {
                double l2 = (double)l * l, m2 = (double)m * m, k2 = (double)(l - 1) * (l - 1);
                a = sqrt((4.0 * l2 - 1.0) / (l2 - m2));
                b = sqrt((k2 - m2) / (4.0 * k2 - 1.0));
            }
            coef_a[LM(l, m)] = (float)a;
            coef_b[LM(l, m)] = (float)b;
        }
    int status = upload_floats(qmm, (size_t)lmax + 1, &out->qmm);
    if (status == D3M_OK)
        status = upload_floats(coef_a, (size_t)nlm, &out->coef_a);
    if (status == D3M_OK)
        status = upload_floats(coef_b, (size_t)nlm, &out->coef_b);
    if (status != D3M_OK)
        ylm_tables_free(out);
    return status;
}


static int check_lmax(int lmax, const char *what)
{
    if (lmax < 0 || lmax > D3M_ZETA_MAX_L)
        return d3m_fail(D3M_ERR_ARG, "%s: lmax = %d; give 0 <= lmax <= %d", what, lmax,
                        D3M_ZETA_MAX_L);
    return D3M_OK;
}


/* Add w_p sum_m a_lm(b1) a_lm(b2)^* for every l and b1 <= b2 to z
 * ([nl][nbins][nbins]); row holds nbins blocks of stride floats. The sum
 * over m < 0 equals that over m > 0 because a_l,-m = (-1)^m a_lm^* for
 * real weights. */
static void add_primary(double *z, const float *row, double weight, int nbins, int lmax,
                        int stride, int self_terms)
{
    for (int l = 0; l <= lmax; l++)
        for (int b1 = 0; b1 < nbins; b1++) {
            const float *a1 = row + (size_t)b1 * (size_t)stride;
            for (int b2 = b1; b2 < nbins; b2++) {
                const float *a2 = row + (size_t)b2 * (size_t)stride;
                double sum = 0.0;
                for (int m = 0; m <= l; m++) {
                    int k = 2 * LM(l, m);
                    double product = (double)a1[k] * a2[k] + (double)a1[k + 1] * a2[k + 1];
                    sum += m == 0 ? product : 2.0 * product;
                }
                /* Self terms a = b contribute sum_a w_a^2 sum_m |Y_lm|^2 =
                 * (2l + 1) / (4 pi) sum_a w_a^2 to the diagonal. */
                if (!self_terms && b1 == b2)
                    sum -= (2.0 * l + 1.0) / (4.0 * M_PI) * a1[stride - 1];
                z[((size_t)l * nbins + (size_t)b1) * nbins + (size_t)b2] += weight * sum;
            }
        }
}


typedef struct zeta_job {
    const d3m_cells *cells;
    cl_mem edges2;
    ylm_tables tables;
    int nbins, lmax, stride, self_terms;
    char options[32];
} zeta_job;


/* Launch zeta_alm on primaries first .. first + count - 1 and add them to z. */
static int zeta_chunk(const zeta_job *job, cl_mem rows, float *host, size_t first, size_t count,
                      double *z)
{
    const d3m_cells *cells = job->cells;
    size_t local = 16, global = d3m_round_up(count, local);
    D3M_TRY(d3m_launch("stats_pairs.cl", "zeta_alm", job->options, 1, &global, &local,
                       "bbiiifbiiiibbbb", cells->positions, cells->start, cells->nc, cells->reach,
                       cells->span, cells->box, job->edges2, job->nbins, (int)first, (int)count,
                       job->stride, job->tables.qmm, job->tables.coef_a, job->tables.coef_b,
                       rows));
    d3m_runtime *rt = d3m_runtime_current();
    size_t row_floats = (size_t)job->nbins * (size_t)job->stride;
    D3M_CL_CHECK(clEnqueueReadBuffer(rt->queue, rows, CL_TRUE, 0, count * row_floats * sizeof(float),
                                     host, 0, NULL, NULL), "zeta_alm");
    for (size_t i = 0; i < count; i++)
        add_primary(z, host + i * row_floats, cells->host[4 * (first + i) + 3], job->nbins,
                    job->lmax, job->stride, job->self_terms);
    return D3M_OK;
}


static int zeta_run(zeta_job *job, double *z)
{
    const d3m_cells *cells = job->cells;
    size_t row_bytes = (size_t)job->nbins * (size_t)job->stride * sizeof(float);
    size_t chunk = CHUNK_BYTES / row_bytes;
    if (chunk < 1)
        chunk = 1;
    if (chunk > cells->count)
        chunk = cells->count;
    d3m_runtime *rt = d3m_runtime_current();
    cl_int code;
    cl_mem rows = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, chunk * row_bytes, NULL, &code);
    if (code != CL_SUCCESS)
        return d3m_fail_cl("clCreateBuffer", code, "zeta_alm", "a_lm rows of a chunk of primaries");
    float *host = malloc(chunk * row_bytes);
    int status = host != NULL ? D3M_OK : d3m_fail(D3M_ERR_MEMORY, "out of host memory for a_lm");
    for (size_t first = 0; status == D3M_OK && first < cells->count; first += chunk) {
        size_t count = cells->count - first < chunk ? cells->count - first : chunk;
        status = zeta_chunk(job, rows, host, first, count, z);
    }
    free(host);
    clReleaseMemObject(rows);
    return status;
}


/* Scale z (sums over m) to N_l = 4 pi / (2l + 1) z and mirror b1 > b2. */
static void finish_counts(double *z, int nbins, int lmax)
{
    for (int l = 0; l <= lmax; l++)
        for (int b1 = 0; b1 < nbins; b1++)
            for (int b2 = b1; b2 < nbins; b2++) {
                size_t upper = ((size_t)l * nbins + (size_t)b1) * nbins + (size_t)b2;
                size_t lower = ((size_t)l * nbins + (size_t)b2) * nbins + (size_t)b1;
                z[upper] *= 4.0 * M_PI / (2.0 * l + 1.0);
                z[lower] = z[upper];
            }
}


int d3m_stats_zeta_counts(const d3m_tensor *positions, const d3m_tensor *weights, double box,
                          int nbins, const double *edges, int lmax, int self_terms,
                          double *multipoles)
{
    const char *what = "3PCF multipoles";
    D3M_TRY(check_lmax(lmax, what));
    D3M_TRY(d3m_check_radial_edges(edges, nbins, box, what));
    if (nbins > D3M_ZETA_MAX_BINS)
        return d3m_fail(D3M_ERR_ARG, "%s: %d radial bins given; at most %d are supported (each "
                        "work-item keeps a_lm of every bin in private memory)", what, nbins,
                        D3M_ZETA_MAX_BINS);
    if (positions->numel / 3 > (size_t)INT32_MAX)
        return d3m_fail(D3M_ERR_ARG, "%s: %zu particles exceed the kernel's int indices", what,
                        positions->numel / 3);
    zeta_job job;
    memset(&job, 0, sizeof job);
    job.nbins = nbins;
    job.lmax = lmax;
    job.self_terms = self_terms;
    job.stride = (lmax + 1) * (lmax + 2) + 1;
    snprintf(job.options, sizeof job.options, "-DLMAX=%d -DNBINS=%d", lmax, nbins);

    d3m_cells cells;
    D3M_TRY(d3m_cells_build(positions, weights, box, edges[nbins], &cells));
    job.cells = &cells;
    memset(multipoles, 0, (size_t)(lmax + 1) * (size_t)nbins * (size_t)nbins * sizeof(double));
    int status = d3m_stats_upload_edges2(edges, nbins, &job.edges2);
    if (status == D3M_OK)
        status = ylm_tables_build(lmax, &job.tables);
    if (status == D3M_OK)
        status = zeta_run(&job, multipoles);
    if (status == D3M_OK)
        finish_counts(multipoles, nbins, lmax);
    ylm_tables_free(&job.tables);
    if (job.edges2 != NULL)
        clReleaseMemObject(job.edges2);
    d3m_cells_free(&cells);
    return status;
}


void d3m_stats_zeta_normalise(double *multipoles, int nbins, const double *edges, int lmax,
                              double weight_sum, double box)
{
    double volume = box * box * box, nbar = weight_sum / volume;
    for (int l = 0; l <= lmax; l++)
        for (int b1 = 0; b1 < nbins; b1++)
            for (int b2 = 0; b2 < nbins; b2++) {
                double v1 = d3m_stats_shell_volume(edges[b1], edges[b1 + 1]);
                double v2 = d3m_stats_shell_volume(edges[b2], edges[b2 + 1]);
                double *value = multipoles + ((size_t)l * nbins + (size_t)b1) * nbins + (size_t)b2;
                *value = (2.0 * l + 1.0) * *value / (weight_sum * nbar * nbar * v1 * v2);
                if (l == 0)
                    *value -= 1.0;
            }
}



/* Tensors of the mesh version: the density and its spectrum, one shell
 * kernel and its spectrum, and a_lm(b, x) of one (l, m, part) for every bin. */
typedef struct mesh_job {
    size_t n;
    int nbins, lmax;
    const double *edges;
    double h;
    char options[32];
    ylm_tables tables;
    const d3m_tensor *rho;
    d3m_tensor *rho_k, *kernel, *kernel_k, *product_k, *scratch;
    d3m_tensor **alm;
} mesh_job;


static void mesh_job_free(mesh_job *job)
{
    d3m_tensor_free(job->rho_k);
    d3m_tensor_free(job->kernel);
    d3m_tensor_free(job->kernel_k);
    d3m_tensor_free(job->product_k);
    d3m_tensor_free(job->scratch);
    if (job->alm != NULL)
        for (int b = 0; b < job->nbins; b++)
            d3m_tensor_free(job->alm[b]);
    free(job->alm);
    ylm_tables_free(&job->tables);
}


static int mesh_job_alloc(mesh_job *job)
{
    size_t n = job->n, real[3] = {n, n, n}, cplx[4] = {n, n, n / 2 + 1, 2};
    D3M_TRY(ylm_tables_build(job->lmax, &job->tables));
    D3M_TRY(d3m_tensor_new(4, cplx, &job->rho_k));
    D3M_TRY(d3m_tensor_new(4, cplx, &job->kernel_k));
    D3M_TRY(d3m_tensor_new(4, cplx, &job->product_k));
    D3M_TRY(d3m_tensor_new(3, real, &job->kernel));
    D3M_TRY(d3m_tensor_new(3, real, &job->scratch));
    job->alm = calloc((size_t)job->nbins, sizeof *job->alm);
    if (job->alm == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for the mesh 3PCF");
    for (int b = 0; b < job->nbins; b++)
        D3M_TRY(d3m_tensor_new(3, real, &job->alm[b]));
    return D3M_OK;
}


/* Fill job->kernel with part (0 real, 1 imaginary) of Y_lm on shell b. */
static int shell_kernel(mesh_job *job, int b, int l, int m, int part)
{
    size_t n = job->n, local = 64, global = d3m_round_up(n * n * n, local);
    double lo = job->edges[b], hi = job->edges[b + 1];
    float lo2 = (float)(lo * lo), hi2 = (float)(hi * hi);
    return d3m_launch("stats_pairs.cl", "zeta_shell_kernel", job->options, 1, &global, &local,
                      "tifffiiibbb", job->kernel, (int)n, job->h, (double)lo2, (double)hi2, l, m,
                      part, job->tables.qmm, job->tables.coef_a, job->tables.coef_b);
}


/* a(b, x) = sum_r rho(x + r) K(r), a correlation: a_k = rho_k conj(K_k). */
static int correlate(mesh_job *job, d3m_tensor *out)
{
    D3M_TRY(d3m_fft_r2c(job->kernel, job->kernel_k));
    size_t count = job->rho_k->numel / 2, local = 64, global = d3m_round_up(count, local);
    D3M_TRY(d3m_launch("stats_pairs.cl", "zeta_multiply_conj", job->options, 1, &global, &local,
                       "ttti", job->product_k, job->rho_k, job->kernel_k, (int)count));
    return d3m_fft_c2r(job->product_k, out);
}


/* Number of mesh separations in each bin, from the l = 0 kernel (Y_00 = 1 / sqrt(4 pi)). */
static int shell_counts(mesh_job *job, double *counts)
{
    for (int b = 0; b < job->nbins; b++) {
        double sum;
        D3M_TRY(shell_kernel(job, b, 0, 0, 0));
        D3M_TRY(d3m_tensor_sum(job->kernel, &sum));
        counts[b] = floor(sum * sqrt(4.0 * M_PI) + 0.5);
        if (counts[b] < 1.0)
            return d3m_fail(D3M_ERR_ARG, "mesh 3PCF: bin [%g, %g) contains no separation of "
                            "the %zu^3 mesh (cell side %g); widen the bins or use a finer mesh",
                            job->edges[b], job->edges[b + 1], job->n, job->h);
    }
    return D3M_OK;
}


/* Add factor sum_x rho a(b1) a(b2) for b1 <= b2 to z[l]. */
static int accumulate_products(mesh_job *job, double factor, double *z_l)
{
    int nbins = job->nbins;
    for (int b1 = 0; b1 < nbins; b1++) {
        D3M_TRY(d3m_tensor_mul(job->scratch, job->rho, job->alm[b1]));
        for (int b2 = b1; b2 < nbins; b2++) {
            double dot;
            D3M_TRY(d3m_tensor_dot(job->scratch, job->alm[b2], &dot));
            z_l[(size_t)b1 * nbins + (size_t)b2] += factor * dot;
        }
    }
    return D3M_OK;
}


static int zeta_mesh_sums(mesh_job *job, double *z)
{
    D3M_TRY(d3m_fft_r2c(job->rho, job->rho_k));
    for (int l = 0; l <= job->lmax; l++)
        for (int m = 0; m <= l; m++)
            for (int part = 0; part <= (m > 0); part++) {
                for (int b = 0; b < job->nbins; b++) {
                    D3M_TRY(shell_kernel(job, b, l, m, part));
                    D3M_TRY(correlate(job, job->alm[b]));
                }
                /* m > 0 stands for -m too: 2 (Re Re + Im Im). */
                double factor = m == 0 ? 1.0 : 2.0;
                D3M_TRY(accumulate_products(job, factor, z + (size_t)l * job->nbins * job->nbins));
            }
    return D3M_OK;
}


int d3m_stats_zeta_mesh(const d3m_tensor *rho, double box, int nbins, const double *edges,
                        int lmax, double *zeta, double *volumes)
{
    const char *what = "mesh 3PCF";
    D3M_TRY(check_lmax(lmax, what));
    D3M_TRY(d3m_check_radial_edges(edges, nbins, box, what));
    size_t shape[3] = {0, 0, 0};
    D3M_TRY(d3m_check_shape(rho, "density mesh of the 3PCF", 3, shape));
    size_t n = rho->shape[0];
    if (rho->shape[1] != n || rho->shape[2] != n)
        return d3m_fail(D3M_ERR_SHAPE, "%s: the density mesh must be cubic, got [%zu, %zu, %zu]",
                        what, rho->shape[0], rho->shape[1], rho->shape[2]);

    mesh_job job;
    memset(&job, 0, sizeof job);
    job.n = n;
    job.nbins = nbins;
    job.lmax = lmax;
    job.edges = edges;
    job.h = box / (double)n;
    job.rho = rho;
    snprintf(job.options, sizeof job.options, "-DLMAX=%d", lmax);
    size_t entries = (size_t)(lmax + 1) * (size_t)nbins * (size_t)nbins;
    double *counts = calloc((size_t)nbins, sizeof *counts);
    memset(zeta, 0, entries * sizeof *zeta);
    int status = counts != NULL ? mesh_job_alloc(&job)
                                : d3m_fail(D3M_ERR_MEMORY, "out of host memory for %s", what);
    if (status == D3M_OK)
        status = shell_counts(&job, counts);
    if (status == D3M_OK)
        status = zeta_mesh_sums(&job, zeta);

    /* zeta_l = 4 pi dV^3 z / (V V'_1 V'_2) - delta_l0; two dV come from the a_lm. */
    double dv = job.h * job.h * job.h, volume = box * box * box;
    for (int l = 0; status == D3M_OK && l <= lmax; l++)
        for (int b1 = 0; b1 < nbins; b1++)
            for (int b2 = b1; b2 < nbins; b2++) {
                size_t upper = ((size_t)l * nbins + (size_t)b1) * nbins + (size_t)b2;
                size_t lower = ((size_t)l * nbins + (size_t)b2) * nbins + (size_t)b1;
                double v1 = counts[b1] * dv, v2 = counts[b2] * dv;
                zeta[upper] = 4.0 * M_PI * dv * dv * dv * zeta[upper] / (volume * v1 * v2);
                if (l == 0)
                    zeta[upper] -= 1.0;
                zeta[lower] = zeta[upper];
            }
    for (int b = 0; status == D3M_OK && volumes != NULL && b < nbins; b++)
        volumes[b] = counts[b] * dv;
    free(counts);
    mesh_job_free(&job);
    return status;
}
