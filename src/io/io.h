/*
 * io.h - files of d3m: HDF5 datasets and attributes, sample-wise training
 * sets, atomic whole-file writes, NumPy .npy arrays and the import of
 * ML-Recon's per-simulation files.
 *
 * Every function that can fail returns a d3m_status and sets the message
 * (d3m_last_error()) naming the file, the object inside it and the problem.
 * HDF5's own printing of its error stack is switched off; its innermost
 * error description is appended to our messages instead.
 *
 * Object names are HDF5 paths: "za" and "/za" are the same dataset at the
 * root, "/params/layer1.0.conv1.weight" is in group /params (groups are
 * created when a dataset is written). Array data is row-major (C order).
 * Sample indices in this C interface count from 0.
 */
#ifndef D3M_IO_H
#define D3M_IO_H

#include <stddef.h>
#include <stdint.h>

#include "d3m.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Maximum rank of an HDF5 dataset or .npy array handled here. Tensors are
 * limited to D3M_MAX_DIMS. */
#define D3M_IO_MAX_DIMS 8

/* ---- HDF5 files ------------------------------------------------------------ */

typedef struct d3m_h5file d3m_h5file;

typedef enum d3m_h5_mode {
    D3M_H5_READ,     /* existing file, read only */
    D3M_H5_UPDATE,   /* existing file, read and write */
    D3M_H5_APPEND,   /* read and write, created when missing */
    D3M_H5_CREATE    /* new file, replacing any file at path (not atomic) */
} d3m_h5_mode;

/* Open path. A missing file, a file that is not HDF5 and a truncated file
 * fail with D3M_ERR_IO and a message naming the cause. */
int d3m_h5_open(const char *path, d3m_h5_mode mode, d3m_h5file **out);

/* Create a new file that replaces path only at d3m_h5_commit(): the data
 * goes to a temporary file in the same folder (".NAME.tmp-XXXXXX"), which
 * commit closes, fsyncs and renames over path. Closing without a commit
 * deletes the temporary file and leaves path as it was. */
int d3m_h5_create_atomic(const char *path, d3m_h5file **out);
int d3m_h5_commit(d3m_h5file *f);

/* Flush and close; f is freed even when closing fails. NULL is accepted. */
int d3m_h5_close(d3m_h5file *f);

/* Write buffered data and metadata to disk (H5Fflush). */
int d3m_h5_flush(d3m_h5file *f);

/* The path given at open (the final path for atomic files). */
const char *d3m_h5_path(const d3m_h5file *f);

/* ---- datasets ------------------------------------------------------------ */

typedef enum d3m_h5_class {
    D3M_H5_FLOAT,     /* IEEE floats of any size */
    D3M_H5_INTEGER,   /* signed or unsigned integers of any size */
    D3M_H5_STRING,
    D3M_H5_OTHER      /* compound, enum, opaque, ... */
} d3m_h5_class;

typedef struct d3m_h5_info {
    int ndim;                         /* 0 for a scalar */
    size_t shape[D3M_IO_MAX_DIMS];
    size_t numel;
    d3m_h5_class type_class;
    size_t type_size;                 /* bytes per element */
    int is_signed;
    int chunked;
    size_t chunk[D3M_IO_MAX_DIMS];    /* chunk extents when chunked */
    int extendible;                   /* first axis unlimited */
    int gzip_level;                   /* deflate level, -1 when uncompressed */
} d3m_h5_info;

/* "float32", "int64", "uint8", "string", ... */
const char *d3m_h5_type_name(const d3m_h5_info *info);

/* Whether name is an existing dataset (1), group (2) or absent (0). */
int d3m_h5_exists(d3m_h5file *f, const char *name, int *kind);

/* Shape and type of a dataset. A missing dataset fails with a message that
 * lists the datasets the file contains. */
int d3m_h5_info_of(d3m_h5file *f, const char *name, d3m_h5_info *info);

/* Write a whole dataset as float32 or int64, replacing an existing one. */
int d3m_h5_write_floats(d3m_h5file *f, const char *name, int ndim, const size_t *shape,
                        const float *data);
int d3m_h5_write_int64(d3m_h5file *f, const char *name, int ndim, const size_t *shape,
                       const int64_t *data);

/* Read a whole dataset of info->numel elements. Floats of any size convert
 * to float32; integer datasets are rejected by read_floats and float ones by
 * read_int64, with a message naming the dtype found. */
int d3m_h5_read_floats(d3m_h5file *f, const char *name, float *data);
int d3m_h5_read_int64(d3m_h5file *f, const char *name, int64_t *data);

/* Tensor transfers through a host buffer. read_tensor checks that t has
 * the dataset's shape. */
int d3m_h5_write_tensor(d3m_h5file *f, const char *name, const d3m_tensor *t);
int d3m_h5_read_tensor(d3m_h5file *f, const char *name, d3m_tensor *t);

