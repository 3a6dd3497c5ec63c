/* h5_file.c - opening, creating, committing and closing HDF5 files, and
 * the translation of HDF5's error stack into d3m messages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/io_internal.h"


void d3m_h5_silence(void)
{
    static int done = 0;
    if (done)
        return;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    done = 1;
}


/* The innermost entry of the stack is where HDF5 detected the problem, and
 * its description is the most specific ("truncated file: eof = ..."). */
static herr_t take_innermost(unsigned n, const H5E_error2_t *entry, void *data)
{
    char *detail = data;
    if (n == 0 && entry->desc != NULL)
        snprintf(detail, 512, "%s", entry->desc);
    return 0;
}


int d3m_h5_fail(int status, const char *format, ...)
{
    char text[4096], detail[512] = "";
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);

    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, detail);
    H5Eclear2(H5E_DEFAULT);
    if (detail[0] == '\0')
        return d3m_fail(status, "%s", text);
    return d3m_fail(status, "%s (HDF5: %s)", text, detail);
}


int d3m_h5_absolute_name(const d3m_h5file *f, const char *name, char *buf, size_t size)
{
    if (name == NULL || name[0] == '\0')
        return d3m_fail(D3M_ERR_ARG, "empty object name for HDF5 file '%s'", f->path);
    int n = snprintf(buf, size, "%s%s", name[0] == '/' ? "" : "/", name);
    if (n < 0 || (size_t)n >= size)
        return d3m_fail(D3M_ERR_ARG, "object name '%.80s...' for '%s' is longer than %zu bytes",
                        name, f->path, size - 1);
    return D3M_OK;
}


static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}


static int new_handle(const char *path, d3m_h5file **out)
{
    d3m_h5file *f = calloc(1, sizeof *f);
    if (f == NULL || (f->path = copy_string(path)) == NULL) {
        free(f);
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory opening '%s'", path);
    }
    f->id = H5I_INVALID_HID;
    *out = f;
    return D3M_OK;
}


static void free_handle(d3m_h5file *f)
{
    free(f->path);
    free(f->temp_path);
    free(f);
}


/* File access properties: closing the file closes every object still open
 * in it, so a close really releases the file (and its lock) before a
 * rename or a reopen. */
static hid_t access_properties(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0)
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    return fapl;
}


static int create_file(d3m_h5file *f, const char *on_disk)
{
    hid_t fapl = access_properties();
    f->id = H5Fcreate(on_disk, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    /* Read HDF5's error stack before the next HDF5 call clears it. */
    int status = f->id < 0 ? d3m_h5_fail(D3M_ERR_IO, "cannot create HDF5 file '%s'", f->path)
                           : D3M_OK;
    H5Pclose(fapl);
    f->writable = status == D3M_OK;
    return status;
}


/* Record the reason an existing file failed to open as HDF5, naming
 * truncation explicitly. */
static int explain_open_failure(d3m_h5file *f, const struct stat *st)
{
    char detail[512] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, detail);
    if (strstr(detail, "unable to lock file") != NULL) {
        H5Eclear2(H5E_DEFAULT);
        return d3m_fail(D3M_ERR_IO,
                        "HDF5 file '%s' is locked: another process has it open for writing "
                        "(HDF5 file locking); wait until that process closes it (HDF5: %s)",
                        f->path, detail);
    }
    if (strstr(detail, "truncated file") != NULL) {
        H5Eclear2(H5E_DEFAULT);
        return d3m_fail(D3M_ERR_IO,
                        "HDF5 file '%s' is truncated: it has %lld bytes but its superblock "
                        "records a larger end of file, so an interrupted copy or write cut it "
                        "short (HDF5: %s)",
                        f->path, (long long)st->st_size, detail);
    }
    return d3m_h5_fail(D3M_ERR_IO, "cannot open HDF5 file '%s'", f->path);
}


static int open_existing(d3m_h5file *f, d3m_h5_mode mode, const struct stat *st)
{
    if (S_ISDIR(st->st_mode))
        return d3m_fail(D3M_ERR_IO, "'%s' is a folder, not an HDF5 file", f->path);

    htri_t is_hdf5 = H5Fis_hdf5(f->path);
    if (is_hdf5 < 0)
        return d3m_h5_fail(D3M_ERR_IO, "cannot read '%s'", f->path);
    if (is_hdf5 == 0)
        return d3m_fail(D3M_ERR_IO,
                        "'%s' is not an HDF5 file: none of its %lld bytes contains the "
                        "HDF5 signature",
                        f->path, (long long)st->st_size);

    hid_t fapl = access_properties();
    unsigned flags = mode == D3M_H5_READ ? H5F_ACC_RDONLY : H5F_ACC_RDWR;
    f->id = H5Fopen(f->path, flags, fapl);
    int status = f->id < 0 ? explain_open_failure(f, st) : D3M_OK;
    H5Pclose(fapl);
    f->writable = status == D3M_OK && mode != D3M_H5_READ;
    return status;
}


