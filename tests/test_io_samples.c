/*
 * test_io_samples.c - training-set files (/za, /lpt2, /fastpm, /seed):
 * layout, append and partial reads, reopening, a writer killed in the
 * middle of a sample, and the rejection of bad files and NaN fields.
 * Host side only; values are compared exactly because they are copied,
 * never computed.
 */
#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/io.h"
#include "io_check.h"

enum { N = 4, FLOATS = 3 * N * N * N };

static char folder[512];


static void path_in_folder(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", folder, name);
}


/* Element e of field f of sample s: distinct for every (s, f, e). */
static float expected_value(size_t sample, int field, size_t element)
{
    return (float)(sample * 1000 + (size_t)field * 100) + (float)element * 0.25f;
}


static void fill_sample(size_t sample, float fields[3][FLOATS])
{
    for (int f = 0; f < 3; f++)
        for (size_t e = 0; e < FLOATS; e++)
            fields[f][e] = expected_value(sample, f, e);
}


static int append_sample(d3m_samples *s, size_t sample)
{
    static float fields[3][FLOATS];
    fill_sample(sample, fields);
    return d3m_samples_append(s, fields[0], fields[1], fields[2], 100 + (int64_t)sample);
}


/* Whether samples first..first+count-1 of field hold their expected values. */
static int field_matches(d3m_samples *s, int field, size_t first, size_t count)
{
    float *data = malloc(count * FLOATS * sizeof *data);
    int ok = d3m_samples_read(s, d3m_sample_fields[field], first, count, data) == D3M_OK;
    for (size_t i = 0; ok && i < count; i++)
        for (size_t e = 0; ok && e < FLOATS; e++)
            ok = data[i * FLOATS + e] == expected_value(first + i, field, e);
    free(data);
    return ok;
}


static d3m_samples_options writer_options(void)
{
    d3m_samples_options options = {N, 64.0, 1, 0};
    return options;
}


static void test_layout_and_append(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "set.h5");
    d3m_samples_options options = writer_options();
    d3m_samples *s = NULL;
    CHECK_OK(d3m_samples_open(path, &options, &s));
    if (s == NULL)
        return;
    CHECK(d3m_samples_count(s) == 0, "in %s", __func__);
    for (size_t i = 0; i < 3; i++)
        CHECK_OK(append_sample(s, i));
    CHECK(d3m_samples_count(s) == 3, "in %s", __func__);

    d3m_h5_info info;
    CHECK_OK(d3m_h5_info_of(d3m_samples_file(s), "fastpm", &info));
    CHECK(info.ndim == 5, "in %s", __func__);
    CHECK(info.shape[0] == 3, "in %s", __func__);
    CHECK(info.shape[1] == 3, "in %s", __func__);
    CHECK(info.shape[4] == N, "in %s", __func__);
    CHECK(info.chunked, "in %s", __func__);
    CHECK(info.chunk[0] == 1, "in %s", __func__);
    CHECK(info.chunk[1] == 3, "in %s", __func__);
    CHECK(info.chunk[4] == N, "in %s", __func__);
    CHECK(info.extendible, "in %s", __func__);
    CHECK(info.gzip_level == 1, "in %s", __func__);
    CHECK_OK(d3m_h5_info_of(d3m_samples_file(s), "seed", &info));
    CHECK(info.ndim == 1, "in %s", __func__);
    CHECK(strcmp(d3m_h5_type_name(&info), "int64") == 0, "in %s", __func__);
    CHECK_OK(d3m_samples_close(s));

    /* Reopen: the count comes back, reads of one sample or a range work. */
    options.n = 0;
    options.box_size = 0;
    CHECK_OK(d3m_samples_open(path, &options, &s));
    if (s == NULL)
        return;
    CHECK(d3m_samples_count(s) == 3, "in %s", __func__);
    CHECK(d3m_samples_n(s) == N, "in %s", __func__);
    CHECK(field_matches(s, 0, 1, 1), "in %s", __func__);
    CHECK(field_matches(s, 2, 1, 2), "in %s", __func__);
    CHECK(field_matches(s, 1, 0, 3), "in %s", __func__);
    int64_t seeds[3] = {0};
    CHECK_OK(d3m_samples_read_seeds(s, 0, 3, seeds));
    CHECK(seeds[0] == 100, "in %s", __func__);
    CHECK(seeds[2] == 102, "in %s", __func__);
    CHECK_OK(append_sample(s, 3));
    CHECK(d3m_samples_count(s) == 4, "in %s", __func__);

    float data[FLOATS];
    CHECK_ERROR(d3m_samples_read(s, "za", 4, 1, data), D3M_ERR_ARG,
                "set.h5' holds 4 complete samples");
    CHECK_ERROR(d3m_samples_read(s, "density", 0, 1, data), D3M_ERR_ARG,
                "unknown training-set field 'density'");

    float fields[3][FLOATS];
    fill_sample(4, fields);
    fields[1][5] = NAN;
    CHECK_ERROR(d3m_samples_append(s, fields[0], fields[1], fields[2], 7), D3M_ERR_VALUE,
                "field lpt2 holds NaN at component 0 at grid node (0, 1, 1)");
    CHECK(d3m_samples_count(s) == 4, "in %s", __func__);
    CHECK_OK(d3m_h5_info_of(d3m_samples_file(s), "za", &info));
    CHECK(info.shape[0] == 4, "in %s", __func__);   /* nothing of the rejected sample was written */
    CHECK_OK(d3m_samples_close(s));

    /* Read only: no change, no append. */
    options.read_only = 1;
    CHECK_OK(d3m_samples_open(path, &options, &s));
    if (s == NULL)
        return;
    CHECK(d3m_samples_count(s) == 4, "in %s", __func__);
    CHECK(field_matches(s, 0, 3, 1), "in %s", __func__);
    CHECK_ERROR(append_sample(s, 4), D3M_ERR_IO, "read-only");
    CHECK_OK(d3m_samples_close(s));
}


