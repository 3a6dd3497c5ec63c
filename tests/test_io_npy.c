/*
 * test_io_npy.c - .npy reading against hand-written files (versions 1, 2
 * and 3, C and Fortran order, float32/float64/int64), writing against the
 * exact bytes NumPy's format prescribes, bad files, and the ML-Recon
 * channel split and import. Host side only; values compare exactly.
 */
#include <math.h>
#include <stdint.h>

#include "io/io.h"
#include "io_check.h"

static char folder[512];


static void path_in_folder(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", folder, name);
}


/* Write a .npy file by hand: magic, version, little-endian header length
 * (2 bytes for version 1, else 4), the dict padded with spaces to a
 * multiple of 64 bytes with a final newline, then data_bytes of data. */
static void write_raw_npy(const char *path, int version, const char *dict, const void *data,
                          size_t data_bytes)
{
    size_t prefix = version == 1 ? 10 : 12;
    size_t total = (prefix + strlen(dict) + 1 + 63) / 64 * 64;
    size_t header_len = total - prefix;
    unsigned char head[512];
    memcpy(head, "\x93NUMPY", 6);
    head[6] = (unsigned char)version;
    head[7] = 0;
    for (size_t b = 0; b < prefix - 8; b++)
        head[8 + b] = (unsigned char)(header_len >> (8 * b));
    memcpy(head + prefix, dict, strlen(dict));
    memset(head + prefix + strlen(dict), ' ', header_len - strlen(dict) - 1);
    head[total - 1] = '\n';
    FILE *file = fopen(path, "wb");
    fwrite(head, 1, total, file);
    fwrite(data, 1, data_bytes, file);
    fclose(file);
}


static void test_read_c_order_float32(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "c.npy");
    float values[6] = {0, 1, 2, 3, 4.5f, -5};
    write_raw_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                  values, sizeof values);
    d3m_npy_array array;
    CHECK_OK(d3m_npy_read(path, &array));
    CHECK(array.dtype == D3M_NPY_FLOAT32, "in %s", __func__);
    CHECK(array.version == 1, "in %s", __func__);
    CHECK(!array.fortran_order, "in %s", __func__);
    CHECK(array.ndim == 2, "in %s", __func__);
    CHECK(array.shape[0] == 2, "in %s", __func__);
    CHECK(array.shape[1] == 3, "in %s", __func__);
    CHECK(array.count == 6, "in %s", __func__);
    CHECK(array.data_offset == 128, "in %s", __func__);   /* 10 + 59 + 1 bytes rounded up to 64 */
    if (array.data != NULL)
        CHECK(memcmp(array.data, values, sizeof values) == 0, "in %s", __func__);
    d3m_npy_free(&array);
}


/* a[i][j] = 10 i + j stored column-major: a00 a10 a01 a11 a02 a12. */
static void test_read_fortran_order_float64(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "f.npy");
    double column_major[6] = {0, 10, 1, 11, 2, 12};
    write_raw_npy(path, 2, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                  column_major, sizeof column_major);
    d3m_npy_array array;
    CHECK_OK(d3m_npy_read(path, &array));
    CHECK(array.dtype == D3M_NPY_FLOAT64, "in %s", __func__);
    CHECK(array.version == 2, "in %s", __func__);
    CHECK(array.fortran_order, "in %s", __func__);
    double row_major[6] = {0, 1, 2, 10, 11, 12};
    if (array.data != NULL)
        CHECK(memcmp(array.data, row_major, sizeof row_major) == 0, "in %s", __func__);
    float floats[6];
    d3m_npy_to_floats(&array, floats);
    CHECK(floats[3] == 10.0f, "in %s", __func__);
    CHECK(floats[5] == 12.0f, "in %s", __func__);
    d3m_npy_free(&array);
}


/* Rank 3 in Fortran order: element (i, j, k) at offset i + 2 j + 6 k. */
static void test_read_fortran_order_rank3(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "f3.npy");
    int64_t column_major[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                column_major[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
    write_raw_npy(path, 3, "{\"descr\": \"<i8\", \"fortran_order\": True, \"shape\": (2, 3, 4)}",
                  column_major, sizeof column_major);
    d3m_npy_array array;
    CHECK_OK(d3m_npy_read(path, &array));
    CHECK(array.dtype == D3M_NPY_INT64, "in %s", __func__);
    CHECK(array.version == 3, "in %s", __func__);
    CHECK(array.count == 24, "in %s", __func__);
    const int64_t *data = array.data;
    int ok = data != NULL;
    for (int i = 0; ok && i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                ok = ok && data[(i * 3 + j) * 4 + k] == 100 * i + 10 * j + k;
    CHECK(ok, "in %s", __func__);
    d3m_npy_free(&array);
}


static void test_read_int64_and_scalar(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "i.npy");
    int64_t values[3] = {-1, (INT64_C(1) << 53) + 1, INT64_MIN};
    write_raw_npy(path, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3L,), }", values,
                  sizeof values);
    d3m_npy_array array;
    CHECK_OK(d3m_npy_read(path, &array));
    CHECK(array.ndim == 1, "in %s", __func__);
    CHECK(array.shape[0] == 3, "in %s", __func__);
    if (array.data != NULL)
        CHECK(memcmp(array.data, values, sizeof values) == 0, "in %s", __func__);
    d3m_npy_free(&array);

    path_in_folder(path, sizeof path, "scalar.npy");
    float one = 1.5f;
    write_raw_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", &one,
                  sizeof one);
    CHECK_OK(d3m_npy_read(path, &array));
    CHECK(array.ndim == 0, "in %s", __func__);
    CHECK(array.count == 1, "in %s", __func__);
    if (array.data != NULL)
        CHECK(*(float *)array.data == 1.5f, "in %s", __func__);
    d3m_npy_free(&array);
}


