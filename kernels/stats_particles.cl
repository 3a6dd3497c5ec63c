/* stats_particles.cl - the point-wise relative displacement error of
 * displacement fields [S, 3, n^3] (component d along mesh axis d). */

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
