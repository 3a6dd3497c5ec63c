/*
 * test_io_h5.c - HDF5 datasets, attributes, listing, atomic files and
 * tensor transfers of src/io. Round trips are compared bit for bit. Every
 * bad input must fail with a message naming the file, the object and the
 * problem.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"
#include "io_check.h"

static char folder[512];


static void path_in_folder(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", folder, name);
}


/* Names in the test folder starting with '.', i.e. leftover temporary files. */
static int count_hidden_files(void)
{
    DIR *dir = opendir(folder);
    int hidden = 0;
    struct dirent *entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL)
        if (entry->d_name[0] == '.' && strcmp(entry->d_name, ".") != 0 &&
            strcmp(entry->d_name, "..") != 0)
            hidden++;
    if (dir != NULL)
        closedir(dir);
    return hidden;
}


static void test_dataset_round_trip(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "round.h5");
    d3m_h5file *f = NULL;
    CHECK_OK(d3m_h5_open(path, D3M_H5_CREATE, &f));
    if (f == NULL)
        return;

    size_t shape[3] = {2, 3, 4};
    float values[24];
    for (int i = 0; i < 24; i++)
        values[i] = (float)i * 0.37f - 3.0f;
    values[5] = -0.0f;
    values[7] = 1e-38f;   /* a subnormal-adjacent value survives unchanged */
    CHECK_OK(d3m_h5_write_floats(f, "params/layer1.0.conv1.weight", 3, shape, values));

    size_t seed_shape[1] = {4};
    int64_t seeds[4] = {1, -7, (INT64_C(1) << 40) + 1, INT64_MAX};
    CHECK_OK(d3m_h5_write_int64(f, "/seed", 1, seed_shape, seeds));
    CHECK_OK(d3m_h5_close(f));

    CHECK_OK(d3m_h5_open(path, D3M_H5_READ, &f));
    if (f == NULL)
        return;
    d3m_h5_info info;
    CHECK_OK(d3m_h5_info_of(f, "/params/layer1.0.conv1.weight", &info));
    CHECK(info.ndim == 3, "in %s", __func__);
    CHECK(info.shape[0] == 2, "in %s", __func__);
    CHECK(info.shape[1] == 3, "in %s", __func__);
    CHECK(info.shape[2] == 4, "in %s", __func__);
    CHECK(strcmp(d3m_h5_type_name(&info), "float32") == 0, "in %s", __func__);
    CHECK(!info.chunked, "in %s", __func__);
    CHECK(!info.extendible, "in %s", __func__);

    float back[24] = {0};
    CHECK_OK(d3m_h5_read_floats(f, "params/layer1.0.conv1.weight", back));
    CHECK(memcmp(back, values, sizeof values) == 0, "in %s", __func__);

    int64_t seeds_back[4] = {0};
    CHECK_OK(d3m_h5_read_int64(f, "seed", seeds_back));
    CHECK(memcmp(seeds_back, seeds, sizeof seeds) == 0, "in %s", __func__);

    int kind = -1;
    CHECK_OK(d3m_h5_exists(f, "/params", &kind));
    CHECK(kind == 2, "in %s", __func__);
    CHECK_OK(d3m_h5_exists(f, "/params/missing/deeper", &kind));
    CHECK(kind == 0, "in %s", __func__);
    CHECK_OK(d3m_h5_close(f));
}


static void test_dataset_replaced(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "replace.h5");
    d3m_h5file *f = NULL;
    CHECK_OK(d3m_h5_open(path, D3M_H5_APPEND, &f));
    if (f == NULL)
        return;
    size_t small[1] = {3}, large[2] = {2, 5};
    float a[3] = {1, 2, 3}, b[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK_OK(d3m_h5_write_floats(f, "x", 1, small, a));
    CHECK_OK(d3m_h5_write_floats(f, "x", 2, large, b));
    d3m_h5_info info;
    CHECK_OK(d3m_h5_info_of(f, "x", &info));
    CHECK(info.ndim == 2, "in %s", __func__);
    CHECK(info.numel == 10, "in %s", __func__);
    float back[10];
    CHECK_OK(d3m_h5_read_floats(f, "x", back));
    CHECK(back[9] == 9.0f, "in %s", __func__);
    CHECK_ERROR(d3m_h5_write_floats(f, "/", 1, small, a), D3M_ERR_ARG, "a group has that name");
    CHECK_OK(d3m_h5_close(f));
}


