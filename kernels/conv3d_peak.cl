/* conv3d_peak.cl - a kernel of independent float16 fused multiply-adds
 * that measures the device's FP32 FMA rate, the ceiling the convolution
 * benchmark (scripts/bench_conv.lua) compares against. */

/* Every work-item runs iterations x 8 float16 FMAs (32 FLOP each) in 8
 * independent chains, enough to cover the FMA latency of current CPUs and
 * GPUs. The chains are named variables because PoCL keeps a private array
 * in memory. One float is written so the compiler cannot drop the work. */
__kernel void conv3d_fma_peak(__global float *out, const int iterations, const float factor)
{
    const float16 m = (float16)(factor), c = (float16)(1e-3f);
    const float start = (float)get_global_id(0) * 1e-6f;
    float16 a0 = (float16)(start), a1 = a0 + 1.0f, a2 = a0 + 2.0f, a3 = a0 + 3.0f;
    float16 a4 = a0 + 4.0f, a5 = a0 + 5.0f, a6 = a0 + 6.0f, a7 = a0 + 7.0f;
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
    const float16 total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    out[get_global_id(0)] = total.s0 + total.s5 + total.sa + total.sf;
}
