/* samples.c - training-set files: /za, /lpt2, /fastpm [N, 3, n, n, n] and
 * /seed [N]. Samples are appended and flushed one at a time. A killed run
 * loses the sample in flight, and a reopen resumes after the last complete
 * one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_internal.h"

const char *const d3m_sample_fields[3] = {"za", "lpt2", "fastpm"};

struct d3m_samples {
    d3m_h5file *file;
    size_t n;
    size_t count;
    int read_only;
};


static size_t sample_floats(size_t n)
{
    return 3 * n * n * n;
}


/* ---- creating ---------------------------------------------------------------------- */

/* Write the empty datasets and the root attributes to a temporary file and
 * rename it to path, so a crash never leaves a file with half a layout. */
static int create_file(const char *path, const d3m_samples_options *options)
{
    if (options->n == 0 || !(options->box_size > 0))
        return d3m_fail(D3M_ERR_ARG, "training set '%s' does not exist, and creating it needs "
                        "the particles per side n (got %zu) and a positive box size in Mpc/h "
                        "(got %g)", path, options->n, options->box_size);

    d3m_h5file *f = NULL;
    D3M_TRY(d3m_h5_create_atomic(path, &f));
    size_t n = options->n;
    size_t field_shape[4] = {3, n, n, n};
    int status = D3M_OK;
    for (int i = 0; i < 3 && status == D3M_OK; i++)
        status = d3m_h5_create_samples(f, d3m_sample_fields[i], 4, field_shape, D3M_H5_FLOAT,
                                       options->gzip_level);
    if (status == D3M_OK)
        status = d3m_h5_create_samples(f, "seed", 0, NULL, D3M_H5_INTEGER, 0);

    int64_t n_value = (int64_t)n;
    char version[64];
    snprintf(version, sizeof version, "d3m %s", d3m_version());
    if (status == D3M_OK)
        status = d3m_h5_set_attr_numbers(f, "/", "box_size", &options->box_size, 1, 0);
    if (status == D3M_OK)
        status = d3m_h5_set_attr_integers(f, "/", "n", &n_value, 1, 0);
    if (status == D3M_OK)
        status = d3m_h5_set_attr_string(f, "/", "software_version", version);
    if (status == D3M_OK)
        status = d3m_h5_commit(f);
    int closed = d3m_h5_close(f);
    return status != D3M_OK ? status : closed;
}


/* ---- reopening ------------------------------------------------------------------- */

/* Check that field is a float dataset [N, 3, n, n, n] (n from the first
 * field when *n is 0) and return N. */
static int check_field(d3m_h5file *f, const char *field, size_t *n, size_t *length)
{
    d3m_h5_info info;
    D3M_TRY(d3m_h5_info_of(f, field, &info));
    char shape[128];
    d3m_format_shape(shape, sizeof shape, info.ndim, info.shape);
    if (info.type_class != D3M_H5_FLOAT)
        return d3m_fail(D3M_ERR_ARG, "dataset '/%s' in '%s' has dtype %s; a training set "
                        "stores displacements as float32", field, d3m_h5_path(f),
                        d3m_h5_type_name(&info));
    int cubic = info.ndim == 5 && info.shape[1] == 3 && info.shape[2] == info.shape[3] &&
                info.shape[3] == info.shape[4];
    if (!cubic || !info.extendible)
        return d3m_fail(D3M_ERR_SHAPE, "dataset '/%s' in '%s' has shape %s%s; a training set "
                        "needs [N, 3, n, n, n] with an unlimited first dimension", field,
                        d3m_h5_path(f), shape, info.extendible ? "" : " (fixed size)");
    if (*n == 0)
        *n = info.shape[2];
    if (info.shape[2] != *n)
        return d3m_fail(D3M_ERR_SHAPE, "dataset '/%s' in '%s' has shape %s, but n = %zu was "
                        "expected; use a file made with the same n", field, d3m_h5_path(f),
                        shape, *n);
    *length = info.shape[0];
    return D3M_OK;
}


static int check_seed(d3m_h5file *f, size_t *length)
{
    d3m_h5_info info;
    D3M_TRY(d3m_h5_info_of(f, "seed", &info));
    if (info.type_class != D3M_H5_INTEGER)
        return d3m_fail(D3M_ERR_ARG, "dataset '/seed' in '%s' has dtype %s; int64 expected",
                        d3m_h5_path(f), d3m_h5_type_name(&info));
    if (info.ndim != 1 || !info.extendible) {
        char shape[128];
        d3m_format_shape(shape, sizeof shape, info.ndim, info.shape);
        return d3m_fail(D3M_ERR_SHAPE, "dataset '/seed' in '%s' has shape %s; [N] with an "
                        "unlimited dimension expected", d3m_h5_path(f), shape);
    }
    *length = info.shape[0];
    return D3M_OK;
}


