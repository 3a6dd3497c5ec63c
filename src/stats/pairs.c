/* pairs.c - xi(r) by pair counting on the device (kernels/stats_pairs.cl),
 * with the natural estimator and the analytic random-pair count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/cells.h"
#include "stats/stats.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif


double d3m_stats_shell_volume(double lo, double hi)
{
    return 4.0 * M_PI / 3.0 * (hi * hi * hi - lo * lo * lo);
}


int d3m_stats_upload_edges2(const double *edges, int nbins, cl_mem *out)
{
    d3m_runtime *rt = d3m_runtime_current();
    if (rt == NULL)
        return D3M_ERR_DEVICE;
    float squared[257];
    if (nbins > 256)
        return d3m_fail(D3M_ERR_ARG, "%d radial bins given; at most 256 are supported", nbins);
    for (int b = 0; b <= nbins; b++)
        squared[b] = (float)(edges[b] * edges[b]);
    cl_int code;
    *out = clCreateBuffer(rt->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                          (size_t)(nbins + 1) * sizeof(float), squared, &code);
    if (code != CL_SUCCESS)
        return d3m_fail_cl("clCreateBuffer", code, NULL, "radial bin edges");
    return D3M_OK;
}


static int new_buffer(size_t bytes, cl_mem *out)
{
    d3m_runtime *rt = d3m_runtime_current();
    cl_int code;
    *out = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, bytes, NULL, &code);
    if (code != CL_SUCCESS)
        return d3m_fail_cl("clCreateBuffer", code, NULL, "pair count output");
    return D3M_OK;
}


static int read_buffer(cl_mem buffer, size_t bytes, void *host)
{
    d3m_runtime *rt = d3m_runtime_current();
    D3M_CL_CHECK(clEnqueueReadBuffer(rt->queue, buffer, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
                 NULL);
    return D3M_OK;
}


#define CHUNK_BYTES (32u << 20)   /* per-primary rows read back per launch */


/* Launch the pair-count kernel on chunks of primaries and sum their rows into out. */
static int count_pairs(const d3m_cells *cells, cl_mem edges2, int nbins, d3m_binned *out)
{
    size_t n = cells->count, row_bytes = (size_t)nbins * (sizeof(cl_uint) + sizeof(float));
    size_t chunk = CHUNK_BYTES / row_bytes < n ? CHUNK_BYTES / row_bytes : n;
    size_t rows = chunk * (size_t)nbins;
    cl_mem counts = NULL, rsum = NULL;
    unsigned *host_counts = malloc(rows * sizeof *host_counts);
    float *host_rsum = malloc(rows * sizeof *host_rsum);
    int status = (host_counts && host_rsum) ? D3M_OK
                                            : d3m_fail(D3M_ERR_MEMORY, "out of host memory "
                                                       "for pair counts");
    if (status == D3M_OK)
        status = new_buffer(rows * sizeof(cl_uint), &counts);
    if (status == D3M_OK)
        status = new_buffer(rows * sizeof(float), &rsum);
    for (size_t first = 0; status == D3M_OK && first < n; first += chunk) {
        size_t count = n - first < chunk ? n - first : chunk;
        size_t local = 64, global = d3m_round_up(count, local), used = count * (size_t)nbins;
        status = d3m_launch("stats_pairs.cl", "xi_pair_counts", NULL, 1, &global, &local,
                            "bbiiifbiiibb", cells->positions, cells->start, cells->nc,
                            cells->reach, cells->span, cells->box, edges2, nbins, (int)first,
                            (int)count, counts, rsum);
        if (status == D3M_OK)
            status = read_buffer(counts, used * sizeof(cl_uint), host_counts);
        if (status == D3M_OK)
            status = read_buffer(rsum, used * sizeof(float), host_rsum);
        for (size_t i = 0; status == D3M_OK && i < used; i++) {
            out->count[i % (size_t)nbins] += host_counts[i];
            out->x[i % (size_t)nbins] += host_rsum[i];
        }
    }
    if (counts != NULL)
        clReleaseMemObject(counts);
    if (rsum != NULL)
        clReleaseMemObject(rsum);
    free(host_counts);
    free(host_rsum);
    return status;
}


int d3m_stats_xi_pairs(const d3m_tensor *positions, double box, const double *edges,
                       d3m_binned *out)
{
    int nbins = out->nbins;
    D3M_TRY(d3m_check_radial_edges(edges, nbins, box, "xi by pair counting"));
    if (positions->numel / 3 > (size_t)INT32_MAX)
        return d3m_fail(D3M_ERR_ARG, "%zu particles overflow the kernel's int indices; use "
                        "fewer than 2^31", positions->numel / 3);
    d3m_cells cells;
    D3M_TRY(d3m_cells_build(positions, NULL, box, edges[nbins], &cells));
    cl_mem edges2 = NULL;
    memset(out->x, 0, (size_t)nbins * sizeof(double));
    memset(out->value, 0, (size_t)nbins * sizeof(double));
    memset(out->count, 0, (size_t)nbins * sizeof(double));
    int status = d3m_stats_upload_edges2(edges, nbins, &edges2);
    if (status == D3M_OK)
        status = count_pairs(&cells, edges2, nbins, out);

    double count = (double)cells.count, volume = box * box * box;
    for (int b = 0; status == D3M_OK && b < nbins; b++) {
        double rr = count * (count - 1.0) * d3m_stats_shell_volume(edges[b], edges[b + 1]) / volume;
        out->value[b] = out->count[b] / rr - 1.0;
        out->x[b] = out->count[b] > 0 ? out->x[b] / out->count[b] : 0.0;
    }
    if (edges2 != NULL)
        clReleaseMemObject(edges2);
    d3m_cells_free(&cells);
    return status;
}
