/* npy.c - NumPy .npy files. The format: the magic "\x93NUMPY", a major and
 * minor version byte, the header length (uint16 little-endian in version 1,
 * uint32 in versions 2 and 3), then a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (32, 32, 32, 10), }
 * padded with spaces and a newline so that the data starts at a multiple
 * of 64 bytes (NumPy's format documentation, numpy.lib.format). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/io_internal.h"

#define HEADER_MAX (1u << 20)


size_t d3m_npy_dtype_size(d3m_npy_dtype dtype)
{
    return dtype == D3M_NPY_FLOAT32 ? 4 : 8;
}


const char *d3m_npy_dtype_descr(d3m_npy_dtype dtype)
{
    switch (dtype) {
    case D3M_NPY_FLOAT32: return "<f4";
    case D3M_NPY_FLOAT64: return "<f8";
    default: return "<i8";
    }
}


static int host_is_little_endian(void)
{
    const uint16_t probe = 1;
    return *(const unsigned char *)&probe == 1;
}


/* ---- header parsing --------------------------------------------------------------- */

/* Position just after "'key':" (either quote style) and any blanks, or NULL. */
static const char *find_value(const char *header, const char *key)
{
    char quoted[2][64];
    snprintf(quoted[0], sizeof quoted[0], "'%s'", key);
    snprintf(quoted[1], sizeof quoted[1], "\"%s\"", key);
    for (int q = 0; q < 2; q++) {
        const char *at = strstr(header, quoted[q]);
        if (at == NULL)
            continue;
        at += strlen(quoted[q]);
        while (isspace((unsigned char)*at))
            at++;
        if (*at != ':')
            return NULL;
        at++;
        while (isspace((unsigned char)*at))
            at++;
        return at;
    }
    return NULL;
}


static int parse_descr(const char *path, const char *header, d3m_npy_array *out)
{
    const char *at = find_value(header, "descr");
    if (at == NULL || (*at != '\'' && *at != '"'))
        return d3m_fail(D3M_ERR_IO, ".npy file '%s': header has no 'descr' string: %s", path,
                        header);
    char quote = *at++;
    char descr[32];
    size_t len = 0;
    while (at[len] != quote && at[len] != '\0' && len + 1 < sizeof descr) {
        descr[len] = at[len];
        len++;
    }
    descr[len] = '\0';

    if (strcmp(descr, "<f4") == 0)
        out->dtype = D3M_NPY_FLOAT32;
    else if (strcmp(descr, "<f8") == 0)
        out->dtype = D3M_NPY_FLOAT64;
    else if (strcmp(descr, "<i8") == 0)
        out->dtype = D3M_NPY_INT64;
    else if (descr[0] == '>')
        return d3m_fail(D3M_ERR_ARG, ".npy file '%s' has big-endian dtype '%s'; only "
                        "little-endian '<f4', '<f8' and '<i8' are read (convert with "
                        "a.astype('<%s'))", path, descr, descr + 1);
    else
        return d3m_fail(D3M_ERR_ARG, ".npy file '%s' has dtype '%s'; only '<f4' (float32), "
                        "'<f8' (float64) and '<i8' (int64) are read", path, descr);
    return D3M_OK;
}


static int parse_order(const char *path, const char *header, d3m_npy_array *out)
{
    const char *at = find_value(header, "fortran_order");
    if (at != NULL && strncmp(at, "True", 4) == 0)
        out->fortran_order = 1;
    else if (at != NULL && strncmp(at, "False", 5) == 0)
        out->fortran_order = 0;
    else
        return d3m_fail(D3M_ERR_IO, ".npy file '%s': header has no 'fortran_order' True or "
                        "False: %s", path, header);
    return D3M_OK;
}