/* Fail unless all four datasets exist, listing what the file has. */
static int check_layout_present(d3m_h5file *f)
{
    const char *names[4] = {"za", "lpt2", "fastpm", "seed"};
    char missing[64] = "";
    for (int i = 0; i < 4; i++) {
        int kind = 0;
        D3M_TRY(d3m_h5_exists(f, names[i], &kind));
        if (kind != 1)
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s/%s",
                     missing[0] ? ", " : "", names[i]);
    }
    if (missing[0] == '\0')
        return D3M_OK;
    char contents[2048];
    d3m_h5_describe_contents(f, contents, sizeof contents);
    return d3m_fail(D3M_ERR_IO, "'%s' is not a d3m training set: dataset(s) %s not found; the "
                    "file contains %s; choose another path or remove the file",
                    d3m_h5_path(f), missing, contents);
}


/* Count the complete samples and, when writing, cut every dataset back to
 * that count so that a half-written sample is dropped. */
static int reconcile(d3m_samples *s, double box_size)
{
    D3M_TRY(check_layout_present(s->file));
    size_t lengths[4];
    for (int i = 0; i < 3; i++)
        D3M_TRY(check_field(s->file, d3m_sample_fields[i], &s->n, &lengths[i]));
    D3M_TRY(check_seed(s->file, &lengths[3]));

    if (box_size > 0) {
        d3m_attr *attrs = NULL;
        int count = 0;
        D3M_TRY(d3m_h5_attributes(s->file, "/", &attrs, &count));
        for (int i = 0; i < count; i++) {
            if (strcmp(attrs[i].name, "box_size") != 0 || attrs[i].type != D3M_ATTR_FLOAT)
                continue;
            double stored = attrs[i].numbers[0];
            d3m_attrs_free(attrs, count);
            if (stored != box_size)
                return d3m_fail(D3M_ERR_ARG, "training set '%s' has box_size %g Mpc/h, but %g "
                                "was requested; use a file made with the same box",
                                d3m_h5_path(s->file), stored, box_size);
            attrs = NULL;
            break;
        }
        d3m_attrs_free(attrs, count);
    }

    s->count = lengths[0];
    for (int i = 1; i < 4; i++)
        if (lengths[i] < s->count)
            s->count = lengths[i];
    if (s->read_only)
        return D3M_OK;

    int changed = 0;
    for (int i = 0; i < 4; i++) {
        if (lengths[i] == s->count)
            continue;
        const char *name = i < 3 ? d3m_sample_fields[i] : "seed";
        D3M_TRY(d3m_h5_set_sample_count(s->file, name, s->count));
        changed = 1;
    }
    return changed ? d3m_h5_flush(s->file) : D3M_OK;
}


int d3m_samples_open(const char *path, const d3m_samples_options *options, d3m_samples **out)
{
    *out = NULL;
    d3m_samples *s = calloc(1, sizeof *s);
    if (s == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory opening '%s'", path);
    s->n = options->n;
    s->read_only = options->read_only;

    int status = D3M_OK;
    if (!s->read_only) {
        FILE *probe = fopen(path, "rb");
        if (probe != NULL)
            fclose(probe);
        else
            status = create_file(path, options);
    }
    if (status == D3M_OK)
        status = d3m_h5_open(path, s->read_only ? D3M_H5_READ : D3M_H5_UPDATE, &s->file);
    if (status == D3M_OK)
        status = reconcile(s, options->box_size);
    if (status != D3M_OK) {
        d3m_h5_close(s->file);
        free(s);
        return status;
    }
    *out = s;
    return D3M_OK;
}


int d3m_samples_close(d3m_samples *s)
{
    if (s == NULL)
        return D3M_OK;
    int status = d3m_h5_close(s->file);
    free(s);
    return status;
}


size_t d3m_samples_count(const d3m_samples *s)
{
    return s->count;
}


size_t d3m_samples_n(const d3m_samples *s)
{
    return s->n;
}


d3m_h5file *d3m_samples_file(d3m_samples *s)
{
    return s->file;
}


/* ---- appending --------------------------------------------------------------------- */

/* Index of the first NaN or Inf in data, or count when all are finite. */
static size_t first_nonfinite(const float *data, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(data[i]))
            return i;
    return count;
}


/* Describe an element of a [3, n, n, n] sample as "component c at grid node
 * (i, j, k)". */
static void format_element(char *buf, size_t size, size_t element, size_t n)
{
    size_t k = element % n, j = element / n % n, i = element / (n * n) % n;
    size_t c = element / (n * n * n);
    snprintf(buf, size, "component %zu at grid node (%zu, %zu, %zu) (indices from 0)", c, i, j,
             k);
}


