/* microbench.cl - kernels that measure the device's limits: peak float32
 * FMA rate and copy bandwidth. */

/* Each work-item runs `iterations` rounds of 8 independent float8 FMA
 * chains: 8 chains x 8 lanes x 2 flops = 128 flops per round. The chains
 * are independent so the FMA latency is hidden; the result is stored so the
 * compiler cannot drop the work. */
__kernel void fma_peak(__global float *out, const int iterations, const float seed)
{
    float8 a0 = (float8)(seed), a1 = a0 + 1.0f, a2 = a0 + 2.0f, a3 = a0 + 3.0f;
    float8 a4 = a0 + 4.0f, a5 = a0 + 5.0f, a6 = a0 + 6.0f, a7 = a0 + 7.0f;
    const float8 m = (float8)(0.999999f), c = (float8)(1e-7f);
    for (int i = 0; i < iterations; i++) {
        a0 = fma(a0, m, c);
        a1 = fma(a1, m, c);
        a2 = fma(a2, m, c);
        a3 = fma(a3, m, c);
        a4 = fma(a4, m, c);
        a5 = fma(a5, m, c);
        a6 = fma(a6, m, c);
        a7 = fma(a7, m, c);
    }
    float8 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    out[get_global_id(0)] = s.s0 + s.s1 + s.s2 + s.s3 + s.s4 + s.s5 + s.s6 + s.s7;
}

/* out = in, float4 per work-item (n4 float4 elements). */
__kernel void copy_bandwidth(__global const float4 *in, __global float4 *out, const long n4)
{
    long i = get_global_id(0);
    if (i < n4)
        out[i] = in[i];
}