static void test_mismatched_reopen(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "set.h5");
    d3m_samples_options options = writer_options();
    d3m_samples *s = NULL;
    options.n = 8;
    CHECK_ERROR(d3m_samples_open(path, &options, &s), D3M_ERR_SHAPE, "but n = 8 was expected");
    CHECK(s == NULL, "in %s", __func__);
    options.n = N;
    options.box_size = 128.0;
    CHECK_ERROR(d3m_samples_open(path, &options, &s), D3M_ERR_ARG,
                "has box_size 64 Mpc/h, but 128 was requested");

    options.read_only = 1;
    path_in_folder(path, sizeof path, "absent.h5");
    CHECK_ERROR(d3m_samples_open(path, &options, &s), D3M_ERR_IO, "not found");
}


/* A file with /za only, and one whose /za contains integers. */
static void test_foreign_files(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "foreign.h5");
    d3m_h5file *f = NULL;
    CHECK_OK(d3m_h5_open(path, D3M_H5_CREATE, &f));
    size_t shape[4] = {3, N, N, N};
    CHECK_OK(d3m_h5_create_samples(f, "za", 4, shape, D3M_H5_FLOAT, 0));
    CHECK_OK(d3m_h5_close(f));

    d3m_samples_options options = writer_options();
    d3m_samples *s = NULL;
    CHECK_ERROR(d3m_samples_open(path, &options, &s), D3M_ERR_IO,
                "is not a d3m training set: dataset(s) /lpt2, /fastpm, /seed not found");
    CHECK(contains(d3m_last_error(), "the file contains datasets /za [0, 3, 4, 4, 4] float32"),
          "message: %s", d3m_last_error());

    path_in_folder(path, sizeof path, "typed.h5");
    CHECK_OK(d3m_h5_open(path, D3M_H5_CREATE, &f));
    CHECK_OK(d3m_h5_create_samples(f, "za", 4, shape, D3M_H5_INTEGER, 0));
    CHECK_OK(d3m_h5_create_samples(f, "lpt2", 4, shape, D3M_H5_FLOAT, 0));
    CHECK_OK(d3m_h5_create_samples(f, "fastpm", 3, shape + 1, D3M_H5_FLOAT, 0));
    CHECK_OK(d3m_h5_create_samples(f, "seed", 0, NULL, D3M_H5_INTEGER, 0));
    CHECK_OK(d3m_h5_close(f));
    CHECK_ERROR(d3m_samples_open(path, &options, &s), D3M_ERR_ARG,
                "dataset '/za' in");
    CHECK(contains(d3m_last_error(),
                   "has dtype int64; a training set stores displacements as float32"),
          "message: %s", d3m_last_error());

    /* Right dtype, wrong rank. */
    path_in_folder(path, sizeof path, "ranked.h5");
    CHECK_OK(d3m_h5_open(path, D3M_H5_CREATE, &f));
    CHECK_OK(d3m_h5_create_samples(f, "za", 4, shape, D3M_H5_FLOAT, 0));
    CHECK_OK(d3m_h5_create_samples(f, "lpt2", 4, shape, D3M_H5_FLOAT, 0));
    CHECK_OK(d3m_h5_create_samples(f, "fastpm", 3, shape + 1, D3M_H5_FLOAT, 0));
    CHECK_OK(d3m_h5_create_samples(f, "seed", 0, NULL, D3M_H5_INTEGER, 0));
    CHECK_OK(d3m_h5_close(f));
    CHECK_ERROR(d3m_samples_open(path, &options, &s), D3M_ERR_SHAPE,
                "dataset '/fastpm' in");
    CHECK(contains(d3m_last_error(),
                   "has shape [0, 4, 4, 4]; a training set needs [N, 3, n, n, n]"),
          "message: %s", d3m_last_error());
}


