/* particles.c - per-particle statistics of displacement fields: positions
 * q + Psi and the point-wise relative error (kernels/stats_particles.cl). */
#include <math.h>
#include <stdlib.h>

#include "pm/pm.h"
#include "runtime/runtime.h"
#include "stats/stats.h"


int d3m_stats_positions(const d3m_tensor *displacement, double box, d3m_tensor *out)
{
    size_t shape[4] = {3, 0, 0, 0};
    D3M_TRY(d3m_check_shape(displacement, "displacement", 4, shape));
    size_t n = displacement->shape[1];
    if (displacement->shape[2] != n || displacement->shape[3] != n)
        return d3m_fail(D3M_ERR_SHAPE, "displacement [3, %zu, %zu, %zu] is not on a cubic grid",
                        displacement->shape[1], displacement->shape[2], displacement->shape[3]);
    if (!(box > 0.0))
        return d3m_fail(D3M_ERR_ARG, "positions: box = %g; give the box side in Mpc/h", box);
    size_t cells = n * n * n, out_shape[2] = {3, cells};
    D3M_TRY(d3m_check_shape(out, "positions output", 2, out_shape));
    return d3m_pm_lattice_positions(displacement, box, 1.0, out);
}


/* Simulations S and particles per simulation of a [3, ...] or [S, 3, ...] field. */
static int split_displacement(const d3m_tensor *t, size_t *sims, size_t *count)
{
    if (t->ndim >= 2 && t->shape[0] == 3) {
        *sims = 1;
    } else if (t->ndim >= 3 && t->shape[1] == 3) {
        *sims = t->shape[0];
    } else {
        char text[96];
        d3m_format_shape(text, sizeof text, t->ndim, t->shape);
        return d3m_fail(D3M_ERR_SHAPE, "point-wise error: displacement of shape %s; expected "
                        "[3, ...] or [S, 3, ...] (three components)", text);
    }
    *count = t->numel / (3 * *sims);
    return D3M_OK;
}


int d3m_stats_pointwise_error(const d3m_tensor *pred, const d3m_tensor *truth, double *mean,
                              double *max, long *skipped)
{
    size_t sims = 1, count = 0;
    D3M_TRY(split_displacement(truth, &sims, &count));
    if (pred->ndim != truth->ndim || pred->numel != truth->numel) {
        char a[96], b[96];
        d3m_format_shape(a, sizeof a, pred->ndim, pred->shape);
        d3m_format_shape(b, sizeof b, truth->ndim, truth->shape);
        return d3m_fail(D3M_ERR_SHAPE, "point-wise error: prediction %s and truth %s differ in "
                        "shape", a, b);
    }
    size_t total = sims * count, shape[1] = {total};
    d3m_tensor *errors = NULL;
    D3M_TRY(d3m_tensor_new(1, shape, &errors));
    float *host = malloc(total * sizeof *host);
    size_t local = 64, global = d3m_round_up(total, local);
    int status = host != NULL ? D3M_OK : d3m_fail(D3M_ERR_MEMORY, "out of host memory for "
                                                  "%zu errors", total);
    if (status == D3M_OK)
        status = d3m_launch("stats_particles.cl", "stats_pointwise_error", NULL, 1, &global,
                            &local, "tttll", errors, pred, truth, (long long)count,
                            (long long)total);
    if (status == D3M_OK)
        status = d3m_tensor_read(errors, host);
    double sum = 0.0, largest = 0.0;
    long used = 0, zero = 0;
    for (size_t i = 0; status == D3M_OK && i < total; i++) {
        if (host[i] < 0.0f) {
            zero++;
            continue;
        }
        if (!isfinite(host[i])) {
            status = d3m_fail(D3M_ERR_VALUE, "point-wise error of particle %zu is %g; the "
                              "displacements contain NaN or Inf", i, host[i]);
            break;
        }
        sum += host[i];
        largest = host[i] > largest ? host[i] : largest;
        used++;
    }
    if (status == D3M_OK) {
        *mean = used > 0 ? sum / (double)used : 0.0;
        *max = largest;
        if (skipped != NULL)
            *skipped = zero;
    }
    free(host);
    d3m_tensor_free(errors);
    return status;
}
