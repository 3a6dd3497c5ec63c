/* h5_data.c - HDF5 datasets: lookup, shape and type, whole-array reads and
 * writes, tensors, and sample-wise datasets with an unlimited first axis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_internal.h"

#define NAME_MAX_BYTES 1024


/* ---- lookup --------------------------------------------------------------------- */

/* H5Lexists fails rather than returning 0 when a parent group is missing,
 * so each prefix of the path is tested in turn. */
static int link_exists(hid_t file, const char *abs_name)
{
    char prefix[NAME_MAX_BYTES];
    size_t len = strlen(abs_name);
    for (size_t i = 1; i <= len; i++) {
        if (abs_name[i] != '/' && abs_name[i] != '\0')
            continue;
        memcpy(prefix, abs_name, i);
        prefix[i] = '\0';
        if (H5Lexists(file, prefix, H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return 0;
        }
    }
    return 1;
}


int d3m_h5_exists(d3m_h5file *f, const char *name, int *kind)
{
    char abs_name[NAME_MAX_BYTES];
    D3M_TRY(d3m_h5_absolute_name(f, name, abs_name, sizeof abs_name));
    *kind = 0;
    if (strcmp(abs_name, "/") == 0) {
        *kind = 2;
        return D3M_OK;
    }
    if (!link_exists(f->id, abs_name))
        return D3M_OK;

    hid_t object = H5Oopen(f->id, abs_name, H5P_DEFAULT);
    if (object < 0) {
        /* A dangling soft or external link counts as absent. */
        H5Eclear2(H5E_DEFAULT);
        return D3M_OK;
    }
    H5I_type_t type = H5Iget_type(object);
    if (type == H5I_DATASET)
        *kind = 1;
    else if (type == H5I_GROUP)
        *kind = 2;
    H5Oclose(object);
    return D3M_OK;
}


void d3m_h5_describe_contents(d3m_h5file *f, char *buf, size_t size)
{
    d3m_h5_entry *entries = NULL;
    int count = 0;
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", d3m_last_error());
    if (d3m_h5_list(f, &entries, &count) != D3M_OK) {
        snprintf(buf, size, "contents unreadable");
        d3m_fail(D3M_ERR_IO, "%s", saved);
        return;
    }

    size_t used = (size_t)snprintf(buf, size, "datasets");
    int shown = 0, datasets = 0;
    for (int i = 0; i < count; i++) {
        if (entries[i].is_group)
            continue;
        datasets++;
        if (shown == 24 || used >= size)
            continue;
        char shape[128];
        d3m_format_shape(shape, sizeof shape, entries[i].info.ndim, entries[i].info.shape);
        used += (size_t)snprintf(buf + used, size - used, "%s %s %s %s", shown ? "," : "",
                                 entries[i].name, shape, d3m_h5_type_name(&entries[i].info));
        shown++;
    }
    if (datasets == 0)
        snprintf(buf, size, "no datasets");
    else if (datasets > shown && used < size)
        snprintf(buf + used, size - used, " and %d more", datasets - shown);
    d3m_h5_entries_free(entries, count);
}


int d3m_h5_open_dataset(d3m_h5file *f, const char *abs_name, hid_t *dataset)
{
    *dataset = H5I_INVALID_HID;
    if (f->id < 0)
        return d3m_fail(D3M_ERR_ARG, "HDF5 file '%s' is closed", f->path);
    int kind = 0;
    D3M_TRY(d3m_h5_exists(f, abs_name, &kind));
    if (kind != 1) {
        char contents[2048];
        d3m_h5_describe_contents(f, contents, sizeof contents);
        return d3m_fail(D3M_ERR_IO, "dataset '%s' not found in '%s'%s; the file contains %s",
                        abs_name, f->path, kind == 2 ? " (that name is a group)" : "",
                        contents);
    }
    *dataset = H5Dopen2(f->id, abs_name, H5P_DEFAULT);
    if (*dataset < 0)
        return d3m_h5_fail(D3M_ERR_IO, "cannot open dataset '%s' in '%s'", abs_name, f->path);
    return D3M_OK;
}


/* ---- shape and type -------------------------------------------------------------- */

const char *d3m_h5_type_name(const d3m_h5_info *info)
{
    switch (info->type_class) {
    case D3M_H5_FLOAT:
        return info->type_size == 4 ? "float32" : info->type_size == 8 ? "float64"
               : info->type_size == 2 ? "float16" : "float";
    case D3M_H5_INTEGER:
        switch (info->type_size) {
        case 1: return info->is_signed ? "int8" : "uint8";
        case 2: return info->is_signed ? "int16" : "uint16";
        case 4: return info->is_signed ? "int32" : "uint32";
        case 8: return info->is_signed ? "int64" : "uint64";
        default: return "integer";
        }
    case D3M_H5_STRING: return "string";
    default: return "compound or other non-numeric type";
    }
}


static void read_type(hid_t type, d3m_h5_info *info)
{
    H5T_class_t cls = H5Tget_class(type);
    info->type_class = cls == H5T_FLOAT ? D3M_H5_FLOAT
                       : cls == H5T_INTEGER ? D3M_H5_INTEGER
                       : cls == H5T_STRING ? D3M_H5_STRING : D3M_H5_OTHER;
    info->type_size = H5Tget_size(type);
    info->is_signed = cls == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_2;
}


static void read_layout(hid_t dataset, d3m_h5_info *info)
{
    info->gzip_level = -1;
    hid_t dcpl = H5Dget_create_plist(dataset);
    if (dcpl < 0)
        return;
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t chunk[D3M_IO_MAX_DIMS];
        int nd = H5Pget_chunk(dcpl, D3M_IO_MAX_DIMS, chunk);
        info->chunked = nd > 0;
        for (int i = 0; i < nd; i++)
            info->chunk[i] = (size_t)chunk[i];
    }
    int nfilters = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nfilters; i++) {
        unsigned flags = 0, values[4] = {0};
        size_t nvalues = 4;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nvalues, values, 0, NULL,
                                         NULL);
        if (id == H5Z_FILTER_DEFLATE)
            info->gzip_level = nvalues > 0 ? (int)values[0] : 6;
    }
    H5Pclose(dcpl);
}


