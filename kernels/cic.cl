/* cic.cl - cloud-in-cell (CIC) painting of particles onto a periodic mesh,
 * CIC readout of meshes at particle positions, and conversions between
 * displacements on the particle lattice and positions.
 *
 * Particles come in a coordinate array [3, np], row d being the coordinate
 * along mesh axis d (axis 2 is the fastest in memory). With lattice_n = 0 the
 * coordinates are positions in Mpc/h; with lattice_n > 0 they are
 * displacements Psi from the lattice node q = (i0, i1, i2) box / lattice_n of
 * particle p = (i0 lattice_n + i1) lattice_n + i2. Any real coordinate is
 * wrapped into the periodic box. A mesh cell (j0, j1, j2) of an n^3 mesh has
 * its node at (j - shift) box / n, and CIC gives a particle at
 * u = x n / box + shift (in cell units) the weight prod_d (1 - |u_d - j_d|)
 * on the 8 nearest nodes. shift is 0 for the public paint and readout. */

/* Mesh coordinate u = x n / box + shift of particle p along axis d. In
 * lattice mode the node's part i n / lattice_n is added separately, so the
 * float rounding of a large position does not blur a small displacement. */
static float mesh_coordinate(__global const float *coords, const long np, const int d,
                             const long p, const int lattice_n, const float cells_per_length,
                             const float shift, const int n)
{
    float u = coords[d * np + p] * cells_per_length + shift;
    if (lattice_n > 0) {
        long stride = d == 0 ? (long)lattice_n * lattice_n : (d == 1 ? lattice_n : 1);
        long scaled = (p / stride) % lattice_n * n;
        u += (float)(scaled / lattice_n) + (float)(scaled % lattice_n) / (float)lattice_n;
    }
    return u;
}


/* Lower node index (wrapped into [0, n)) and the weight of the upper node. */
static int lower_node(const float u, const int n, float *upper_weight)
{
    float cell = floor(u);
    *upper_weight = u - cell;
    int j = (int)cell % n;
    return j < 0 ? j + n : j;
}


/* Painting accumulates in 64-bit fixed point with 32 fractional bits, as
 * a (low, high) pair of 32-bit words per cell, because integer additions
 * give the same sum in any order: the painted mesh is bit-identical from
 * run to run however the work-items interleave. A float compare-and-swap
 * loop would round differently in each order. 32-bit atomic_add is core in
 * OpenCL 1.1; 64-bit atomics are an extension, so the host defines
 * CIC_INT64_ATOMICS only on little-endian devices that have it, where the
 * pair is one 64-bit word. Otherwise the carry is added by hand. Both give
 * the same sums. Deposits of magnitude 2^-9 or more are exact; smaller
 * ones are rounded to 2^-32. Cell totals must stay below 2^31 in
 * magnitude. */
#ifdef CIC_INT64_ATOMICS
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
#endif

static void atomic_add_fixed(volatile __global uint *cell, const float value)
{
    long q = convert_long_rte(value * 4294967296.0f);
#ifdef CIC_INT64_ATOMICS
    atom_add((volatile __global long *)cell, q);
#else
    uint low = (uint)(q & 0xffffffffL);
    uint high = (uint)(q >> 32);
    uint old = atomic_add(&cell[0], low);
    uint carry = old + low < old ? 1u : 0u;
    atomic_add(&cell[1], high + carry);
#endif
}


/* Add each particle's mass to the 8 nodes around it. mass is the particle
 * mass, multiplied by masses[p] when has_masses is non-zero (masses is any
 * valid buffer otherwise). accumulator is [n, n, n, 2] fixed-point words
 * (see atomic_add_fixed), zeroed by the caller. */
__kernel void cic_paint(__global uint *accumulator, const int n, __global const float *coords,
                        const long np, const int lattice_n, const float cells_per_length,
                        const float shift, const float mass, __global const float *masses,
                        const int has_masses)
{
    long p = get_global_id(0);
    if (p >= np)
        return;

    float w[3];
    int j[3];
    for (int d = 0; d < 3; d++) {
        float u = mesh_coordinate(coords, np, d, p, lattice_n, cells_per_length, shift, n);
        j[d] = lower_node(u, n, &w[d]);
    }
    float m = has_masses ? mass * masses[p] : mass;

    for (int c = 0; c < 8; c++) {
        int s0 = (c >> 2) & 1, s1 = (c >> 1) & 1, s2 = c & 1;
        float weight = (s0 ? w[0] : 1.0f - w[0]) * (s1 ? w[1] : 1.0f - w[1]) *
                       (s2 ? w[2] : 1.0f - w[2]);
        if (weight == 0.0f)
            continue;   /* a particle on a node touches one cell only */
        int k0 = s0 && j[0] + 1 == n ? 0 : j[0] + s0;
        int k1 = s1 && j[1] + 1 == n ? 0 : j[1] + s1;
        int k2 = s2 && j[2] + 1 == n ? 0 : j[2] + s2;
        atomic_add_fixed(&accumulator[2 * (((long)k0 * n + k1) * n + k2)], m * weight);
    }
}


