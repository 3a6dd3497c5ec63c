/* conv_bench.c - the FP32 FMA rate the convolution benchmark compares
 * against: the best of three runs of the runtime's FMA microbenchmark
 * (d3m_bench_fma, kernels/microbench.cl). */
#include "nn/conv.h"
#include "runtime/microbench.h"
#include "runtime/runtime.h"

#define PEAK_ITERATIONS 4096


int d3m_conv_measure_fma_peak(size_t work_items, double *gflops)
{
    double best = 0.0;
    for (int run = 0; run < 3; run++) {
        double rate = 0.0;
        D3M_TRY(d3m_bench_fma(work_items, PEAK_ITERATIONS, &rate));
        if (rate > best)
            best = rate;
    }
    *gflops = best;
    return D3M_OK;
}