static void test_attributes(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "attrs.h5");
    d3m_h5file *f = NULL;
    CHECK_OK(d3m_h5_open(path, D3M_H5_CREATE, &f));
    if (f == NULL)
        return;
    size_t shape[1] = {2};
    float data[2] = {1, 2};
    CHECK_OK(d3m_h5_write_floats(f, "/group/data", 1, shape, data));

    double box = 128.0, k[3] = {0.11, 0.5, -1e300};
    int64_t n = 32, steps[2] = {10, -3};
    CHECK_OK(d3m_h5_set_attr_numbers(f, "/", "box_size", &box, 1, 0));
    CHECK_OK(d3m_h5_set_attr_integers(f, "/", "n", &n, 1, 0));
    CHECK_OK(d3m_h5_set_attr_string(f, "/", "software_version", "d3m 0.1.0 \xc3\xa9"));
    CHECK_OK(d3m_h5_set_attr_numbers(f, "/group", "k", k, 3, 1));
    CHECK_OK(d3m_h5_set_attr_integers(f, "/group/data", "steps", steps, 2, 1));
    box = 256.0;
    CHECK_OK(d3m_h5_set_attr_numbers(f, "/", "box_size", &box, 1, 0));   /* replaces */
    CHECK_ERROR(d3m_h5_set_attr_numbers(f, "/nowhere", "x", &box, 1, 0), D3M_ERR_IO,
                "object '/nowhere' not found in");
    CHECK_OK(d3m_h5_close(f));

    CHECK_OK(d3m_h5_open(path, D3M_H5_READ, &f));
    if (f == NULL)
        return;
    d3m_attr *attrs = NULL;
    int count = 0;
    CHECK_OK(d3m_h5_attributes(f, "/", &attrs, &count));
    CHECK(count == 3, "in %s", __func__);
    if (count == 3) {
        /* Name order: box_size, n, software_version. */
        CHECK(strcmp(attrs[0].name, "box_size") == 0, "in %s", __func__);
        CHECK(attrs[0].type == D3M_ATTR_FLOAT, "in %s", __func__);
        CHECK(attrs[0].numbers[0] == 256.0, "in %s", __func__);
        CHECK(!attrs[0].is_array, "in %s", __func__);
        CHECK(attrs[1].type == D3M_ATTR_INTEGER, "in %s", __func__);
        CHECK(attrs[1].integers[0] == 32, "in %s", __func__);
        CHECK(attrs[2].type == D3M_ATTR_STRING, "in %s", __func__);
        CHECK(strcmp(attrs[2].string, "d3m 0.1.0 \xc3\xa9") == 0, "in %s", __func__);
    }
    d3m_attrs_free(attrs, count);

    CHECK_OK(d3m_h5_attributes(f, "group", &attrs, &count));
    CHECK(count == 1, "in %s", __func__);
    if (count == 1) {
        CHECK(attrs[0].is_array, "in %s", __func__);
        CHECK(attrs[0].count == 3, "in %s", __func__);
        CHECK(attrs[0].numbers[0] == 0.11, "in %s", __func__);
        CHECK(attrs[0].numbers[2] == -1e300, "in %s", __func__);
    }
    d3m_attrs_free(attrs, count);

    CHECK_OK(d3m_h5_attributes(f, "/group/data", &attrs, &count));
    CHECK(count == 1, "in %s", __func__);
    if (count == 1) {
        CHECK(attrs[0].type == D3M_ATTR_INTEGER, "in %s", __func__);
        CHECK(attrs[0].count == 2, "in %s", __func__);
        CHECK(attrs[0].integers[1] == -3, "in %s", __func__);
    }
    d3m_attrs_free(attrs, count);

    CHECK_ERROR(d3m_h5_set_attr_numbers(f, "/", "x", &box, 1, 0), D3M_ERR_IO, "read-only");
    CHECK_OK(d3m_h5_close(f));
}