static void test_bad_npy_files(void)
{
    char path[600];
    d3m_npy_array array;
    float values[6] = {0};

    path_in_folder(path, sizeof path, "big-endian.npy");
    write_raw_npy(path, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", values,
                  sizeof values);
    CHECK_ERROR(d3m_npy_read(path, &array), D3M_ERR_ARG, "has big-endian dtype '>f4'");
    CHECK(contains(d3m_last_error(), "big-endian.npy"),
          "message: %s", d3m_last_error());

    path_in_folder(path, sizeof path, "int32.npy");
    write_raw_npy(path, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }", values,
                  sizeof values);
    CHECK_ERROR(d3m_npy_read(path, &array), D3M_ERR_ARG, "has dtype '<i4'; only '<f4'");

    path_in_folder(path, sizeof path, "short.npy");
    write_raw_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", values,
                  sizeof values - 4);
    CHECK_ERROR(d3m_npy_read(path, &array), D3M_ERR_IO, "is truncated: its header declares 24 "
                "data bytes but only 20 follow");
    CHECK_ERROR(d3m_npy_read_header(path, &array), D3M_ERR_IO, "short.npy' is truncated");

    path_in_folder(path, sizeof path, "text.npy");
    FILE *file = fopen(path, "w");
    fputs("0 1 2 3\n", file);
    fclose(file);
    CHECK_ERROR(d3m_npy_read(path, &array), D3M_ERR_IO, "is not a .npy file");

    path_in_folder(path, sizeof path, "absent.npy");
    CHECK_ERROR(d3m_npy_read(path, &array), D3M_ERR_IO, "absent.npy' not found");

    path_in_folder(path, sizeof path, "no-folder/out.npy");
    size_t shape[1] = {6};
    CHECK_ERROR(d3m_npy_write(path, D3M_NPY_FLOAT32, 1, shape, values, 0, 0), D3M_ERR_IO,
                "folder");
    CHECK(contains(d3m_last_error(), "no-folder"),
          "message: %s", d3m_last_error());
}


/* Our writer must produce the bytes NumPy's format prescribes. */
static void test_write_exact_bytes(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "w.npy");
    size_t shape[2] = {2, 3};
    float values[6] = {1, 2, 3, 4, 5, 6};
    CHECK_OK(d3m_npy_write(path, D3M_NPY_FLOAT32, 2, shape, values, 0, 0));

    unsigned char bytes[256] = {0};
    FILE *file = fopen(path, "rb");
    size_t got = file ? fread(bytes, 1, sizeof bytes, file) : 0;
    if (file)
        fclose(file);
    /* The 59-byte dict after the 10-byte prefix pads to 128 bytes: header length 118. */
    CHECK(got == 128 + sizeof values, "in %s", __func__);
    CHECK(memcmp(bytes, "\x93NUMPY\x01\x00\x76\x00", 10) == 0, "in %s", __func__);
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    CHECK(memcmp(bytes + 10, dict, strlen(dict)) == 0, "in %s", __func__);
    CHECK(bytes[126] == ' ', "in %s", __func__);
    CHECK(bytes[127] == '\n', "in %s", __func__);
    CHECK(memcmp(bytes + 128, values, sizeof values) == 0, "in %s", __func__);

    /* Version 2 with Fortran order and a 1-D shape written as "(6,)". */
    CHECK_OK(d3m_npy_write(path, D3M_NPY_FLOAT32, 2, shape, values, 1, 2));
    d3m_npy_array array;
    CHECK_OK(d3m_npy_read(path, &array));
    CHECK(array.version == 2, "in %s", __func__);
    CHECK(array.fortran_order, "in %s", __func__);
    CHECK(array.data_offset == 128, "in %s", __func__);
    if (array.data != NULL)
        CHECK(memcmp(array.data, values, sizeof values) == 0, "in %s", __func__);
    d3m_npy_free(&array);
    file = fopen(path, "rb");
    got = file ? fread(bytes, 1, sizeof bytes, file) : 0;
    if (file)
        fclose(file);
    float column_major[6] = {1, 4, 2, 5, 3, 6};
    CHECK(got == 128 + sizeof values, "in %s", __func__);
    CHECK(memcmp(bytes + 128, column_major, sizeof values) == 0, "in %s", __func__);

    size_t flat[1] = {6};
    CHECK_OK(d3m_npy_write(path, D3M_NPY_INT64, 1, flat, (int64_t[6]){1, 2, 3, 4, 5, 6}, 0, 1));
    file = fopen(path, "rb");
    memset(bytes, 0, sizeof bytes);
    got = file ? fread(bytes, 1, 128, file) : 0;
    if (file)
        fclose(file);
    CHECK(strstr((const char *)bytes + 10, "'shape': (6,), }") != NULL, "in %s", __func__);
    CHECK(strstr((const char *)bytes + 10, "'descr': '<i8'") != NULL, "in %s", __func__);
}


