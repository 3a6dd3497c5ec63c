/* microbench.c - device limits for the benchmarks: peak FMA rate and copy
 * bandwidth (kernels/microbench.cl). Timings are wall-clock around a
 * finished queue. */
#include <time.h>

#include "runtime.h"
#include "microbench.h"

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


int d3m_bench_fma(size_t work_items, int iterations, double *gflops)
{
    size_t shape[1] = {work_items};
    d3m_tensor *out = NULL;
    D3M_TRY(d3m_tensor_new(1, shape, &out));

    size_t global = work_items, local = 64;
    int status = d3m_launch("microbench.cl", "fma_peak", NULL, 1, &global, &local, "tif", out, 1,
                            0.5);   /* warm-up: builds the program */
    if (status == D3M_OK)
        status = d3m_finish();
    double start = seconds_now();
    if (status == D3M_OK)
        status = d3m_launch("microbench.cl", "fma_peak", NULL, 1, &global, &local, "tif", out,
                            iterations, 0.5);
    if (status == D3M_OK)
        status = d3m_finish();
    double elapsed = seconds_now() - start;
    d3m_tensor_free(out);
    D3M_TRY(status);
    *gflops = 128.0 * (double)iterations * (double)global / elapsed * 1e-9;
    return D3M_OK;
}


int d3m_bench_copy(size_t floats, int repeats, double *gbytes_per_second)
{
    floats = d3m_round_up(floats, 4);
    size_t shape[1] = {floats};
    d3m_tensor *in = NULL, *out = NULL;
    D3M_TRY(d3m_tensor_new(1, shape, &in));
    int status = d3m_tensor_new(1, shape, &out);
    if (status == D3M_OK)
        status = d3m_tensor_fill(in, 1.0f);

    size_t n4 = floats / 4, global = d3m_round_up(n4, 64), local = 64;
    if (status == D3M_OK)
        status = d3m_launch("microbench.cl", "copy_bandwidth", NULL, 1, &global, &local, "ttl", in,
                            out, (long long)n4);
    if (status == D3M_OK)
        status = d3m_finish();
    double start = seconds_now();
    for (int r = 0; r < repeats && status == D3M_OK; r++)
        status = d3m_launch("microbench.cl", "copy_bandwidth", NULL, 1, &global, &local, "ttl", in,
                            out, (long long)n4);
    if (status == D3M_OK)
        status = d3m_finish();
    double elapsed = seconds_now() - start;
    d3m_tensor_free(in);
    d3m_tensor_free(out);
    D3M_TRY(status);
    /* Each copy reads and writes every byte once. */
    *gbytes_per_second = 2.0 * (double)floats * sizeof(float) * repeats / elapsed * 1e-9;
    return D3M_OK;
}