int d3m_h5_dataset_info(d3m_h5file *f, hid_t dataset, const char *abs_name,
                        d3m_h5_info *info)
{
    memset(info, 0, sizeof *info);
    hid_t space = H5Dget_space(dataset);
    hid_t type = H5Dget_type(dataset);
    int status = D3M_OK;
    int nd = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    if (nd < 0 || type < 0) {
        status = d3m_h5_fail(D3M_ERR_IO, "cannot read the shape of dataset '%s' in '%s'",
                             abs_name, f->path);
    } else if (nd > D3M_IO_MAX_DIMS) {
        status = d3m_fail(D3M_ERR_SHAPE, "dataset '%s' in '%s' has %d dimensions; at most %d "
                          "are supported", abs_name, f->path, nd, D3M_IO_MAX_DIMS);
    } else {
        hsize_t dims[D3M_IO_MAX_DIMS], maxdims[D3M_IO_MAX_DIMS];
        H5Sget_simple_extent_dims(space, dims, maxdims);
        info->ndim = nd;
        info->numel = 1;
        for (int i = 0; i < nd; i++) {
            info->shape[i] = (size_t)dims[i];
            info->numel *= info->shape[i];
        }
        info->extendible = nd > 0 && maxdims[0] == H5S_UNLIMITED;
        read_type(type, info);
        read_layout(dataset, info);
    }
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    return status;
}


int d3m_h5_info_of(d3m_h5file *f, const char *name, d3m_h5_info *info)
{
    char abs_name[NAME_MAX_BYTES];
    D3M_TRY(d3m_h5_absolute_name(f, name, abs_name, sizeof abs_name));
    hid_t dataset;
    D3M_TRY(d3m_h5_open_dataset(f, abs_name, &dataset));
    int status = d3m_h5_dataset_info(f, dataset, abs_name, info);
    H5Dclose(dataset);
    return status;
}