static void test_listing(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "list.h5");
    d3m_h5file *f = NULL;
    CHECK_OK(d3m_h5_open(path, D3M_H5_CREATE, &f));
    if (f == NULL)
        return;
    size_t shape[2] = {2, 2}, sample[1] = {4};
    float data[4] = {0};
    CHECK_OK(d3m_h5_write_floats(f, "/a/b/c", 2, shape, data));
    CHECK_OK(d3m_h5_write_floats(f, "/z", 2, shape, data));
    CHECK_OK(d3m_h5_create_samples(f, "/s", 1, sample, D3M_H5_FLOAT, 4));

    d3m_h5_entry *entries = NULL;
    int count = 0;
    CHECK_OK(d3m_h5_list(f, &entries, &count));
    const char *expected[5] = {"/a", "/a/b", "/a/b/c", "/s", "/z"};
    const int groups[5] = {1, 1, 0, 0, 0};
    CHECK(count == 5, "in %s", __func__);
    for (int i = 0; i < count && i < 5; i++) {
        CHECK(strcmp(entries[i].name, expected[i]) == 0, "in %s", __func__);
        CHECK(entries[i].is_group == groups[i], "in %s", __func__);
    }
    if (count == 5) {
        CHECK(entries[2].info.ndim == 2, "in %s", __func__);
        CHECK(entries[2].info.shape[1] == 2, "in %s", __func__);
        CHECK(entries[3].info.extendible, "in %s", __func__);
        CHECK(entries[3].info.chunked, "in %s", __func__);
        CHECK(entries[3].info.chunk[0] == 1, "in %s", __func__);
        CHECK(entries[3].info.chunk[1] == 4, "in %s", __func__);
        CHECK(entries[3].info.gzip_level == 4, "in %s", __func__);
    }
    d3m_h5_entries_free(entries, count);
    CHECK_OK(d3m_h5_close(f));
}


static void test_bad_files(void)
{
    char path[600], text_path[600], missing[600];
    path_in_folder(missing, sizeof missing, "missing.h5");
    d3m_h5file *f = NULL;
    CHECK_ERROR(d3m_h5_open(missing, D3M_H5_READ, &f), D3M_ERR_IO, "not found");
    CHECK(contains(d3m_last_error(), "missing.h5"),
          "message: %s", d3m_last_error());
    CHECK(f == NULL, "in %s", __func__);

    path_in_folder(text_path, sizeof text_path, "notes.h5");
    FILE *text = fopen(text_path, "w");
    fputs("these are notes, not HDF5\n", text);
    fclose(text);
    CHECK_ERROR(d3m_h5_open(text_path, D3M_H5_READ, &f), D3M_ERR_IO, "is not an HDF5 file");
    CHECK(contains(d3m_last_error(), "notes.h5"),
          "message: %s", d3m_last_error());

    CHECK_ERROR(d3m_h5_open(folder, D3M_H5_READ, &f), D3M_ERR_IO, "is a folder");

    /* Missing dataset and wrong dtype. */
    path_in_folder(path, sizeof path, "typed.h5");
    CHECK_OK(d3m_h5_open(path, D3M_H5_CREATE, &f));
    size_t shape[1] = {3};
    float floats[3] = {1, 2, 3};
    int64_t ints[3] = {1, 2, 3};
    CHECK_OK(d3m_h5_write_floats(f, "za", 1, shape, floats));
    CHECK_OK(d3m_h5_write_int64(f, "seed", 1, shape, ints));
    CHECK_ERROR(d3m_h5_read_floats(f, "fastpm", floats), D3M_ERR_IO,
                "dataset '/fastpm' not found in");
    CHECK(contains(d3m_last_error(), "typed.h5"),
          "message: %s", d3m_last_error());
    CHECK(contains(d3m_last_error(), "/seed [3] int64, /za [3] float32"),
          "message: %s", d3m_last_error());
    CHECK_ERROR(d3m_h5_read_floats(f, "seed", floats), D3M_ERR_ARG,
                "dataset '/seed' in");
    CHECK(contains(d3m_last_error(), "has dtype int64, expected floating-point data"),
          "message: %s", d3m_last_error());
    CHECK_ERROR(d3m_h5_read_int64(f, "za", ints), D3M_ERR_ARG, "has dtype float32");
    CHECK_OK(d3m_h5_close(f));
}


