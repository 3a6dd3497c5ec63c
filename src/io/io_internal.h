/*
 * io_internal.h - shared by the files of src/io: the HDF5 file handle,
 * the translation of HDF5's error stack into d3m messages, name helpers.
 */
#ifndef D3M_IO_INTERNAL_H
#define D3M_IO_INTERNAL_H

#include <hdf5.h>

#include "io/io.h"
#include "runtime/runtime.h"

struct d3m_h5file {
    hid_t id;
    int writable;
    char *path;        /* as given by the caller */
    char *temp_path;   /* atomic files until commit, else NULL */
};

/* Switch off HDF5's printing of its error stack (once per process). */
void d3m_h5_silence(void);

/* Record a failure whose cause is on HDF5's error stack: the message is the
 * printf-formatted text followed by ": " and HDF5's innermost error
 * description. Clears the stack and returns status. */
int d3m_h5_fail(int status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Copy name into buf with a leading '/' ("za" -> "/za"). Fails on an empty
 * name or one too long for buf. */
int d3m_h5_absolute_name(const d3m_h5file *f, const char *name, char *buf, size_t size);

/* Describe the datasets of f into buf: "datasets /seed [4] int64, /za
 * [4, 3, 8, 8, 8] float32" or "no datasets". */
void d3m_h5_describe_contents(d3m_h5file *f, char *buf, size_t size);

/* Open a dataset by absolute name; a missing one fails with the contents. */
int d3m_h5_open_dataset(d3m_h5file *f, const char *abs_name, hid_t *dataset);

/* Shape, type and layout of an open dataset (abs_name for messages). */
int d3m_h5_dataset_info(d3m_h5file *f, hid_t dataset, const char *abs_name,
                        d3m_h5_info *info);

/* Check that path's folder exists and is writable (the message names the
 * folder and the system error). what is "create" or "write". */
int d3m_io_check_folder(const char *path, const char *what);

#endif