/* ---- sample-wise datasets ---------------------------------------------------
 * A dataset [N, ...sample_shape] whose first axis is unlimited, chunked one
 * sample per chunk so that reading sample i reads one chunk. */

/* Create with N = 0. type_class is D3M_H5_FLOAT (stored as float32) or
 * D3M_H5_INTEGER (int64). gzip_level 1..9 compresses each chunk, 0 none. */
int d3m_h5_create_samples(d3m_h5file *f, const char *name, int sample_ndim,
                          const size_t *sample_shape, d3m_h5_class type_class, int gzip_level);

/* Extend by count samples and write them; no flush. */
int d3m_h5_append_floats(d3m_h5file *f, const char *name, size_t count, const float *data);
int d3m_h5_append_int64(d3m_h5file *f, const char *name, size_t count, const int64_t *data);

/* Read samples first .. first+count-1 (only their chunks are read). */
int d3m_h5_read_sample_floats(d3m_h5file *f, const char *name, size_t first, size_t count,
                              float *data);
int d3m_h5_read_sample_int64(d3m_h5file *f, const char *name, size_t first, size_t count,
                             int64_t *data);

/* Set the number of samples N (drops samples past count). */
int d3m_h5_set_sample_count(d3m_h5file *f, const char *name, size_t count);

/* ---- attributes ------------------------------------------------------------ */

typedef enum d3m_attr_type {
    D3M_ATTR_FLOAT,     /* double */
    D3M_ATTR_INTEGER,   /* int64 */
    D3M_ATTR_STRING
} d3m_attr_type;

typedef struct d3m_attr {
    char *name;
    d3m_attr_type type;
    int is_array;       /* a 1-D array rather than a scalar */
    size_t count;       /* elements (1 for scalars and strings) */
    double *numbers;    /* D3M_ATTR_FLOAT */
    int64_t *integers;  /* D3M_ATTR_INTEGER */
    char *string;       /* D3M_ATTR_STRING, NUL-terminated UTF-8 */
} d3m_attr;

/* Set an attribute on object ("/" for the file, a group or a dataset),
 * replacing one of the same name. Numbers are stored as float64, integers
 * as int64 and strings as variable-length UTF-8 (what h5py writes for str). */
int d3m_h5_set_attr_numbers(d3m_h5file *f, const char *object, const char *name,
                            const double *values, size_t count, int is_array);
int d3m_h5_set_attr_integers(d3m_h5file *f, const char *object, const char *name,
                             const int64_t *values, size_t count, int is_array);
int d3m_h5_set_attr_string(d3m_h5file *f, const char *object, const char *name,
                           const char *value);

/* Every attribute of object in name order. Attributes of other types
 * (compound, 2-D arrays, ...) fail with a message naming them. Free the
 * list with d3m_attrs_free. */
int d3m_h5_attributes(d3m_h5file *f, const char *object, d3m_attr **attrs, int *count);
void d3m_attrs_free(d3m_attr *attrs, int count);

/* ---- listing ---------------------------------------------------------------- */

typedef struct d3m_h5_entry {
    char *name;         /* full path, "/params/layer1.0.conv1.weight" */
    int is_group;
    d3m_h5_info info;   /* datasets only */
} d3m_h5_entry;

/* Every group and dataset below the root, in name order (groups before
 * their members). Free with d3m_h5_entries_free. */
int d3m_h5_list(d3m_h5file *f, d3m_h5_entry **entries, int *count);
void d3m_h5_entries_free(d3m_h5_entry *entries, int count);

/* ---- training-set files -------------------------------------------------------
 * The dataset file layout: /za, /lpt2, /fastpm float32 [N, 3, n, n, n]
 * displacements in Mpc/h (component d along array axis d, particle at grid
 * node q = (i, j, k) L / n), /seed int64 [N], one sample per chunk; root
 * attributes box_size (Mpc/h), n and software_version, more set by the
 * caller. A sample counts once every dataset, /seed included, has it. */

typedef struct d3m_samples d3m_samples;

typedef struct d3m_samples_options {
    size_t n;            /* particles per side; 0 on reopen: take the file's */
    double box_size;     /* Mpc/h; needed to create, checked on reopen when > 0 */
    int gzip_level;      /* 0..9, used when creating */
    int read_only;       /* open an existing file without changing it */
} d3m_samples_options;

/* Names of the displacement datasets, in append order; /seed comes last. */
extern const char *const d3m_sample_fields[3];

/* Open path, creating it when missing (atomically, with empty datasets and
 * the root attributes). On reopen for writing, datasets longer than the
 * complete-sample count are cut back to it, dropping a half-written sample
 * of a killed run. A file without the layout fails and lists its contents. */
int d3m_samples_open(const char *path, const d3m_samples_options *options, d3m_samples **out);

/* Close the file; NULL is accepted. */
int d3m_samples_close(d3m_samples *s);

size_t d3m_samples_count(const d3m_samples *s);
size_t d3m_samples_n(const d3m_samples *s);
d3m_h5file *d3m_samples_file(d3m_samples *s);