/* ML-Recon sample with x[i][j][k][c] = 1000 c + 100 i + 10 j + k. */
static float mlrecon_value(size_t i, size_t j, size_t k, size_t c)
{
    return (float)(1000 * c + 100 * i + 10 * j + k);
}


static void test_mlrecon_split(void)
{
    enum { M = 3 };
    float sample[M * M * M * 10];
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < M; j++)
            for (size_t k = 0; k < M; k++)
                for (size_t c = 0; c < 10; c++)
                    sample[((i * M + j) * M + k) * 10 + c] = mlrecon_value(i, j, k, c);
    float za[3 * M * M * M], lpt2[3 * M * M * M], fastpm[3 * M * M * M];
    d3m_mlrecon_split(sample, M, 2.0, za, lpt2, fastpm);
    int ok = 1;
    for (size_t d = 0; d < 3; d++)
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < M; j++)
                for (size_t k = 0; k < M; k++) {
                    size_t at = ((d * M + i) * M + j) * M + k;
                    ok = ok && za[at] == 2 * mlrecon_value(i, j, k, 1 + d);
                    ok = ok && lpt2[at] == 2 * mlrecon_value(i, j, k, 4 + d);
                    ok = ok && fastpm[at] == 2 * mlrecon_value(i, j, k, 7 + d);
                }
    CHECK(ok, "in %s", __func__);
}


static void test_mlrecon_import(void)
{
    enum { M = 4 };
    char npy[600], h5[600], bad[600];
    path_in_folder(npy, sizeof npy, "sim_0.npy");
    path_in_folder(h5, sizeof h5, "imported.h5");
    path_in_folder(bad, sizeof bad, "sim_bad.npy");
    static double sample[M * M * M * 10];
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < M; j++)
            for (size_t k = 0; k < M; k++)
                for (size_t c = 0; c < 10; c++)
                    sample[((i * M + j) * M + k) * 10 + c] = mlrecon_value(i, j, k, c);
    size_t shape[4] = {M, M, M, 10}, wrong[4] = {M, M, M, 9};
    CHECK_OK(d3m_npy_write(npy, D3M_NPY_FLOAT64, 4, shape, sample, 1, 0));
    CHECK_OK(d3m_npy_write(bad, D3M_NPY_FLOAT64, 4, wrong, sample, 0, 0));

    d3m_samples_options options = {M, 128.0, 0, 0};
    d3m_samples *s = NULL;
    CHECK_OK(d3m_samples_open(h5, &options, &s));
    if (s == NULL)
        return;
    CHECK_OK(d3m_mlrecon_append(s, npy, -1, 1.0));
    CHECK_ERROR(d3m_mlrecon_append(s, bad, -1, 1.0), D3M_ERR_SHAPE,
                "has shape [4, 4, 4, 9]; expected (4, 4, 4, 10)");
    CHECK(contains(d3m_last_error(), "sim_bad.npy"),
          "message: %s", d3m_last_error());
    CHECK(d3m_samples_count(s) == 1, "in %s", __func__);

    float fastpm[3 * M * M * M];
    CHECK_OK(d3m_samples_read(s, "fastpm", 0, 1, fastpm));
    /* component 2 at node (1, 2, 3) is channel 9 there */
    CHECK(fastpm[((2 * M + 1) * M + 2) * M + 3] == mlrecon_value(1, 2, 3, 9), "in %s", __func__);
    CHECK(fastpm[0] == mlrecon_value(0, 0, 0, 7), "in %s", __func__);
    CHECK_OK(d3m_samples_close(s));
}


int main(void)
{
    make_test_folder(folder, sizeof folder, "io-npy");
    test_read_c_order_float32();
    test_read_fortran_order_float64();
    test_read_fortran_order_rank3();
    test_read_int64_and_scalar();
    test_bad_npy_files();
    test_write_exact_bytes();
    test_mlrecon_split();
    test_mlrecon_import();
    if (check_failures == 0)
        remove_test_folder(folder);
    return check_report("test_io_npy");
}
