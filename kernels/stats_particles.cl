/* stats_particles.cl - per-particle quantities of displacement fields
 * [S, 3, n^3] (component d along mesh axis d): positions q + Psi and the
 * point-wise relative displacement error. */

/* Positions [3, n^3] = q + Psi wrapped into [0, box), q = (i, j, k) box / n. */
__kernel void stats_positions(__global float *out, __global const float *disp, const int n,
                              const float box)
{
    int p = get_global_id(0);
    int cells = n * n * n;
    if (p >= cells)
        return;
    int q[3] = {p / (n * n), (p / n) % n, p % n};
    for (int d = 0; d < 3; d++) {
        float x = q[d] * (box / n) + disp[d * cells + p];
        x -= box * floor(x / box);
        out[d * cells + p] = x < box ? x : 0.0f;   /* x == box after rounding of tiny negatives */
    }
}


/* out[s count + i] = |pred - truth| / |truth| of particle i of simulation s,
 * or -1 where |truth| = 0 (NaN stays NaN). */
__kernel void stats_pointwise_error(__global float *out, __global const float *pred,
                                    __global const float *truth, const long count,
                                    const long total)
{
    long index = get_global_id(0);
    if (index >= total)
        return;
    long s = index / count, i = index % count;
    float diff2 = 0.0f, norm2 = 0.0f;
    for (int d = 0; d < 3; d++) {
        long k = (s * 3 + d) * count + i;
        float e = pred[k] - truth[k];
        diff2 += e * e;
        norm2 += truth[k] * truth[k];
    }
    out[index] = norm2 == 0.0f ? -1.0f : sqrt(diff2 / norm2);
}