/* Append one sample: three host arrays of 3 n^3 floats and the seed, in
 * the order za, lpt2, fastpm, seed, then H5Fflush. Fields holding NaN or
 * Inf are rejected before anything is written. H5Fflush hands the data to
 * the operating system without fsync: it survives a killed process, not a
 * power failure. */
int d3m_samples_append(d3m_samples *s, const float *za, const float *lpt2, const float *fastpm,
                       int64_t seed);

/* The same from tensors of shape [3, n, n, n] or [1, 3, n, n, n]. */
int d3m_samples_append_tensors(d3m_samples *s, const d3m_tensor *za, const d3m_tensor *lpt2,
                               const d3m_tensor *fastpm, int64_t seed);

/* Read samples first .. first+count-1 of field ("za", "lpt2", "fastpm")
 * into count * 3 n^3 floats. A NaN or Inf fails with the sample index. */
int d3m_samples_read(d3m_samples *s, const char *field, size_t first, size_t count,
                     float *data);

/* The same into a tensor of count * 3 n^3 elements (any shape). */
int d3m_samples_read_tensor(d3m_samples *s, const char *field, size_t first, size_t count,
                            d3m_tensor *out);

int d3m_samples_read_seeds(d3m_samples *s, size_t first, size_t count, int64_t *seeds);

/* ---- atomic whole-file writes ---------------------------------------------- */

/* Create an empty temporary file for path in path's folder and return its
 * name. Fails with the folder's name when the folder is missing or not
 * writable. */
int d3m_atomic_begin(const char *path, char *temp_path, size_t size);

/* fsync temp_path, rename it over path and fsync the folder. */
int d3m_atomic_commit(const char *temp_path, const char *path);

/* Remove the temporary file (errors ignored). */
void d3m_atomic_discard(const char *temp_path);

/* ---- NumPy .npy ----------------------------------------------------------------
 * Format versions 1, 2 and 3 are read, 1 and 2 written. Supported dtypes are
 * little-endian float32 ('<f4'), float64 ('<f8') and int64 ('<i8'). */

typedef enum d3m_npy_dtype {
    D3M_NPY_FLOAT32,
    D3M_NPY_FLOAT64,
    D3M_NPY_INT64
} d3m_npy_dtype;

typedef struct d3m_npy_array {
    d3m_npy_dtype dtype;
    int ndim;                         /* 0 for a scalar */
    size_t shape[D3M_IO_MAX_DIMS];
    size_t count;                     /* elements */
    int fortran_order;                /* as stored; data is always C order */
    int version;                      /* format major version */
    size_t data_offset;               /* bytes before the array data */
    void *data;                       /* malloc'ed; NULL after read_header */
} d3m_npy_array;

/* Bytes per element of dtype; its NumPy descr ("<f4"). */
size_t d3m_npy_dtype_size(d3m_npy_dtype dtype);
const char *d3m_npy_dtype_descr(d3m_npy_dtype dtype);

/* Parse the header only and check that the file contains all the data. */
int d3m_npy_read_header(const char *path, d3m_npy_array *out);

/* Read the array, converting Fortran order to C order. */
int d3m_npy_read(const char *path, d3m_npy_array *out);
void d3m_npy_free(d3m_npy_array *array);

/* Convert the array's elements to float32 (int64 values above 2^24 round). */
void d3m_npy_to_floats(const d3m_npy_array *array, float *out);

/* Write data (C order, count = product of shape) atomically. fortran_order
 * stores the transposed layout with the flag set; version 0 picks 1 when
 * the header fits, else 2. */
int d3m_npy_write(const char *path, d3m_npy_dtype dtype, int ndim, const size_t *shape,
                  const void *data, int fortran_order, int version);

/* A tensor as float32 in C order. */
int d3m_npy_write_tensor(const char *path, const d3m_tensor *t);

/* ---- ML-Recon import ------------------------------------------------------------
 * ML-Recon stores one simulation per .npy file of shape (n, n, n, 10),
 * channels last: channel 0 density contrast, 1-3 ZA, 4-6 2LPT and 7-9
 * FastPM displacement. Its loader moves the channel axis to the front and
 * keeps the spatial axes, and its flip augmentation negates component d
 * when it flips axis d: so component d lies along array axis d, as in our
 * layout, and za[d][i][j][k] = x[i][j][k][1 + d]. The density is dropped.
 * NOTE: the displacement unit of those files is taken to be Mpc/h; scale
 * multiplies every displacement for files in other units. */

/* Split one sample of n^3 * 10 floats into three [3, n, n, n] arrays. */
void d3m_mlrecon_split(const float *sample, size_t n, double scale, float *za, float *lpt2,
                       float *fastpm);

/* Read one ML-Recon .npy file (float32 or float64) and append it to s. */
int d3m_mlrecon_append(d3m_samples *s, const char *npy_path, int64_t seed, double scale);

#ifdef __cplusplus
}
#endif
#endif