/* Keep the first half of an HDF5 file whose data sits after its metadata. */
static void test_truncated_file(void)
{
    char path[600], cut[600];
    path_in_folder(path, sizeof path, "whole.h5");
    path_in_folder(cut, sizeof cut, "cut.h5");
    d3m_h5file *f = NULL;
    CHECK_OK(d3m_h5_open(path, D3M_H5_CREATE, &f));
    size_t shape[1] = {4096};
    float *data = calloc(4096, sizeof *data);
    CHECK_OK(d3m_h5_write_floats(f, "big", 1, shape, data));
    free(data);
    CHECK_OK(d3m_h5_close(f));

    struct stat st;
    stat(path, &st);
    FILE *in = fopen(path, "rb"), *out = fopen(cut, "wb");
    char *bytes = malloc((size_t)st.st_size);
    size_t half = (size_t)st.st_size / 2;
    CHECK(fread(bytes, 1, (size_t)st.st_size, in) == (size_t)st.st_size, "in %s", __func__);
    fwrite(bytes, 1, half, out);
    fclose(in);
    fclose(out);
    free(bytes);

    CHECK_ERROR(d3m_h5_open(cut, D3M_H5_READ, &f), D3M_ERR_IO, "is truncated");
    CHECK(contains(d3m_last_error(), "cut.h5"),
          "message: %s", d3m_last_error());
}


static void test_unwritable_folders(void)
{
    char path[600];
    d3m_h5file *f = NULL;
    path_in_folder(path, sizeof path, "no-such-folder/out.h5");
    CHECK_ERROR(d3m_h5_open(path, D3M_H5_CREATE, &f), D3M_ERR_IO, "is not accessible");
    CHECK(contains(d3m_last_error(), "no-such-folder"),
          "message: %s", d3m_last_error());
    CHECK_ERROR(d3m_h5_create_atomic(path, &f), D3M_ERR_IO, "no-such-folder");

    path_in_folder(path, sizeof path, "notes.h5/out.h5");   /* parent is a file */
    CHECK_ERROR(d3m_h5_open(path, D3M_H5_APPEND, &f), D3M_ERR_IO, "is not a folder");

    /* Permission bits do not bind root, so this case runs for other users only. */
    char locked[600];
    path_in_folder(locked, sizeof locked, "locked");
    mkdir(locked, 0555);
    if (geteuid() != 0) {
        path_in_folder(path, sizeof path, "locked/out.h5");
        CHECK_ERROR(d3m_h5_create_atomic(path, &f), D3M_ERR_IO, "is not writable");
    } else {
        printf("unwritable-folder permission case skipped: running as root\n");
    }
}


