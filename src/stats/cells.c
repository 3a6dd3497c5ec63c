/* cells.c - sorting particles into the cell lists the pair kernels walk. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/cells.h"

#define MAX_CELLS_PER_SIDE 128


int d3m_check_radial_edges(const double *edges, int nbins, double box, const char *what)
{
    if (!(box > 0.0))
        return d3m_fail(D3M_ERR_ARG, "%s: box = %g; give the box side in Mpc/h", what, box);
    if (nbins < 1)
        return d3m_fail(D3M_ERR_ARG, "%s: %d bins given; at least one bin is needed", what, nbins);
    for (int b = 0; b < nbins; b++)
        if (!(edges[b] >= 0.0) || !(edges[b + 1] > edges[b]))
            return d3m_fail(D3M_ERR_ARG, "%s: bin edges must be non-negative and strictly "
                            "ascending, got edges[%d] = %g, edges[%d] = %g", what, b, edges[b],
                            b + 1, edges[b + 1]);
    if (edges[nbins] > 0.5 * box)
        return d3m_fail(D3M_ERR_ARG, "%s: the last bin edge %g exceeds box / 2 = %g, beyond "
                        "which minimum-image separations are not defined; lower r_max or use "
                        "a larger box", what, edges[nbins], 0.5 * box);
    return D3M_OK;
}


/* Particle count and layout of a positions tensor: [3, N] or [3, ...]
 * (component-major, *rows = 0) or [N, 3] (one particle per row, *rows = 1). */
static int particle_layout(const d3m_tensor *positions, size_t *count, int *rows)
{
    if (positions->ndim >= 2 && positions->shape[0] == 3) {
        *count = positions->numel / 3;
        *rows = 0;
    } else if (positions->ndim == 2 && positions->shape[1] == 3) {
        *count = positions->shape[0];
        *rows = 1;
    } else {
        char text[96];
        d3m_format_shape(text, sizeof text, positions->ndim, positions->shape);
        return d3m_fail(D3M_ERR_SHAPE, "particle positions have shape %s; expected [3, N] (row d "
                        "holds coordinate d, in Mpc/h) or [N, 3]", text);
    }
    return D3M_OK;
}


static int read_particles(const d3m_tensor *positions, const d3m_tensor *weights, double box,
                          float **xyzw)
{
    size_t count = 0;
    int rows = 0;
    D3M_TRY(particle_layout(positions, &count, &rows));
    if (count < 2)
        return d3m_fail(D3M_ERR_SHAPE, "%zu particles given; pair statistics need at least 2",
                        count);
    if (weights != NULL && weights->numel != count)
        return d3m_fail(D3M_ERR_SHAPE, "%zu weights given for %zu particles; give one weight "
                        "per particle", weights->numel, count);
    float *pos = malloc(3 * count * sizeof *pos);
    float *w = malloc(count * sizeof *w);
    *xyzw = malloc(4 * count * sizeof **xyzw);
    int status = (pos && w && *xyzw) ? D3M_OK
                                     : d3m_fail(D3M_ERR_MEMORY, "out of host memory for %zu "
                                                "particles", count);
    if (status == D3M_OK)
        status = d3m_tensor_read(positions, pos);
    if (status == D3M_OK && weights != NULL)
        status = d3m_tensor_read(weights, w);
    for (size_t p = 0; status == D3M_OK && p < count; p++) {
        for (int d = 0; d < 3; d++) {
            double x = rows ? pos[3 * p + (size_t)d] : pos[(size_t)d * count + p];
            if (!isfinite(x)) {
                status = d3m_fail(D3M_ERR_VALUE, "particle %zu has a non-finite coordinate %g",
                                  p, x);
                break;
            }
            x = fmod(x, box);
            if (x < 0.0)
                x += box;
            float fx = (float)x;
            (*xyzw)[4 * p + (size_t)d] = fx < (float)box ? fx : 0.0f;
        }
        (*xyzw)[4 * p + 3] = weights != NULL ? w[p] : 1.0f;
    }
    free(pos);
    free(w);
    if (status != D3M_OK) {
        free(*xyzw);
        *xyzw = NULL;
    }
    return status;
}


