/* conv_bench.c - measurements for the convolution benchmark: the FP32 FMA
 * rate of the device (kernel in kernels/conv3d_peak.cl). */
#include <time.h>

#include "nn/conv.h"
#include "runtime/runtime.h"

#define PEAK_ITERATIONS 4096
#define PEAK_CHAINS 8              /* float16 chains per work-item in conv3d_peak.cl */
#define PEAK_FLOP_PER_FMA 32.0     /* 16 lanes x (multiply + add) */


static double wall_clock(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}


int d3m_conv_measure_fma_peak(size_t work_items, double *gflops)
{
    size_t shape[1] = {work_items};
    d3m_tensor *out = NULL;
    D3M_TRY(d3m_tensor_new(1, shape, &out));

    double best = 0.0;
    int status = D3M_OK;
    /* The first launch builds and warms up; the best of the others counts. */
    for (int run = 0; run < 4 && status == D3M_OK; run++) {
        double start = wall_clock();
        status = d3m_launch("conv3d_peak.cl", "conv3d_fma_peak", NULL, 1, &work_items, NULL,
                            "tif", out, PEAK_ITERATIONS, 0.999);
        if (status == D3M_OK)
            status = d3m_finish();
        double seconds = wall_clock() - start;
        double rate = (double)work_items * PEAK_ITERATIONS * PEAK_CHAINS * PEAK_FLOP_PER_FMA /
                      seconds * 1e-9;
        if (run > 0 && rate > best)
            best = rate;
    }
    d3m_tensor_free(out);
    *gflops = best;
    return status;
}
