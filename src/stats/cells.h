/* cells.h - cell lists of particles in a periodic box for the pair kernels
 * in kernels/stats_pairs.cl (internal to src/stats). */
#ifndef D3M_STATS_CELLS_H
#define D3M_STATS_CELLS_H

#include "runtime/runtime.h"

/* Particles sorted by cell. Cell (cx, cy, cz) has index (cx nc + cy) nc + cz
 * and contains the sorted particles start[c] .. start[c + 1] - 1. A primary visits
 * the span = min(2 reach + 1, nc) cells per axis around its own cell, which
 * covers every separation up to r_max exactly once. */
typedef struct d3m_cells {
    size_t count;
    int nc, reach, span;
    double box;
    float *host;          /* [count, 4]: x, y, z in [0, box), weight */
    cl_mem positions;     /* device copy of host, float4 */
    cl_mem start;         /* int [nc^3 + 1] */
} d3m_cells;

/* Sort positions [3, N] or [N, 3] (weights [N] or NULL for 1) into cells of side at
 * least r_max / 2. r_max must be in (0, box / 2]. */
int d3m_cells_build(const d3m_tensor *positions, const d3m_tensor *weights, double box,
                    double r_max, d3m_cells *out);

void d3m_cells_free(d3m_cells *cells);

/* Check that edges (nbins + 1 ascending values, the first >= 0) end at or
 * below box / 2, the largest separation the minimum image defines. */
int d3m_check_radial_edges(const double *edges, int nbins, double box, const char *what);

/* Squared edges as floats in a new device buffer (at most 256 bins). */
int d3m_stats_upload_edges2(const double *edges, int nbins, cl_mem *out);

#endif