/* ---- whole datasets -------------------------------------------------------------- */

static int check_writable(const d3m_h5file *f)
{
    if (f->id < 0)
        return d3m_fail(D3M_ERR_ARG, "HDF5 file '%s' is closed", f->path);
    if (!f->writable)
        return d3m_fail(D3M_ERR_IO, "HDF5 file '%s' is open read-only; open it for writing",
                        f->path);
    return D3M_OK;
}


/* Link creation properties that create missing parent groups. */
static hid_t link_properties(void)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl >= 0)
        H5Pset_create_intermediate_group(lcpl, 1);
    return lcpl;
}


/* Remove an existing dataset at abs_name so that it can be written anew.
 * A group of that name is an error because replacing it would drop its
 * members. */
static int remove_existing(d3m_h5file *f, const char *abs_name)
{
    int kind = 0;
    D3M_TRY(d3m_h5_exists(f, abs_name, &kind));
    if (kind == 2)
        return d3m_fail(D3M_ERR_ARG, "cannot write dataset '%s' in '%s': a group has that name",
                        abs_name, f->path);
    if (kind == 1 && H5Ldelete(f->id, abs_name, H5P_DEFAULT) < 0)
        return d3m_h5_fail(D3M_ERR_IO, "cannot replace dataset '%s' in '%s'", abs_name,
                           f->path);
    return D3M_OK;
}


static int write_array(d3m_h5file *f, const char *name, hid_t file_type, hid_t memory_type,
                       int ndim, const size_t *shape, const void *data)
{
    D3M_TRY(check_writable(f));
    char abs_name[NAME_MAX_BYTES];
    D3M_TRY(d3m_h5_absolute_name(f, name, abs_name, sizeof abs_name));
    if (ndim < 0 || ndim > D3M_IO_MAX_DIMS)
        return d3m_fail(D3M_ERR_ARG, "dataset '%s' for '%s': rank %d is outside 0..%d",
                        abs_name, f->path, ndim, D3M_IO_MAX_DIMS);
    D3M_TRY(remove_existing(f, abs_name));

    hsize_t dims[D3M_IO_MAX_DIMS];
    for (int i = 0; i < ndim; i++)
        dims[i] = shape[i];
    hid_t space = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndim, dims, NULL);
    hid_t lcpl = link_properties();
    hid_t dataset = H5Dcreate2(f->id, abs_name, file_type, space, lcpl, H5P_DEFAULT,
                               H5P_DEFAULT);
    int status = D3M_OK;
    if (dataset < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "cannot create dataset '%s' in '%s'", abs_name,
                             f->path);
    else if (H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "writing dataset '%s' in '%s' failed", abs_name,
                             f->path);
    if (dataset >= 0)
        H5Dclose(dataset);
    H5Pclose(lcpl);
    H5Sclose(space);
    return status;
}


int d3m_h5_write_floats(d3m_h5file *f, const char *name, int ndim, const size_t *shape,
                        const float *data)
{
    return write_array(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, ndim, shape, data);
}


int d3m_h5_write_int64(d3m_h5file *f, const char *name, int ndim, const size_t *shape,
                       const int64_t *data)
{
    return write_array(f, name, H5T_STD_I64LE, H5T_NATIVE_INT64, ndim, shape, data);
}


/* Check the dataset's type class against what the caller reads it as. */
static int check_class(d3m_h5file *f, const char *abs_name, const d3m_h5_info *info,
                       d3m_h5_class expected)
{
    if (info->type_class == expected)
        return D3M_OK;
    const char *want = expected == D3M_H5_FLOAT ? "floating-point" : "integer";
    const char *hint = expected == D3M_H5_FLOAT ? "read it as integers"
                                                : "read it as floats (a tensor)";
    return d3m_fail(D3M_ERR_ARG, "dataset '%s' in '%s' has dtype %s, expected %s data; %s",
                    abs_name, f->path, d3m_h5_type_name(info), want, hint);
}