int d3m_h5_open(const char *path, d3m_h5_mode mode, d3m_h5file **out)
{
    d3m_h5_silence();
    *out = NULL;
    d3m_h5file *f = NULL;
    D3M_TRY(new_handle(path, &f));

    struct stat st;
    int status = D3M_OK;
    if (mode == D3M_H5_CREATE) {
        /* Replacing an existing file needs write access to it, not to its folder. */
        if (stat(path, &st) != 0)
            status = d3m_io_check_folder(path, "create");
        if (status == D3M_OK)
            status = create_file(f, path);
    } else if (stat(path, &st) == 0) {
        status = open_existing(f, mode, &st);
    } else if ((errno == ENOENT || errno == ENOTDIR) && mode == D3M_H5_APPEND) {
        status = d3m_io_check_folder(path, "create");
        if (status == D3M_OK)
            status = create_file(f, path);
    } else if (errno == ENOENT || errno == ENOTDIR) {
        status = d3m_fail(D3M_ERR_IO, "HDF5 file '%s' not found; check the path", path);
    } else {
        status = d3m_fail(D3M_ERR_IO, "cannot access '%s': %s", path, strerror(errno));
    }

    if (status != D3M_OK) {
        free_handle(f);
        return status;
    }
    *out = f;
    return D3M_OK;
}


int d3m_h5_create_atomic(const char *path, d3m_h5file **out)
{
    d3m_h5_silence();
    *out = NULL;
    d3m_h5file *f = NULL;
    D3M_TRY(new_handle(path, &f));

    char temp[4096];
    int status = d3m_atomic_begin(path, temp, sizeof temp);
    if (status == D3M_OK && (f->temp_path = copy_string(temp)) == NULL) {
        d3m_atomic_discard(temp);
        status = d3m_fail(D3M_ERR_MEMORY, "out of host memory creating '%s'", path);
    }
    if (status == D3M_OK) {
        status = create_file(f, temp);
        if (status != D3M_OK)
            d3m_atomic_discard(temp);
    }
    if (status != D3M_OK) {
        free_handle(f);
        return status;
    }
    *out = f;
    return D3M_OK;
}


int d3m_h5_commit(d3m_h5file *f)
{
    if (f->temp_path == NULL)
        return d3m_fail(D3M_ERR_ARG, "'%s' was not created by d3m_h5_create_atomic or was "
                        "already committed", f->path);
    if (f->id < 0)
        return d3m_fail(D3M_ERR_ARG, "'%s' is closed", f->path);

    herr_t closed = H5Fclose(f->id);
    f->id = H5I_INVALID_HID;
    int status = closed < 0 ? d3m_h5_fail(D3M_ERR_IO, "cannot finish writing '%s' (temporary "
                                                      "file '%s')", f->path, f->temp_path)
                            : d3m_atomic_commit(f->temp_path, f->path);
    if (status != D3M_OK)
        d3m_atomic_discard(f->temp_path);
    free(f->temp_path);
    f->temp_path = NULL;
    return status;
}


int d3m_h5_close(d3m_h5file *f)
{
    if (f == NULL)
        return D3M_OK;
    int status = D3M_OK;
    if (f->id >= 0 && H5Fclose(f->id) < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "closing HDF5 file '%s' failed", f->path);
    if (f->temp_path != NULL)
        d3m_atomic_discard(f->temp_path);
    free_handle(f);
    return status;
}


int d3m_h5_flush(d3m_h5file *f)
{
    if (f->id < 0)
        return d3m_fail(D3M_ERR_ARG, "HDF5 file '%s' is closed", f->path);
    if (H5Fflush(f->id, H5F_SCOPE_GLOBAL) < 0)
        return d3m_h5_fail(D3M_ERR_IO, "flushing HDF5 file '%s' failed", f->path);
    return D3M_OK;
}


const char *d3m_h5_path(const d3m_h5file *f)
{
    return f->path;
}