int d3m_samples_append(d3m_samples *s, const float *za, const float *lpt2, const float *fastpm,
                       int64_t seed)
{
    const char *path = d3m_h5_path(s->file);
    if (s->read_only)
        return d3m_fail(D3M_ERR_IO, "training set '%s' is open read-only", path);
    const float *fields[3] = {za, lpt2, fastpm};
    size_t floats = sample_floats(s->n);
    for (int i = 0; i < 3; i++) {
        size_t bad = first_nonfinite(fields[i], floats);
        if (bad < floats) {
            char where[128];
            format_element(where, sizeof where, bad, s->n);
            /* Samples count from 1, as in the Lua interface. */
            return d3m_fail(D3M_ERR_VALUE, "not appending sample %zu to '%s': field %s holds "
                            "%s at %s (seed %lld)", s->count + 1, path, d3m_sample_fields[i],
                            isnan(fields[i][bad]) ? "NaN" : "Inf", where, (long long)seed);
        }
    }

    /* The seed goes last: a sample counts only once /seed has it. HDF5
     * keeps the new extents in its metadata cache until the flush, so a
     * kill before the flush usually leaves the file as of the last one.
     * NOTE: a kill during H5Fflush itself can still leave metadata half
     * written; HDF5 1.10 without SWMR offers no journal against that. */
    for (int i = 0; i < 3; i++)
        D3M_TRY(d3m_h5_append_floats(s->file, d3m_sample_fields[i], 1, fields[i]));
    D3M_TRY(d3m_h5_append_int64(s->file, "seed", 1, &seed));
    D3M_TRY(d3m_h5_flush(s->file));
    s->count++;
    return D3M_OK;
}


static int check_field_tensor(const d3m_samples *s, const d3m_tensor *t, const char *field)
{
    size_t n = s->n;
    size_t single[4] = {3, n, n, n}, batched[5] = {1, 3, n, n, n};
    char what[1200];
    snprintf(what, sizeof what, "field %s of the sample appended to '%s'", field,
             d3m_h5_path(s->file));
    if (t->ndim == 5)
        return d3m_check_shape(t, what, 5, batched);
    return d3m_check_shape(t, what, 4, single);
}


int d3m_samples_append_tensors(d3m_samples *s, const d3m_tensor *za, const d3m_tensor *lpt2,
                               const d3m_tensor *fastpm, int64_t seed)
{
    const d3m_tensor *tensors[3] = {za, lpt2, fastpm};
    for (int i = 0; i < 3; i++)
        D3M_TRY(check_field_tensor(s, tensors[i], d3m_sample_fields[i]));

    size_t floats = sample_floats(s->n);
    float *host = malloc(3 * floats * sizeof *host);
    if (host == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory appending to '%s'",
                        d3m_h5_path(s->file));
    int status = D3M_OK;
    for (int i = 0; i < 3 && status == D3M_OK; i++)
        status = d3m_tensor_read(tensors[i], host + (size_t)i * floats);
    if (status == D3M_OK)
        status = d3m_samples_append(s, host, host + floats, host + 2 * floats, seed);
    free(host);
    return status;
}


/* ---- reading ------------------------------------------------------------------------- */

static int check_range(const d3m_samples *s, const char *what, size_t first, size_t count)
{
    if (count == 0 || first >= s->count || count > s->count - first)
        return d3m_fail(D3M_ERR_ARG, "samples %zu..%zu (counting from 0) of /%s requested, "
                        "but '%s' holds %zu complete samples", first, first + count - 1, what,
                        d3m_h5_path(s->file), s->count);
    return D3M_OK;
}


int d3m_samples_read(d3m_samples *s, const char *field, size_t first, size_t count,
                     float *data)
{
    int known = 0;
    for (int i = 0; i < 3; i++)
        known |= strcmp(field, d3m_sample_fields[i]) == 0;
    if (!known)
        return d3m_fail(D3M_ERR_ARG, "unknown training-set field '%s'; expected za, lpt2 or "
                        "fastpm", field);
    D3M_TRY(check_range(s, field, first, count));
    D3M_TRY(d3m_h5_read_sample_floats(s->file, field, first, count, data));

    size_t floats = sample_floats(s->n);
    for (size_t i = 0; i < count; i++) {
        size_t bad = first_nonfinite(data + i * floats, floats);
        if (bad == floats)
            continue;
        char where[128];
        format_element(where, sizeof where, bad, s->n);
        return d3m_fail(D3M_ERR_VALUE, "sample %zu (counting from 0) of dataset '/%s' in '%s' "
                        "holds %s at %s; regenerate that sample or leave it out",
                        first + i, field, d3m_h5_path(s->file),
                        isnan(data[i * floats + bad]) ? "NaN" : "Inf", where);
    }
    return D3M_OK;
}


int d3m_samples_read_tensor(d3m_samples *s, const char *field, size_t first, size_t count,
                            d3m_tensor *out)
{
    size_t floats = sample_floats(s->n);
    if (out->numel != count * floats)
        return d3m_fail(D3M_ERR_SHAPE, "output tensor has %zu elements, but %zu sample(s) of "
                        "/%s need %zu ([%zu, 3, %zu, %zu, %zu])", out->numel, count, field,
                        count * floats, count, s->n, s->n, s->n);
    float *host = malloc(count * floats * sizeof *host);
    if (host == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory reading '%s'",
                        d3m_h5_path(s->file));
    int status = d3m_samples_read(s, field, first, count, host);
    if (status == D3M_OK)
        status = d3m_tensor_write(out, host);
    free(host);
    return status;
}


int d3m_samples_read_seeds(d3m_samples *s, size_t first, size_t count, int64_t *seeds)
{
    D3M_TRY(check_range(s, "seed", first, count));
    return d3m_h5_read_sample_int64(s->file, "seed", first, count, seeds);
}