static int read_array(d3m_h5file *f, const char *name, d3m_h5_class expected,
                      hid_t memory_type, void *data)
{
    char abs_name[NAME_MAX_BYTES];
    D3M_TRY(d3m_h5_absolute_name(f, name, abs_name, sizeof abs_name));
    hid_t dataset;
    D3M_TRY(d3m_h5_open_dataset(f, abs_name, &dataset));
    d3m_h5_info info;
    int status = d3m_h5_dataset_info(f, dataset, abs_name, &info);
    if (status == D3M_OK)
        status = check_class(f, abs_name, &info, expected);
    if (status == D3M_OK && info.numel > 0 &&
        H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "reading dataset '%s' in '%s' failed", abs_name,
                             f->path);
    H5Dclose(dataset);
    return status;
}


int d3m_h5_read_floats(d3m_h5file *f, const char *name, float *data)
{
    return read_array(f, name, D3M_H5_FLOAT, H5T_NATIVE_FLOAT, data);
}


int d3m_h5_read_int64(d3m_h5file *f, const char *name, int64_t *data)
{
    return read_array(f, name, D3M_H5_INTEGER, H5T_NATIVE_INT64, data);
}


/* ---- tensors --------------------------------------------------------------------- */

int d3m_h5_write_tensor(d3m_h5file *f, const char *name, const d3m_tensor *t)
{
    float *host = malloc(t->numel * sizeof *host);
    if (host == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory writing '%s' to '%s' (%zu floats)",
                        name, f->path, t->numel);
    int status = d3m_tensor_read(t, host);
    if (status == D3M_OK)
        status = d3m_h5_write_floats(f, name, t->ndim, t->shape, host);
    free(host);
    return status;
}


int d3m_h5_read_tensor(d3m_h5file *f, const char *name, d3m_tensor *t)
{
    char abs_name[NAME_MAX_BYTES];
    D3M_TRY(d3m_h5_absolute_name(f, name, abs_name, sizeof abs_name));
    d3m_h5_info info;
    D3M_TRY(d3m_h5_info_of(f, abs_name, &info));
    int same = info.ndim == t->ndim;
    for (int i = 0; same && i < t->ndim; i++)
        same = info.shape[i] == t->shape[i];
    if (!same) {
        char have[128], want[128];
        d3m_format_shape(have, sizeof have, info.ndim, info.shape);
        d3m_format_shape(want, sizeof want, t->ndim, t->shape);
        return d3m_fail(D3M_ERR_SHAPE, "dataset '%s' in '%s' has shape %s but the tensor has %s",
                        abs_name, f->path, have, want);
    }

    float *host = malloc(t->numel * sizeof *host);
    if (host == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory reading '%s' from '%s'", abs_name,
                        f->path);
    int status = d3m_h5_read_floats(f, abs_name, host);
    if (status == D3M_OK)
        status = d3m_tensor_write(t, host);
    free(host);
    return status;
}


/* ---- sample-wise datasets -------------------------------------------------------- */

