/* fftw_r2c.c - reference time of FFTW's single-precision 3D r2c transform
 * (FFTW_MEASURE plan, as many threads as cores). Built by scripts/bench.lua
 * with `cc -O2 fftw_r2c.c -lfftw3f_threads -lfftw3f -lm`; prints the median
 * milliseconds of `repeats` runs.  Usage: fftw_r2c n [repeats threads] */
#include <fftw3.h>
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
    int n = argc > 1 ? atoi(argv[1]) : 128;
    int repeats = argc > 2 ? atoi(argv[2]) : 7;
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    if (repeats > 64)
        repeats = 64;
    fftwf_init_threads();
    fftwf_plan_with_nthreads(threads);

    size_t cells = (size_t)n * n * n, modes = (size_t)n * n * (n / 2 + 1);
    float *real = fftwf_malloc(sizeof(float) * cells);
    fftwf_complex *spectrum = fftwf_malloc(sizeof(fftwf_complex) * modes);
    fftwf_plan plan = fftwf_plan_dft_r2c_3d(n, n, n, real, spectrum, FFTW_MEASURE);
    for (size_t i = 0; i < cells; i++)
        real[i] = (float)(i % 11) * 0.1f;

    double times[64];
    for (int r = 0; r < repeats; r++) {
        double start = now();
        fftwf_execute(plan);
        times[r] = now() - start;
    }
    qsort(times, (size_t)repeats, sizeof times[0], compare);
    printf("%.3f\n", times[repeats / 2] * 1e3);
    fftwf_destroy_plan(plan);
    fftwf_free(real);
    fftwf_free(spectrum);
    fftwf_cleanup_threads();
    return 0;
}
