/* microbench.h - measured device limits for the benchmark tables. */
#ifndef D3M_MICROBENCH_H
#define D3M_MICROBENCH_H

#include <stddef.h>

/* Float32 FMA rate in GFLOP/s (an FMA counts as 2 flops) from work_items
 * items each doing `iterations` rounds of 128 flops. */
int d3m_bench_fma(size_t work_items, int iterations, double *gflops);

/* Copy bandwidth in GB/s (bytes read plus bytes written, 1e9 bytes) over
 * `repeats` copies of an array of `floats` floats. */
int d3m_bench_copy(size_t floats, int repeats, double *gbytes_per_second);

#endif