int d3m_h5_create_samples(d3m_h5file *f, const char *name, int sample_ndim,
                          const size_t *sample_shape, d3m_h5_class type_class, int gzip_level)
{
    D3M_TRY(check_writable(f));
    char abs_name[NAME_MAX_BYTES];
    D3M_TRY(d3m_h5_absolute_name(f, name, abs_name, sizeof abs_name));
    if (sample_ndim < 0 || sample_ndim >= D3M_IO_MAX_DIMS)
        return d3m_fail(D3M_ERR_ARG, "sample rank %d of '%s' is outside 0..%d", sample_ndim,
                        abs_name, D3M_IO_MAX_DIMS - 1);
    if (type_class != D3M_H5_FLOAT && type_class != D3M_H5_INTEGER)
        return d3m_fail(D3M_ERR_ARG, "sample dataset '%s': only float32 and int64 are "
                        "supported", abs_name);
    if (gzip_level < 0 || gzip_level > 9)
        return d3m_fail(D3M_ERR_ARG, "gzip level %d for '%s' is outside 0..9", gzip_level,
                        abs_name);
    int kind = 0;
    D3M_TRY(d3m_h5_exists(f, abs_name, &kind));
    if (kind != 0)
        return d3m_fail(D3M_ERR_ARG, "cannot create '%s' in '%s': the name exists", abs_name,
                        f->path);

    int ndim = sample_ndim + 1;
    hsize_t dims[D3M_IO_MAX_DIMS], maxdims[D3M_IO_MAX_DIMS], chunk[D3M_IO_MAX_DIMS];
    dims[0] = 0;
    maxdims[0] = H5S_UNLIMITED;
    chunk[0] = 1;
    for (int i = 0; i < sample_ndim; i++)
        dims[i + 1] = maxdims[i + 1] = chunk[i + 1] = sample_shape[i];

    hid_t space = H5Screate_simple(ndim, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t lcpl = link_properties();
    H5Pset_chunk(dcpl, ndim, chunk);
    if (gzip_level > 0)
        H5Pset_deflate(dcpl, (unsigned)gzip_level);
    hid_t type = type_class == D3M_H5_FLOAT ? H5T_IEEE_F32LE : H5T_STD_I64LE;
    hid_t dataset = H5Dcreate2(f->id, abs_name, type, space, lcpl, dcpl, H5P_DEFAULT);
    int status = D3M_OK;
    if (dataset < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "cannot create dataset '%s' in '%s'", abs_name,
                             f->path);
    else
        H5Dclose(dataset);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(space);
    return status;
}


/* Open a sample dataset and read its info; fails unless the first axis is
 * unlimited and the dtype is of the expected class. */
static int open_samples(d3m_h5file *f, const char *name, d3m_h5_class expected, char *abs_name,
                        hid_t *dataset, d3m_h5_info *info)
{
    D3M_TRY(d3m_h5_absolute_name(f, name, abs_name, NAME_MAX_BYTES));
    D3M_TRY(d3m_h5_open_dataset(f, abs_name, dataset));
    int status = d3m_h5_dataset_info(f, *dataset, abs_name, info);
    if (status == D3M_OK && !info->extendible)
        status = d3m_fail(D3M_ERR_ARG, "dataset '%s' in '%s' has a fixed first dimension, so "
                          "samples cannot be appended", abs_name, f->path);
    if (status == D3M_OK)
        status = check_class(f, abs_name, info, expected);
    if (status != D3M_OK) {
        H5Dclose(*dataset);
        *dataset = H5I_INVALID_HID;
    }
    return status;
}


/* Read or write samples first..first+count-1 of an open dataset. */
static int transfer_samples(d3m_h5file *f, hid_t dataset, const char *abs_name,
                            const d3m_h5_info *info, size_t first, size_t count,
                            hid_t memory_type, void *data, int writing)
{
    hsize_t start[D3M_IO_MAX_DIMS] = {0}, extent[D3M_IO_MAX_DIMS];
    start[0] = first;
    extent[0] = count;
    for (int i = 1; i < info->ndim; i++)
        extent[i] = info->shape[i];

    hid_t file_space = H5Dget_space(dataset);
    hid_t memory_space = H5Screate_simple(info->ndim, extent, NULL);
    int status = D3M_OK;
    if (file_space < 0 || memory_space < 0 ||
        H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, extent, NULL) < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "cannot select samples of '%s' in '%s'", abs_name,
                             f->path);
    else if (writing && H5Dwrite(dataset, memory_type, memory_space, file_space, H5P_DEFAULT,
                                 data) < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "writing samples %zu..%zu of '%s' in '%s' failed",
                             first, first + count - 1, abs_name, f->path);
    else if (!writing && H5Dread(dataset, memory_type, memory_space, file_space, H5P_DEFAULT,
                                 data) < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "reading samples %zu..%zu of '%s' in '%s' failed",
                             first, first + count - 1, abs_name, f->path);
    if (memory_space >= 0)
        H5Sclose(memory_space);
    if (file_space >= 0)
        H5Sclose(file_space);
    return status;
}