/* A NaN that reached the file by another writer is reported with its sample. */
static void test_nan_on_read(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "nan.h5");
    d3m_samples_options options = writer_options();
    d3m_samples *s = NULL;
    CHECK_OK(d3m_samples_open(path, &options, &s));
    if (s == NULL)
        return;
    CHECK_OK(append_sample(s, 0));
    CHECK_OK(append_sample(s, 1));
    static float fields[3][FLOATS];
    fill_sample(2, fields);
    fields[2][FLOATS - 1] = INFINITY;
    d3m_h5file *f = d3m_samples_file(s);
    for (int i = 0; i < 3; i++)
        CHECK_OK(d3m_h5_append_floats(f, d3m_sample_fields[i], 1, fields[i]));
    int64_t seed = 102;
    CHECK_OK(d3m_h5_append_int64(f, "seed", 1, &seed));
    CHECK_OK(d3m_samples_close(s));

    CHECK_OK(d3m_samples_open(path, &options, &s));
    if (s == NULL)
        return;
    CHECK(d3m_samples_count(s) == 3, "in %s", __func__);
    float *data = malloc(3 * FLOATS * sizeof *data);
    CHECK_ERROR(d3m_samples_read(s, "fastpm", 0, 3, data), D3M_ERR_VALUE,
                "sample 2 (counting from 0) of dataset '/fastpm' in");
    CHECK(contains(d3m_last_error(), "holds Inf at component 2 at grid node (3, 3, 3)"),
          "message: %s", d3m_last_error());
    CHECK_OK(d3m_samples_read(s, "fastpm", 0, 2, data));
    CHECK_OK(d3m_samples_read(s, "za", 0, 3, data));
    free(data);
    CHECK_OK(d3m_samples_close(s));
}


/* Fork a writer that appends k complete samples, starts sample k (za and
 * lpt2 only, flushed or not) and is killed with SIGKILL. */
static void run_killed_writer(const char *path, size_t k, int flush_partial)
{
    pid_t child = fork();
    if (child == 0) {
        d3m_samples_options options = writer_options();
        d3m_samples *s = NULL;
        if (d3m_samples_open(path, &options, &s) != D3M_OK)
            _exit(3);
        for (size_t i = d3m_samples_count(s); i < k; i++)
            if (append_sample(s, i) != D3M_OK)
                _exit(4);
        static float fields[3][FLOATS];
        fill_sample(k, fields);
        d3m_h5file *f = d3m_samples_file(s);
        d3m_h5_append_floats(f, "za", 1, fields[0]);
        d3m_h5_append_floats(f, "lpt2", 1, fields[1]);
        if (flush_partial)
            d3m_h5_flush(f);
        raise(SIGKILL);
        _exit(5);
    }
    int wait_status = 0;
    waitpid(child, &wait_status, 0);
    CHECK(WIFSIGNALED(wait_status), "in %s", __func__);
    CHECK(WTERMSIG(wait_status) == SIGKILL, "in %s", __func__);
}


static void test_killed_writer(int flush_partial)
{
    char path[600];
    path_in_folder(path, sizeof path, flush_partial ? "killed-flushed.h5" : "killed.h5");
    run_killed_writer(path, 3, flush_partial);

    d3m_samples_options options = writer_options();
    options.read_only = 1;
    d3m_samples *s = NULL;
    CHECK_OK(d3m_samples_open(path, &options, &s));
    if (s == NULL)
        return;
    CHECK(d3m_samples_count(s) == 3, "in %s", __func__);
    CHECK(field_matches(s, 2, 0, 3), "in %s", __func__);
    CHECK_OK(d3m_samples_close(s));

    /* Reopening for writing drops the partial sample; appending resumes at 3. */
    options.read_only = 0;
    CHECK_OK(d3m_samples_open(path, &options, &s));
    if (s == NULL)
        return;
    CHECK(d3m_samples_count(s) == 3, "in %s", __func__);
    const char *names[4] = {"za", "lpt2", "fastpm", "seed"};
    for (int i = 0; i < 4; i++) {
        d3m_h5_info info;
        CHECK_OK(d3m_h5_info_of(d3m_samples_file(s), names[i], &info));
        CHECK(info.shape[0] == 3, "in %s", __func__);
    }
    CHECK_OK(append_sample(s, 3));
    CHECK(d3m_samples_count(s) == 4, "in %s", __func__);
    CHECK_OK(d3m_samples_close(s));

    /* A second kill on the resumed file keeps the four samples. */
    run_killed_writer(path, 5, !flush_partial);
    options.read_only = 1;
    CHECK_OK(d3m_samples_open(path, &options, &s));
    if (s == NULL)
        return;
    CHECK(d3m_samples_count(s) == 5, "in %s", __func__);
    for (int field = 0; field < 3; field++)
        CHECK(field_matches(s, field, 0, 5), "in %s", __func__);
    int64_t seeds[5] = {0};
    CHECK_OK(d3m_samples_read_seeds(s, 0, 5, seeds));
    for (int i = 0; i < 5; i++)
        CHECK(seeds[i] == 100 + i, "in %s", __func__);
    CHECK_OK(d3m_samples_close(s));
}


int main(void)
{
    make_test_folder(folder, sizeof folder, "io-samples");
    test_layout_and_append();
    test_mismatched_reopen();
    test_foreign_files();
    test_nan_on_read();
    test_killed_writer(1);
    test_killed_writer(0);
    if (check_failures == 0)
        remove_test_folder(folder);
    return check_report("test_io_samples");
}
