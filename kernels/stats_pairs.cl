/* stats_pairs.cl - pair statistics of particles in a periodic box, walking
 * the cell lists built by src/stats/cells.c: pair counts for xi(r), the
 * spherical-harmonic sums a_lm of the 3PCF multipoles, and the shell
 * kernels of the mesh 3PCF. Positions are float4 (x, y, z, weight) in
 * [0, box); cell (cx, cy, cz) has index (cx nc + cy) nc + cz. */

#ifndef LMAX
#define LMAX 10
#endif
#define NLM ((LMAX + 1) * (LMAX + 2) / 2)
#ifndef NBINS
#define NBINS 10
#endif

/* Index of (l, m), 0 <= m <= l, in the triangular a_lm layout. */
#define LM(l, m) ((l) * ((l) + 1) / 2 + (m))


static float minimum_image(float d, float box)
{
    if (d > 0.5f * box)
        d -= box;
    else if (d < -0.5f * box)
        d += box;
    return d;
}


/* Bin of squared separation r2 in edges2 (squared edges), or -1. */
static int radial_bin(float r2, __global const float *edges2, int nbins)
{
    if (r2 < edges2[0] || r2 >= edges2[nbins])
        return -1;
    int b = 0;
    while (r2 >= edges2[b + 1])
        b++;
    return b;
}


static int wrap_cell(int c, int nc)
{
    c %= nc;
    return c < 0 ? c + nc : c;
}


static int cell_of(float x, float box, int nc)
{
    int c = (int)(x / box * nc);
    return clamp(c, 0, nc - 1);
}


/* Ordered pair counts and separation sums of primaries p = first + i,
 * i < n: counts[i nbins + b] and rsum[i nbins + b]. */
__kernel void xi_pair_counts(__global const float4 *pos, __global const int *start, const int nc,
                             const int reach, const int span, const float box,
                             __global const float *edges2, const int nbins, const int first,
                             const int n, __global uint *counts, __global float *rsum)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int p = first + i;
    counts += (size_t)i * nbins;
    rsum += (size_t)i * nbins;
    for (int b = 0; b < nbins; b++) {
        counts[b] = 0;
        rsum[b] = 0.0f;
    }
    float4 me = pos[p];
    int cx = cell_of(me.x, box, nc), cy = cell_of(me.y, box, nc), cz = cell_of(me.z, box, nc);
    for (int ox = 0; ox < span; ox++)
        for (int oy = 0; oy < span; oy++)
            for (int oz = 0; oz < span; oz++) {
                int c = (wrap_cell(cx - reach + ox, nc) * nc + wrap_cell(cy - reach + oy, nc)) * nc +
                        wrap_cell(cz - reach + oz, nc);
                for (int j = start[c]; j < start[c + 1]; j++) {
                    if (j == p)
                        continue;
                    float4 other = pos[j];
                    float dx = minimum_image(other.x - me.x, box);
                    float dy = minimum_image(other.y - me.y, box);
                    float dz = minimum_image(other.z - me.z, box);
                    float r2 = dx * dx + dy * dy + dz * dz;
                    int b = radial_bin(r2, edges2, nbins);
                    if (b < 0)
                        continue;
                    counts[b] += 1;
                    rsum[b] += sqrt(r2);
                }
            }
}


/*
 * Add w Y_lm(x, y, z) for 0 <= m <= l <= LMAX to alm (complex pairs in the
 * LM layout); (x, y, z) is a unit vector. Fully normalised associated
 * Legendre functions by the standard recurrences in l at fixed m:
 *   Q_mm = qmm[m] (the sin^m theta factor is carried by u^m below),
 *   Q_{m+1,m} = sqrt(2m + 3) z Q_mm,
 *   Q_lm = A_lm (z Q_{l-1,m} - B_lm Q_{l-2,m}),
 * with A_lm = sqrt((4l^2 - 1) / (l^2 - m^2)) and B_lm = 1 / A_{l-1,m}
 * tabulated by the host; Y_lm = Q_lm (x + i y)^m, which equals
 * Pbar_lm(cos theta) e^{i m phi} without dividing by sin theta.
 */
static void add_ylm(float *alm, float w, float x, float y, float z,
                    __global const float *qmm, __global const float *coef_a,
                    __global const float *coef_b)
{
    float ur = 1.0f, ui = 0.0f;   /* (x + i y)^m */
    for (int m = 0; m <= LMAX; m++) {
        float q2 = 0.0f, q1 = qmm[m];
        float wr = w * ur, wi = w * ui;
        alm[2 * LM(m, m)] += q1 * wr;
        alm[2 * LM(m, m) + 1] += q1 * wi;
        if (m < LMAX) {
            float q = sqrt(2.0f * m + 3.0f) * z * q1;
            alm[2 * LM(m + 1, m)] += q * wr;
            alm[2 * LM(m + 1, m) + 1] += q * wi;
            q2 = q1;
            q1 = q;
        }
        for (int l = m + 2; l <= LMAX; l++) {
            float q = coef_a[LM(l, m)] * (z * q1 - coef_b[LM(l, m)] * q2);
            alm[2 * LM(l, m)] += q * wr;
            alm[2 * LM(l, m) + 1] += q * wi;
            q2 = q1;
            q1 = q;
        }
        float tr = ur * x - ui * y;
        ui = ur * y + ui * x;
        ur = tr;
    }
}