static int parse_shape(const char *path, const char *header, d3m_npy_array *out)
{
    const char *at = find_value(header, "shape");
    if (at == NULL || *at != '(')
        return d3m_fail(D3M_ERR_IO, ".npy file '%s': header has no 'shape' tuple: %s", path,
                        header);
    at++;
    out->ndim = 0;
    out->count = 1;
    for (;;) {
        while (isspace((unsigned char)*at) || *at == ',')
            at++;
        if (*at == ')')
            break;
        if (!isdigit((unsigned char)*at))
            return d3m_fail(D3M_ERR_IO, ".npy file '%s': cannot parse the shape in header %s",
                            path, header);
        if (out->ndim == D3M_IO_MAX_DIMS)
            return d3m_fail(D3M_ERR_SHAPE, ".npy file '%s' has more than %d dimensions", path,
                            D3M_IO_MAX_DIMS);
        char *end = NULL;
        unsigned long long extent = strtoull(at, &end, 10);
        at = end;
        if (*at == 'L')   /* Python 2 long literal */
            at++;
        out->shape[out->ndim++] = (size_t)extent;
        out->count *= (size_t)extent;
    }
    return D3M_OK;
}


/* Read the prefix and header of an open file into out. */
static int read_header(const char *path, FILE *file, d3m_npy_array *out)
{
    unsigned char prefix[12];
    if (fread(prefix, 1, 10, file) != 10 || memcmp(prefix, "\x93NUMPY", 6) != 0)
        return d3m_fail(D3M_ERR_IO, "'%s' is not a .npy file: it does not start with the "
                        "magic string \\x93NUMPY", path);
    out->version = prefix[6];
    size_t header_len = 0, prefix_len = 10;
    if (out->version == 1) {
        header_len = (size_t)prefix[8] | (size_t)prefix[9] << 8;
    } else if (out->version == 2 || out->version == 3) {
        if (fread(prefix + 10, 1, 2, file) != 2)
            return d3m_fail(D3M_ERR_IO, ".npy file '%s' is truncated inside its header", path);
        header_len = (size_t)prefix[8] | (size_t)prefix[9] << 8 | (size_t)prefix[10] << 16 |
                     (size_t)prefix[11] << 24;
        prefix_len = 12;
    } else {
        return d3m_fail(D3M_ERR_IO, ".npy file '%s' has format version %d.%d; versions 1, 2 "
                        "and 3 are read", path, prefix[6], prefix[7]);
    }
    if (header_len > HEADER_MAX)
        return d3m_fail(D3M_ERR_IO, ".npy file '%s' declares a header of %zu bytes, more than "
                        "the %u accepted", path, header_len, HEADER_MAX);

    char *header = malloc(header_len + 1);
    if (header == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory reading '%s'", path);
    int status = D3M_OK;
    if (fread(header, 1, header_len, file) != header_len)
        status = d3m_fail(D3M_ERR_IO, ".npy file '%s' is truncated inside its header", path);
    if (status == D3M_OK) {
        header[header_len] = '\0';
        status = parse_descr(path, header, out);
    }
    if (status == D3M_OK)
        status = parse_order(path, header, out);
    if (status == D3M_OK)
        status = parse_shape(path, header, out);
    free(header);
    out->data_offset = prefix_len + header_len;
    return status;
}


static int open_and_parse(const char *path, FILE **file, d3m_npy_array *out)
{
    memset(out, 0, sizeof *out);
    *file = fopen(path, "rb");
    if (*file == NULL) {
        if (errno == ENOENT)
            return d3m_fail(D3M_ERR_IO, ".npy file '%s' not found; check the path", path);
        return d3m_fail(D3M_ERR_IO, "cannot open .npy file '%s': %s", path, strerror(errno));
    }
    int status = read_header(path, *file, out);

    struct stat st;
    size_t bytes = out->count * d3m_npy_dtype_size(out->dtype);
    if (status == D3M_OK && fstat(fileno(*file), &st) == 0 &&
        (size_t)st.st_size < out->data_offset + bytes)
        status = d3m_fail(D3M_ERR_IO, ".npy file '%s' is truncated: its header declares %zu "
                          "data bytes but only %lld follow the header", path, bytes,
                          (long long)st.st_size - (long long)out->data_offset);
    if (status != D3M_OK) {
        fclose(*file);
        *file = NULL;
    }
    return status;
}


int d3m_npy_read_header(const char *path, d3m_npy_array *out)
{
    FILE *file = NULL;
    D3M_TRY(open_and_parse(path, &file, out));
    fclose(file);
    return D3M_OK;
}


/* ---- layout conversion ------------------------------------------------------------ */

/* Copy between C order (row-major) and Fortran order (column-major): for
 * every element in C order, its Fortran offset is sum_d index[d] stride[d]
 * with stride[0] = 1 and stride[d] = stride[d-1] shape[d-1]. */
static void transpose_layout(const void *src, void *dst, int ndim, const size_t *shape,
                             size_t count, size_t element, int to_fortran)
{
    size_t stride[D3M_IO_MAX_DIMS], index[D3M_IO_MAX_DIMS] = {0};
    size_t s = 1;
    for (int d = 0; d < ndim; d++) {
        stride[d] = s;
        s *= shape[d];
    }
    const char *in = src;
    char *out = dst;
    size_t fortran = 0;
    for (size_t c = 0; c < count; c++) {
        if (to_fortran)
            memcpy(out + fortran * element, in + c * element, element);
        else
            memcpy(out + c * element, in + fortran * element, element);
        for (int d = ndim - 1; d >= 0; d--) {
            index[d]++;
            fortran += stride[d];
            if (index[d] < shape[d])
                break;
            fortran -= index[d] * stride[d];
            index[d] = 0;
        }
    }
}


int d3m_npy_read(const char *path, d3m_npy_array *out)
{
    if (!host_is_little_endian())
        return d3m_fail(D3M_ERR_ARG, "reading .npy files needs a little-endian host");
    FILE *file = NULL;
    D3M_TRY(open_and_parse(path, &file, out));

    size_t element = d3m_npy_dtype_size(out->dtype);
    size_t bytes = out->count * element;
    void *data = malloc(bytes > 0 ? bytes : 1);
    int status = D3M_OK;
    if (data == NULL)
        status = d3m_fail(D3M_ERR_MEMORY, "out of host memory reading %zu bytes from '%s'",
                          bytes, path);
    else if (fseek(file, (long)out->data_offset, SEEK_SET) != 0 ||
             fread(data, 1, bytes, file) != bytes)
        status = d3m_fail(D3M_ERR_IO, "reading the data of .npy file '%s' failed: %s", path,
                          ferror(file) ? strerror(errno) : "the file ended early");
    fclose(file);

    if (status == D3M_OK && out->fortran_order && out->ndim > 1) {
        void *c_order = malloc(bytes);
        if (c_order == NULL) {
            status = d3m_fail(D3M_ERR_MEMORY, "out of host memory reordering '%s'", path);
        } else {
            transpose_layout(data, c_order, out->ndim, out->shape, out->count, element, 0);
            free(data);
            data = c_order;
        }
    }
    if (status != D3M_OK) {
        free(data);
        return status;
    }
    out->data = data;
    return D3M_OK;
}


void d3m_npy_free(d3m_npy_array *array)
{
    if (array == NULL)
        return;
    free(array->data);
    array->data = NULL;
}


void d3m_npy_to_floats(const d3m_npy_array *array, float *out)
{
    for (size_t i = 0; i < array->count; i++) {
        if (array->dtype == D3M_NPY_FLOAT32)
            out[i] = ((const float *)array->data)[i];
        else if (array->dtype == D3M_NPY_FLOAT64)
            out[i] = (float)((const double *)array->data)[i];
        else
            out[i] = (float)((const int64_t *)array->data)[i];
    }
}


/* ---- writing ---------------------------------------------------------------------- */

/* Build the prefix and padded header into buf and return its length. The
 * result is 0 when version 1 was requested and the header does not fit its
 * uint16 length. */
static size_t build_header(char *buf, size_t size, d3m_npy_dtype dtype, int ndim,
                           const size_t *shape, int fortran_order, int *version)
{
    char dict[1024];
    size_t used = (size_t)snprintf(dict, sizeof dict,
                                   "{'descr': '%s', 'fortran_order': %s, 'shape': (",
                                   d3m_npy_dtype_descr(dtype), fortran_order ? "True" : "False");
    for (int d = 0; d < ndim; d++)
        used += (size_t)snprintf(dict + used, sizeof dict - used, "%zu%s", shape[d],
                                 ndim == 1 || d + 1 < ndim ? ", " : "");
    if (ndim == 1)
        used -= 1;   /* "(5,)" rather than "(5, )" */
    used += (size_t)snprintf(dict + used, sizeof dict - used, "), }");

    size_t prefix = *version == 2 ? 12 : 10;
    size_t total = (prefix + used + 1 + 63) / 64 * 64;
    if (*version == 0 && total - prefix > 65535) {
        *version = 2;
        prefix = 12;
        total = (prefix + used + 1 + 63) / 64 * 64;
    } else if (*version == 0) {
        *version = 1;
    }
    size_t header_len = total - prefix;
    if ((*version == 1 && header_len > 65535) || total > size)
        return 0;

    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (char)*version;
    buf[7] = 0;
    for (size_t b = 0; b < prefix - 8; b++)
        buf[8 + b] = (char)(header_len >> (8 * b) & 0xff);
    memcpy(buf + prefix, dict, used);
    memset(buf + prefix + used, ' ', header_len - used - 1);
    buf[total - 1] = '\n';
    return total;
}


static int write_bytes(const char *path, const char *temp, const char *header, size_t header_len,
                       const void *data, size_t bytes)
{
    FILE *file = fopen(temp, "wb");
    if (file == NULL)
        return d3m_fail(D3M_ERR_IO, "cannot write '%s': opening temporary file '%s' failed "
                        "(%s)", path, temp, strerror(errno));
    int ok = fwrite(header, 1, header_len, file) == header_len &&
             fwrite(data, 1, bytes, file) == bytes;
    int saved = errno;
    ok = fclose(file) == 0 && ok;
    if (!ok)
        return d3m_fail(D3M_ERR_IO, "cannot write '%s': writing temporary file '%s' failed "
                        "(%s)", path, temp, strerror(saved ? saved : errno));
    return D3M_OK;
}


int d3m_npy_write(const char *path, d3m_npy_dtype dtype, int ndim, const size_t *shape,
                  const void *data, int fortran_order, int version)
{
    if (!host_is_little_endian())
        return d3m_fail(D3M_ERR_ARG, "writing .npy files needs a little-endian host");
    if (ndim < 0 || ndim > D3M_IO_MAX_DIMS)
        return d3m_fail(D3M_ERR_ARG, "cannot write '%s': rank %d is outside 0..%d", path, ndim,
                        D3M_IO_MAX_DIMS);
    if (version != 0 && version != 1 && version != 2)
        return d3m_fail(D3M_ERR_ARG, "cannot write '%s': .npy version %d requested; 1 or 2 "
                        "(0 picks the smallest that fits)", path, version);
    char header[2048];
    size_t header_len = build_header(header, sizeof header, dtype, ndim, shape, fortran_order,
                                     &version);
    if (header_len == 0)
        return d3m_fail(D3M_ERR_ARG, "cannot write '%s': the header does not fit version %d",
                        path, version);

    size_t count = 1, element = d3m_npy_dtype_size(dtype);
    for (int d = 0; d < ndim; d++)
        count *= shape[d];
    void *reordered = NULL;
    if (fortran_order && ndim > 1) {
        reordered = malloc(count * element);
        if (reordered == NULL)
            return d3m_fail(D3M_ERR_MEMORY, "out of host memory writing '%s'", path);
        transpose_layout(data, reordered, ndim, shape, count, element, 1);
        data = reordered;
    }

    char temp[4096];
    int status = d3m_atomic_begin(path, temp, sizeof temp);
    if (status == D3M_OK) {
        status = write_bytes(path, temp, header, header_len, data, count * element);
        if (status == D3M_OK)
            status = d3m_atomic_commit(temp, path);
        if (status != D3M_OK)
            d3m_atomic_discard(temp);
    }
    free(reordered);
    return status;
}


int d3m_npy_write_tensor(const char *path, const d3m_tensor *t)
{
    float *host = malloc(t->numel * sizeof *host);
    if (host == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory writing '%s'", path);
    int status = d3m_tensor_read(t, host);
    if (status == D3M_OK)
        status = d3m_npy_write(path, D3M_NPY_FLOAT32, t->ndim, t->shape, host, 0, 0);
    free(host);
    return status;
}
