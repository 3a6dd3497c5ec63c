/* atomic.c - whole-file writes that replace a file only when complete: a
 * temporary file in the same folder (so rename(2) stays within one file
 * system and is atomic), fsync of the data, rename, fsync of the folder. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io_internal.h"


/* Split path into its folder and base name (copies in the buffers). */
static int split_path(const char *path, char *folder, char *base, size_t size)
{
    if (path == NULL || path[0] == '\0')
        return d3m_fail(D3M_ERR_ARG, "empty file path");
    if (strlen(path) >= size)
        return d3m_fail(D3M_ERR_ARG, "file path '%.80s...' is longer than %zu bytes", path,
                        size - 1);
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(folder, size, "%s", dirname(copy));
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(base, size, "%s", basename(copy));
    return D3M_OK;
}


int d3m_io_check_folder(const char *path, const char *what)
{
    char folder[4096], base[4096];
    D3M_TRY(split_path(path, folder, base, sizeof folder));

    struct stat st;
    if (stat(folder, &st) != 0)
        return d3m_fail(D3M_ERR_IO, "cannot %s '%s': folder '%s' is not accessible (%s); "
                        "create it first", what, path, folder, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return d3m_fail(D3M_ERR_IO, "cannot %s '%s': '%s' is not a folder", what, path, folder);
    if (access(folder, W_OK | X_OK) != 0)
        return d3m_fail(D3M_ERR_IO, "cannot %s '%s': folder '%s' is not writable (%s)", what,
                        path, folder, strerror(errno));
    return D3M_OK;
}


int d3m_atomic_begin(const char *path, char *temp_path, size_t size)
{
    char folder[4096], base[4096];
    D3M_TRY(split_path(path, folder, base, sizeof folder));
    D3M_TRY(d3m_io_check_folder(path, "write"));

    /* A hidden name, so that globs such as *.h5 skip unfinished files. */
    int n = snprintf(temp_path, size, "%s/.%s.tmp-XXXXXX", folder, base);
    if (n < 0 || (size_t)n >= size)
        return d3m_fail(D3M_ERR_ARG, "temporary name for '%s' is longer than %zu bytes", path,
                        size - 1);
    int fd = mkstemp(temp_path);
    if (fd < 0)
        return d3m_fail(D3M_ERR_IO, "cannot write '%s': creating a temporary file in folder "
                        "'%s' failed (%s)", path, folder, strerror(errno));

    /* mkstemp creates mode 0600; give the file the mode a plain fopen
     * would (0666 less the umask), so others can read results as usual. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    close(fd);
    return D3M_OK;
}


static int sync_path(const char *path, int flags, const char *what, const char *final_path)
{
    int fd = open(path, flags);
    if (fd < 0)
        return d3m_fail(D3M_ERR_IO, "cannot write '%s': opening %s '%s' for fsync failed (%s)",
                        final_path, what, path, strerror(errno));
    int failed = fsync(fd) != 0;
    int saved = errno;
    close(fd);
    if (failed)
        return d3m_fail(D3M_ERR_IO, "cannot write '%s': fsync of %s '%s' failed (%s)",
                        final_path, what, path, strerror(saved));
    return D3M_OK;
}


int d3m_atomic_commit(const char *temp_path, const char *path)
{
    char folder[4096], base[4096];
    D3M_TRY(split_path(path, folder, base, sizeof folder));
    D3M_TRY(sync_path(temp_path, O_RDONLY, "temporary file", path));

    if (rename(temp_path, path) != 0)
        return d3m_fail(D3M_ERR_IO, "cannot write '%s': renaming temporary file '%s' over it "
                        "failed (%s)", path, temp_path, strerror(errno));

    /* The rename itself is durable only once the folder is synced. */
    return sync_path(folder, O_RDONLY | O_DIRECTORY, "folder", path);
}


void d3m_atomic_discard(const char *temp_path)
{
    if (temp_path != NULL && temp_path[0] != '\0')
        unlink(temp_path);
}