static int append_samples(d3m_h5file *f, const char *name, d3m_h5_class expected,
                          hid_t memory_type, size_t count, const void *data)
{
    D3M_TRY(check_writable(f));
    char abs_name[NAME_MAX_BYTES];
    hid_t dataset;
    d3m_h5_info info;
    D3M_TRY(open_samples(f, name, expected, abs_name, &dataset, &info));

    hsize_t dims[D3M_IO_MAX_DIMS];
    for (int i = 0; i < info.ndim; i++)
        dims[i] = info.shape[i];
    dims[0] += count;
    int status = D3M_OK;
    if (H5Dset_extent(dataset, dims) < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "cannot extend dataset '%s' in '%s'", abs_name,
                             f->path);
    else
        status = transfer_samples(f, dataset, abs_name, &info, info.shape[0], count,
                                  memory_type, (void *)data, 1);
    H5Dclose(dataset);
    return status;
}


int d3m_h5_append_floats(d3m_h5file *f, const char *name, size_t count, const float *data)
{
    return append_samples(f, name, D3M_H5_FLOAT, H5T_NATIVE_FLOAT, count, data);
}


int d3m_h5_append_int64(d3m_h5file *f, const char *name, size_t count, const int64_t *data)
{
    return append_samples(f, name, D3M_H5_INTEGER, H5T_NATIVE_INT64, count, data);
}


static int read_samples(d3m_h5file *f, const char *name, d3m_h5_class expected,
                        hid_t memory_type, size_t first, size_t count, void *data)
{
    char abs_name[NAME_MAX_BYTES];
    hid_t dataset;
    d3m_h5_info info;
    D3M_TRY(open_samples(f, name, expected, abs_name, &dataset, &info));
    int status = D3M_OK;
    if (count == 0 || first + count > info.shape[0] || first + count < first)
        status = d3m_fail(D3M_ERR_ARG, "samples %zu..%zu (counting from 0) requested from "
                          "dataset '%s' in '%s', which holds %zu samples",
                          first, first + count - 1, abs_name, f->path, info.shape[0]);
    else
        status = transfer_samples(f, dataset, abs_name, &info, first, count, memory_type, data,
                                  0);
    H5Dclose(dataset);
    return status;
}


int d3m_h5_read_sample_floats(d3m_h5file *f, const char *name, size_t first, size_t count,
                              float *data)
{
    return read_samples(f, name, D3M_H5_FLOAT, H5T_NATIVE_FLOAT, first, count, data);
}


int d3m_h5_read_sample_int64(d3m_h5file *f, const char *name, size_t first, size_t count,
                             int64_t *data)
{
    return read_samples(f, name, D3M_H5_INTEGER, H5T_NATIVE_INT64, first, count, data);
}


int d3m_h5_set_sample_count(d3m_h5file *f, const char *name, size_t count)
{
    D3M_TRY(check_writable(f));
    char abs_name[NAME_MAX_BYTES];
    D3M_TRY(d3m_h5_absolute_name(f, name, abs_name, sizeof abs_name));
    hid_t dataset;
    D3M_TRY(d3m_h5_open_dataset(f, abs_name, &dataset));
    d3m_h5_info info;
    int status = d3m_h5_dataset_info(f, dataset, abs_name, &info);
    if (status == D3M_OK && !info.extendible)
        status = d3m_fail(D3M_ERR_ARG, "dataset '%s' in '%s' has a fixed first dimension",
                          abs_name, f->path);
    if (status == D3M_OK) {
        hsize_t dims[D3M_IO_MAX_DIMS];
        for (int i = 0; i < info.ndim; i++)
            dims[i] = info.shape[i];
        dims[0] = count;
        if (H5Dset_extent(dataset, dims) < 0)
            status = d3m_h5_fail(D3M_ERR_IO, "cannot resize dataset '%s' in '%s' to %zu samples",
                                 abs_name, f->path, count);
    }
    H5Dclose(dataset);
    return status;
}