/*
 * a_lm(b) = sum over secondaries j in radial bin b of w_j Y_lm(r_hat_pj)
 * for primaries p = first .. first + n - 1. Row p - first of out has
 * nbins (= NBINS) blocks of stride (= 2 NLM + 1) floats: the complex a_lm
 * for m >= 0, then sum w_j^2 (for removing self terms). Pairs at r = 0 are
 * skipped. The sums run in a private array, which on PoCL (2 cores, 32^3
 * particles) was 1.7 times faster than adding into the global row.
 * NOTE: on GPUs this array spills out of registers; a work-group per
 * primary with the a_lm in local memory would suit them better.
 */
__kernel void zeta_alm(__global const float4 *pos, __global const int *start, const int nc,
                       const int reach, const int span, const float box,
                       __global const float *edges2, const int nbins, const int first,
                       const int n, const int stride, __global const float *qmm,
                       __global const float *coef_a, __global const float *coef_b,
                       __global float *out)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int p = first + i;
    float acc[NBINS * (2 * NLM + 1)];
    for (int k = 0; k < NBINS * (2 * NLM + 1); k++)
        acc[k] = 0.0f;
    float4 me = pos[p];
    int cx = cell_of(me.x, box, nc), cy = cell_of(me.y, box, nc), cz = cell_of(me.z, box, nc);
    for (int ox = 0; ox < span; ox++)
        for (int oy = 0; oy < span; oy++)
            for (int oz = 0; oz < span; oz++) {
                int c = (wrap_cell(cx - reach + ox, nc) * nc + wrap_cell(cy - reach + oy, nc)) * nc +
                        wrap_cell(cz - reach + oz, nc);
                for (int j = start[c]; j < start[c + 1]; j++) {
                    float4 other = pos[j];
                    float dx = minimum_image(other.x - me.x, box);
                    float dy = minimum_image(other.y - me.y, box);
                    float dz = minimum_image(other.z - me.z, box);
                    float r2 = dx * dx + dy * dy + dz * dz;
                    if (j == p || r2 == 0.0f)
                        continue;
                    int b = radial_bin(r2, edges2, nbins);
                    if (b < 0)
                        continue;
                    float inv = rsqrt(r2);
                    float *block = acc + b * (2 * NLM + 1);
                    add_ylm(block, other.w, dx * inv, dy * inv, dz * inv, qmm, coef_a, coef_b);
                    block[2 * NLM] += other.w * other.w;
                }
            }
    __global float *row = out + (size_t)i * nbins * stride;
    for (int k = 0; k < NBINS * (2 * NLM + 1); k++)
        row[k] = acc[k];
}


/*
 * Shell kernel of the mesh 3PCF on an n^3 mesh of cell side h: at each
 * mesh separation r (minimum image) with lo2 <= |r|^2 < hi2 and r != 0,
 * the real (part 0) or imaginary (part 1) part of Y_lm(r_hat); zero
 * elsewhere.
 */
__kernel void zeta_shell_kernel(__global float *out, const int n, const float h, const float lo2,
                                const float hi2, const int l, const int m, const int part,
                                __global const float *qmm, __global const float *coef_a,
                                __global const float *coef_b)
{
    int index = get_global_id(0);
    if (index >= n * n * n)
        return;
    int i = index / (n * n), j = (index / n) % n, k = index % n;
    float dx = h * (i <= n / 2 ? i : i - n);
    float dy = h * (j <= n / 2 ? j : j - n);
    float dz = h * (k <= n / 2 ? k : k - n);
    float r2 = dx * dx + dy * dy + dz * dz;
    float value = 0.0f;
    if (r2 > 0.0f && r2 >= lo2 && r2 < hi2) {
        float inv = rsqrt(r2);
        float x = dx * inv, y = dy * inv, z = dz * inv;
        float ur = 1.0f, ui = 0.0f;
        for (int s = 0; s < m; s++) {
            float tr = ur * x - ui * y;
            ui = ur * y + ui * x;
            ur = tr;
        }
        float q2 = 0.0f, q1 = qmm[m];
        if (l > m) {
            float q = sqrt(2.0f * m + 3.0f) * z * q1;
            q2 = q1;
            q1 = q;
        }
        for (int s = m + 2; s <= l; s++) {
            float q = coef_a[LM(s, m)] * (z * q1 - coef_b[LM(s, m)] * q2);
            q2 = q1;
            q1 = q;
        }
        value = part == 0 ? q1 * ur : q1 * ui;
    }
    out[index] = value;
}


/* out = a conj(b) for count complex values (interleaved re, im). */
__kernel void zeta_multiply_conj(__global float *out, __global const float *a,
                                 __global const float *b, const int count)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    float ar = a[2 * i], ai = a[2 * i + 1], br = b[2 * i], bi = b[2 * i + 1];
    out[2 * i] = ar * br + ai * bi;
    out[2 * i + 1] = ai * br - ar * bi;
}