/* mesh[i] = the fixed-point accumulator of cell i as a float. */
__kernel void cic_fixed_to_float(__global float *mesh, __global const uint *accumulator,
                                 const long cells)
{
    long i = get_global_id(0);
    if (i >= cells)
        return;
    long q = (long)(((ulong)accumulator[2 * i + 1] << 32) | (ulong)accumulator[2 * i]);
    mesh[i] = convert_float(q) * 2.3283064365386963e-10f;   /* 2^-32 */
}


/* values[c, p] = sum over the 8 nodes around particle p of weight *
 * mesh[c, node], for the ncomp meshes stacked in mesh [ncomp, n, n, n]. */
__kernel void cic_readout(__global float *values, __global const float *mesh, const int ncomp,
                          const int n, __global const float *coords, const long np,
                          const int lattice_n, const float cells_per_length,
                          const float shift)
{
    long p = get_global_id(0);
    if (p >= np)
        return;

    float w[3];
    int j[3], k[3];
    for (int d = 0; d < 3; d++) {
        float u = mesh_coordinate(coords, np, d, p, lattice_n, cells_per_length, shift, n);
        j[d] = lower_node(u, n, &w[d]);
        k[d] = j[d] + 1 == n ? 0 : j[d] + 1;
    }

    /* The 8 weights and cells once, then one pass per stacked mesh. */
    float weight[8];
    long cell[8];
    for (int corner = 0; corner < 8; corner++) {
        int s0 = (corner >> 2) & 1, s1 = (corner >> 1) & 1, s2 = corner & 1;
        weight[corner] = (s0 ? w[0] : 1.0f - w[0]) * (s1 ? w[1] : 1.0f - w[1]) *
                         (s2 ? w[2] : 1.0f - w[2]);
        cell[corner] = ((long)(s0 ? k[0] : j[0]) * n + (s1 ? k[1] : j[1])) * n +
                       (s2 ? k[2] : j[2]);
    }

    long cells = (long)n * n * n;
    for (int c = 0; c < ncomp; c++) {
        __global const float *m = mesh + c * cells;
        float sum = 0.0f;
        for (int corner = 0; corner < 8; corner++)
            sum += weight[corner] * m[cell[corner]];
        values[c * np + p] = sum;
    }
}


/* positions[d, p] = q_d(p) + scale * displacement[d, p], wrapped into
 * [0, box). Both arrays are [3, lattice_n^3]. */
__kernel void cic_lattice_positions(__global float *positions,
                                    __global const float *displacement, const int lattice_n,
                                    const float box, const float scale)
{
    long p = get_global_id(0);
    long np = (long)lattice_n * lattice_n * lattice_n;
    if (p >= np)
        return;

    long index[3] = {p / ((long)lattice_n * lattice_n), (p / lattice_n) % lattice_n,
                     p % lattice_n};
    for (int d = 0; d < 3; d++) {
        float x = (float)index[d] * (box / (float)lattice_n) + scale * displacement[d * np + p];
        x -= box * floor(x / box);
        /* x / box just below 1 can round the subtraction up to box itself. */
        positions[d * np + p] = x < box ? x : 0.0f;
    }
}


/* displacement[d, p] = x_d(p) - q_d(p), wrapped into [-box/2, box/2), where
 * x is a position (lattice_n_of_input = 0) or an unwrapped displacement
 * (lattice_n_of_input > 0, so the node's part cancels). Both arrays are
 * [3, lattice_n^3]. */
__kernel void cic_lattice_displacement(__global float *displacement,
                                       __global const float *coords, const int lattice_n,
                                       const int input_is_displacement, const float box)
{
    long p = get_global_id(0);
    long np = (long)lattice_n * lattice_n * lattice_n;
    if (p >= np)
        return;

    long index[3] = {p / ((long)lattice_n * lattice_n), (p / lattice_n) % lattice_n,
                     p % lattice_n};
    for (int d = 0; d < 3; d++) {
        float psi = coords[d * np + p];
        if (!input_is_displacement)
            psi -= (float)index[d] * (box / (float)lattice_n);
        psi -= box * floor(psi / box + 0.5f);
        displacement[d * np + p] = psi < 0.5f * box ? psi : psi - box;
    }
}