static int cell_coordinate(float x, double box, int nc)
{
    int c = (int)(x / box * nc);
    return c < 0 ? 0 : (c >= nc ? nc - 1 : c);
}


/* Counting sort of xyzw into cells; fills cells->host and the start offsets. */
static int sort_into_cells(const float *xyzw, d3m_cells *cells, int **start)
{
    int nc = cells->nc;
    size_t ncells = (size_t)nc * nc * nc, count = cells->count;
    *start = calloc(ncells + 1, sizeof **start);
    int *cell_of = malloc(count * sizeof *cell_of);
    cells->host = malloc(4 * count * sizeof *cells->host);
    if (*start == NULL || cell_of == NULL || cells->host == NULL) {
        free(cell_of);
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for cell lists of %zu particles",
                        count);
    }
    for (size_t p = 0; p < count; p++) {
        int cx = cell_coordinate(xyzw[4 * p], cells->box, nc);
        int cy = cell_coordinate(xyzw[4 * p + 1], cells->box, nc);
        int cz = cell_coordinate(xyzw[4 * p + 2], cells->box, nc);
        cell_of[p] = (cx * nc + cy) * nc + cz;
        (*start)[cell_of[p] + 1]++;
    }
    for (size_t c = 0; c < ncells; c++)
        (*start)[c + 1] += (*start)[c];
    int *next = malloc(ncells * sizeof *next);
    if (next == NULL) {
        free(cell_of);
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for cell lists");
    }
    memcpy(next, *start, ncells * sizeof *next);
    for (size_t p = 0; p < count; p++) {
        size_t slot = (size_t)next[cell_of[p]]++;
        memcpy(cells->host + 4 * slot, xyzw + 4 * p, 4 * sizeof(float));
    }
    free(next);
    free(cell_of);
    return D3M_OK;
}


static int upload(d3m_runtime *rt, const void *host, size_t bytes, cl_mem *out)
{
    cl_int code;
    *out = clCreateBuffer(rt->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes,
                          (void *)host, &code);
    if (code != CL_SUCCESS)
        return d3m_fail_cl("clCreateBuffer", code, NULL, "cell list of particles");
    return D3M_OK;
}


int d3m_cells_build(const d3m_tensor *positions, const d3m_tensor *weights, double box,
                    double r_max, d3m_cells *out)
{
    memset(out, 0, sizeof *out);
    if (!(r_max > 0.0) || r_max > 0.5 * box)
        return d3m_fail(D3M_ERR_ARG, "pair search radius %g must be in (0, box / 2 = %g]", r_max,
                        0.5 * box);
    d3m_runtime *rt = d3m_runtime_current();
    if (rt == NULL)
        return D3M_ERR_DEVICE;
    int rows;
    D3M_TRY(particle_layout(positions, &out->count, &rows));
    out->box = box;

    /* Cells of side >= r_max / 2, and not many more cells than particles. */
    int nc = (int)floor(2.0 * box / r_max);
    while (nc > 1 && (double)nc * nc * nc > 2.0 * (double)out->count + 8.0)
        nc--;
    out->nc = nc < 1 ? 1 : (nc > MAX_CELLS_PER_SIDE ? MAX_CELLS_PER_SIDE : nc);
    out->reach = (int)ceil(r_max / (box / out->nc));
    out->span = 2 * out->reach + 1 < out->nc ? 2 * out->reach + 1 : out->nc;

    float *xyzw = NULL;
    int *start = NULL;
    D3M_TRY(read_particles(positions, weights, box, &xyzw));
    int status = sort_into_cells(xyzw, out, &start);
    size_t ncells = (size_t)out->nc * out->nc * out->nc;
    if (status == D3M_OK)
        status = upload(rt, out->host, 4 * out->count * sizeof(float),
                        &out->positions);
    if (status == D3M_OK)
        status = upload(rt, start, (ncells + 1) * sizeof *start, &out->start);
    free(xyzw);
    free(start);
    if (status != D3M_OK)
        d3m_cells_free(out);
    return status;
}


void d3m_cells_free(d3m_cells *cells)
{
    free(cells->host);
    if (cells->positions != NULL)
        clReleaseMemObject(cells->positions);
    if (cells->start != NULL)
        clReleaseMemObject(cells->start);
    memset(cells, 0, sizeof *cells);
}
