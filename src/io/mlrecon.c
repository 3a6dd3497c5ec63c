/* mlrecon.c - import of ML-Recon's per-simulation .npy files, (n, n, n, 10)
 * channels last, into the channels-first training-set layout. The channel
 * and axis conventions are documented in io.h. */
#include <stdlib.h>

#include "io/io_internal.h"

enum { MLRECON_CHANNELS = 10, MLRECON_ZA = 1, MLRECON_LPT2 = 4, MLRECON_FASTPM = 7 };


void d3m_mlrecon_split(const float *sample, size_t n, double scale, float *za, float *lpt2,
                       float *fastpm)
{
    size_t cells = n * n * n;
    float factor = (float)scale;
    for (size_t cell = 0; cell < cells; cell++) {
        const float *channels = sample + cell * MLRECON_CHANNELS;
        for (size_t d = 0; d < 3; d++) {
            za[d * cells + cell] = factor * channels[MLRECON_ZA + d];
            lpt2[d * cells + cell] = factor * channels[MLRECON_LPT2 + d];
            fastpm[d * cells + cell] = factor * channels[MLRECON_FASTPM + d];
        }
    }
}


static int check_mlrecon_shape(const char *path, const d3m_npy_array *array, size_t n)
{
    int ok = array->ndim == 4 && array->shape[3] == MLRECON_CHANNELS &&
             array->shape[0] == n && array->shape[1] == n && array->shape[2] == n;
    if (ok)
        return D3M_OK;
    char shape[128];
    d3m_format_shape(shape, sizeof shape, array->ndim, array->shape);
    return d3m_fail(D3M_ERR_SHAPE, "ML-Recon file '%s' has shape %s; expected (%zu, %zu, %zu, "
                    "%d): n^3 particles, channels last (density, 3 ZA, 3 2LPT, 3 FastPM)",
                    path, shape, n, n, n, MLRECON_CHANNELS);
}


int d3m_mlrecon_append(d3m_samples *s, const char *npy_path, int64_t seed, double scale)
{
    d3m_npy_array array;
    D3M_TRY(d3m_npy_read(npy_path, &array));
    size_t n = d3m_samples_n(s);
    int status = check_mlrecon_shape(npy_path, &array, n);
    if (status == D3M_OK && array.dtype == D3M_NPY_INT64)
        status = d3m_fail(D3M_ERR_ARG, "ML-Recon file '%s' holds int64 data; float32 or "
                          "float64 displacements expected", npy_path);

    size_t cells = n * n * n;
    float *sample = NULL, *fields = NULL;
    if (status == D3M_OK) {
        sample = malloc(array.count * sizeof *sample);
        fields = malloc(9 * cells * sizeof *fields);
        if (sample == NULL || fields == NULL)
            status = d3m_fail(D3M_ERR_MEMORY, "out of host memory importing '%s'", npy_path);
    }
    if (status == D3M_OK) {
        d3m_npy_to_floats(&array, sample);
        d3m_mlrecon_split(sample, n, scale, fields, fields + 3 * cells, fields + 6 * cells);
        status = d3m_samples_append(s, fields, fields + 3 * cells, fields + 6 * cells, seed);
        if (status != D3M_OK) {
            char reason[4096];
            snprintf(reason, sizeof reason, "%s", d3m_last_error());
            status = d3m_fail(status, "importing ML-Recon file '%s': %s", npy_path, reason);
        }
    }
    free(fields);
    free(sample);
    d3m_npy_free(&array);
    return status;
}