static void test_atomic_file(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "checkpoint.h5");
    d3m_h5file *f = NULL;
    size_t shape[1] = {2};
    float old_values[2] = {1, 2}, new_values[2] = {3, 4}, back[2] = {0};

    CHECK_OK(d3m_h5_create_atomic(path, &f));
    CHECK_OK(d3m_h5_write_floats(f, "w", 1, shape, old_values));
    CHECK(access(path, F_OK) != 0, "in %s", __func__);   /* nothing at path before the commit */
    CHECK_OK(d3m_h5_commit(f));
    CHECK_OK(d3m_h5_close(f));

    /* An abandoned write leaves the committed file and no temporary file. */
    CHECK_OK(d3m_h5_create_atomic(path, &f));
    CHECK_OK(d3m_h5_write_floats(f, "w", 1, shape, new_values));
    CHECK(count_hidden_files() == 1, "in %s", __func__);
    CHECK_OK(d3m_h5_close(f));
    CHECK(count_hidden_files() == 0, "in %s", __func__);
    CHECK_OK(d3m_h5_open(path, D3M_H5_READ, &f));
    CHECK_OK(d3m_h5_read_floats(f, "w", back));
    CHECK(back[0] == 1.0f, "in %s", __func__);
    CHECK(back[1] == 2.0f, "in %s", __func__);
    CHECK_OK(d3m_h5_close(f));

    CHECK_OK(d3m_h5_create_atomic(path, &f));
    CHECK_OK(d3m_h5_write_floats(f, "w", 1, shape, new_values));
    CHECK_OK(d3m_h5_commit(f));
    CHECK_ERROR(d3m_h5_commit(f), D3M_ERR_ARG, "already committed");
    CHECK_OK(d3m_h5_close(f));
    CHECK_OK(d3m_h5_open(path, D3M_H5_READ, &f));
    CHECK_OK(d3m_h5_read_floats(f, "w", back));
    CHECK(back[0] == 3.0f, "in %s", __func__);
    CHECK(back[1] == 4.0f, "in %s", __func__);
    CHECK_OK(d3m_h5_close(f));
    CHECK(count_hidden_files() == 0, "in %s", __func__);
}


/* Tensor transfers go through the device (PoCL in CI). */
static void test_tensor_round_trip(void)
{
    char path[600];
    path_in_folder(path, sizeof path, "tensor.h5");
    size_t shape[2] = {3, 4}, other[2] = {4, 3};
    float values[12], back[12] = {0};
    for (int i = 0; i < 12; i++)
        values[i] = (float)i - 5.5f;
    d3m_tensor *t = NULL, *u = NULL, *w = NULL;
    CHECK_OK(d3m_tensor_new(2, shape, &t));
    CHECK_OK(d3m_tensor_new(2, shape, &u));
    CHECK_OK(d3m_tensor_new(2, other, &w));
    if (t == NULL || u == NULL || w == NULL)
        return;
    CHECK_OK(d3m_tensor_write(t, values));

    d3m_h5file *f = NULL;
    CHECK_OK(d3m_h5_open(path, D3M_H5_CREATE, &f));
    CHECK_OK(d3m_h5_write_tensor(f, "/fields/t", t));
    CHECK_OK(d3m_h5_read_tensor(f, "fields/t", u));
    CHECK_OK(d3m_tensor_read(u, back));
    CHECK(memcmp(back, values, sizeof values) == 0, "in %s", __func__);
    CHECK_ERROR(d3m_h5_read_tensor(f, "fields/t", w), D3M_ERR_SHAPE,
                "dataset '/fields/t' in");
    CHECK(contains(d3m_last_error(), "has shape [3, 4] but the tensor has [4, 3]"),
          "message: %s", d3m_last_error());
    CHECK_OK(d3m_h5_close(f));
    d3m_tensor_free(t);
    d3m_tensor_free(u);
    d3m_tensor_free(w);
}


int main(void)
{
    make_test_folder(folder, sizeof folder, "io-h5");
    test_dataset_round_trip();
    test_dataset_replaced();
    test_attributes();
    test_listing();
    test_bad_files();
    test_truncated_file();
    test_unwritable_folders();
    test_atomic_file();
    test_tensor_round_trip();
    if (check_failures == 0) remove_test_folder(folder);
    return check_report("test_io_h5");
}
