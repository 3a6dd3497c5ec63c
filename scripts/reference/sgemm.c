/* sgemm.c - reference rate of OpenBLAS SGEMM for the matrix product an
 * im2col 3x3x3 convolution would use (64 -> 64 channels on 32^3 voxels:
 * M = 64, N = 32768, K = 64 * 27 = 1728). Built by scripts/bench.lua with
 * `cc -O2 sgemm.c -lopenblas`; prints the median GFLOP/s of `repeats` runs
 * after one warm-up.  Usage: sgemm [M N K repeats] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int m = argc > 4 ? atoi(argv[1]) : 64, n = argc > 4 ? atoi(argv[2]) : 32768;
    int k = argc > 4 ? atoi(argv[3]) : 1728, repeats = argc > 4 ? atoi(argv[4]) : 7;
    float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
    float *c = malloc(sizeof(float) * (size_t)m * n);
    for (size_t i = 0; i < (size_t)m * k; i++)
        a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)k * n; i++)
        b[i] = (float)(i % 5) * 0.1f;

    double times[64];
    if (repeats > 64)
        repeats = 64;
    for (int r = -1; r < repeats; r++) {
        double start = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        if (r >= 0)
            times[r] = now() - start;
    }
    qsort(times, (size_t)repeats, sizeof times[0], compare);
    printf("%.2f\n", 2.0 * m * n * k / times[repeats / 2] * 1e-9);
    free(a);
    free(b);
    free(c);
    return 0;
}
