/* h5_attr.c - HDF5 attributes (numbers, integers, strings, 1-D number
 * arrays) on files, groups and datasets, and the listing of a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_internal.h"

#define NAME_MAX_BYTES 1024


/* ---- writing ---------------------------------------------------------------------- */

/* Open the object that carries attributes; a missing one fails with the
 * file's contents. */
static int open_object(d3m_h5file *f, const char *object, char *abs_name, hid_t *id)
{
    *id = H5I_INVALID_HID;
    if (f->id < 0)
        return d3m_fail(D3M_ERR_ARG, "HDF5 file '%s' is closed", f->path);
    D3M_TRY(d3m_h5_absolute_name(f, object == NULL ? "/" : object, abs_name, NAME_MAX_BYTES));
    int kind = 0;
    D3M_TRY(d3m_h5_exists(f, abs_name, &kind));
    if (kind == 0) {
        char contents[2048];
        d3m_h5_describe_contents(f, contents, sizeof contents);
        return d3m_fail(D3M_ERR_IO, "object '%s' not found in '%s'; the file contains %s",
                        abs_name, f->path, contents);
    }
    *id = H5Oopen(f->id, abs_name, H5P_DEFAULT);
    if (*id < 0)
        return d3m_h5_fail(D3M_ERR_IO, "cannot open object '%s' in '%s'", abs_name, f->path);
    return D3M_OK;
}


static int write_attribute(d3m_h5file *f, const char *object, const char *name,
                           hid_t file_type, hid_t memory_type, int ndim, size_t count,
                           const void *data)
{
    if (f->id >= 0 && !f->writable)
        return d3m_fail(D3M_ERR_IO, "HDF5 file '%s' is open read-only; open it for writing",
                        f->path);
    if (name == NULL || name[0] == '\0')
        return d3m_fail(D3M_ERR_ARG, "empty attribute name for '%s'", f->path);
    char abs_name[NAME_MAX_BYTES];
    hid_t target;
    D3M_TRY(open_object(f, object, abs_name, &target));

    int status = D3M_OK;
    htri_t exists = H5Aexists(target, name);
    if (exists > 0 && H5Adelete(target, name) < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "cannot replace attribute '%s' of '%s' in '%s'", name,
                             abs_name, f->path);

    hsize_t dims[1] = {count};
    hid_t space = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t attribute = H5I_INVALID_HID;
    if (status == D3M_OK) {
        attribute = H5Acreate2(target, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
        if (attribute < 0)
            status = d3m_h5_fail(D3M_ERR_IO, "cannot create attribute '%s' of '%s' in '%s'",
                                 name, abs_name, f->path);
    }
    if (status == D3M_OK && H5Awrite(attribute, memory_type, data) < 0)
        status = d3m_h5_fail(D3M_ERR_IO, "writing attribute '%s' of '%s' in '%s' failed", name,
                             abs_name, f->path);
    if (attribute >= 0)
        H5Aclose(attribute);
    H5Sclose(space);
    H5Oclose(target);
    return status;
}


int d3m_h5_set_attr_numbers(d3m_h5file *f, const char *object, const char *name,
                            const double *values, size_t count, int is_array)
{
    if (!is_array && count != 1)
        return d3m_fail(D3M_ERR_ARG, "scalar attribute '%s' needs 1 value, got %zu", name,
                        count);
    return write_attribute(f, object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, is_array ? 1 : 0,
                           count, values);
}


int d3m_h5_set_attr_integers(d3m_h5file *f, const char *object, const char *name,
                             const int64_t *values, size_t count, int is_array)
{
    if (!is_array && count != 1)
        return d3m_fail(D3M_ERR_ARG, "scalar attribute '%s' needs 1 value, got %zu", name,
                        count);
    return write_attribute(f, object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, is_array ? 1 : 0,
                           count, values);
}


int d3m_h5_set_attr_string(d3m_h5file *f, const char *object, const char *name,
                           const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    int status = write_attribute(f, object, name, type, type, 0, 1, &value);
    H5Tclose(type);
    return status;
}


/* ---- reading ---------------------------------------------------------------------- */

typedef struct attr_list {
    d3m_h5file *file;
    const char *object;
    d3m_attr *items;
    int count, capacity;
    int status;
} attr_list;


static int read_string(attr_list *list, hid_t attribute, hid_t type, d3m_attr *item)
{
    item->type = D3M_ATTR_STRING;
    item->count = 1;
    if (H5Tis_variable_str(type) > 0) {
        hid_t memory_type = H5Tcopy(H5T_C_S1);
        H5Tset_size(memory_type, H5T_VARIABLE);
        H5Tset_cset(memory_type, H5Tget_cset(type));
        char *value = NULL;
        herr_t read = H5Aread(attribute, memory_type, &value);
        int status = read < 0 ? d3m_h5_fail(D3M_ERR_IO, "reading attribute '%s' of '%s' in "
                                            "'%s' failed", item->name, list->object,
                                            list->file->path)
                              : D3M_OK;
        H5Tclose(memory_type);
        if (status != D3M_OK)
            return status;
        size_t n = value == NULL ? 0 : strlen(value);
        item->string = malloc(n + 1);
        if (item->string != NULL) {
            memcpy(item->string, value == NULL ? "" : value, n);
            item->string[n] = '\0';
        }
        H5free_memory(value);
    } else {
        size_t n = H5Tget_size(type);
        hid_t memory_type = H5Tcopy(H5T_C_S1);
        H5Tset_size(memory_type, n + 1);
        H5Tset_cset(memory_type, H5Tget_cset(type));
        item->string = calloc(n + 1, 1);
        herr_t read = item->string == NULL ? 0 : H5Aread(attribute, memory_type, item->string);
        int status = read < 0 ? d3m_h5_fail(D3M_ERR_IO, "reading attribute '%s' of '%s' in "
                                            "'%s' failed", item->name, list->object,
                                            list->file->path)
                              : D3M_OK;
        H5Tclose(memory_type);
        if (status != D3M_OK)
            return status;
    }
    if (item->string == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory reading attributes of '%s'",
                        list->file->path);
    return D3M_OK;
}


static int read_numbers(attr_list *list, hid_t attribute, H5T_class_t cls, d3m_attr *item)
{
    int is_float = cls == H5T_FLOAT;
    item->type = is_float ? D3M_ATTR_FLOAT : D3M_ATTR_INTEGER;
    size_t count = item->count == 0 ? 1 : item->count;
    void *values = malloc(count * 8);
    if (values == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory reading attributes of '%s'",
                        list->file->path);
    if (is_float)
        item->numbers = values;
    else
        item->integers = values;
    if (item->count > 0 &&
        H5Aread(attribute, is_float ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, values) < 0)
        return d3m_h5_fail(D3M_ERR_IO, "reading attribute '%s' of '%s' in '%s' failed",
                           item->name, list->object, list->file->path);
    return D3M_OK;
}


static int read_attribute(attr_list *list, hid_t attribute, d3m_attr *item)
{
    hid_t space = H5Aget_space(attribute);
    hid_t type = H5Aget_type(attribute);
    int ndim = H5Sget_simple_extent_ndims(space);
    H5T_class_t cls = H5Tget_class(type);
    int status = D3M_OK;
    if (ndim > 1) {
        status = d3m_fail(D3M_ERR_ARG, "attribute '%s' of '%s' in '%s' has %d dimensions; only "
                          "scalars and 1-D arrays are read", item->name, list->object,
                          list->file->path, ndim);
    } else if (cls == H5T_STRING && ndim == 0) {
        status = read_string(list, attribute, type, item);
    } else if (cls == H5T_FLOAT || cls == H5T_INTEGER) {
        hsize_t dims[1] = {1};
        if (ndim == 1)
            H5Sget_simple_extent_dims(space, dims, NULL);
        item->is_array = ndim == 1;
        item->count = (size_t)dims[0];
        status = read_numbers(list, attribute, cls, item);
    } else {
        status = d3m_fail(D3M_ERR_ARG, "attribute '%s' of '%s' in '%s' has a type that is not "
                          "a number, a 1-D number array or a string", item->name,
                          list->object, list->file->path);
    }
    H5Tclose(type);
    H5Sclose(space);
    return status;
}


static herr_t collect_attribute(hid_t location, const char *name, const H5A_info_t *info,
                                void *data)
{
    attr_list *list = data;
    if (list->count == list->capacity) {
        int capacity = list->capacity ? 2 * list->capacity : 16;
        d3m_attr *grown = realloc(list->items, (size_t)capacity * sizeof *grown);
        if (grown == NULL) {
            list->status = d3m_fail(D3M_ERR_MEMORY, "out of host memory reading attributes");
            return -1;
        }
        list->items = grown;
        list->capacity = capacity;
    }
    d3m_attr *item = &list->items[list->count++];
    memset(item, 0, sizeof *item);
    item->name = malloc(strlen(name) + 1);
    if (item->name == NULL) {
        list->status = d3m_fail(D3M_ERR_MEMORY, "out of host memory reading attributes");
        return -1;
    }
    strcpy(item->name, name);

    hid_t attribute = H5Aopen(location, name, H5P_DEFAULT);
    if (attribute < 0) {
        list->status = d3m_h5_fail(D3M_ERR_IO, "cannot open attribute '%s' of '%s' in '%s'",
                                   name, list->object, list->file->path);
        return -1;
    }
    list->status = read_attribute(list, attribute, item);
    H5Aclose(attribute);
    return list->status == D3M_OK ? 0 : -1;
}


int d3m_h5_attributes(d3m_h5file *f, const char *object, d3m_attr **attrs, int *count)
{
    *attrs = NULL;
    *count = 0;
    char abs_name[NAME_MAX_BYTES];
    hid_t target;
    D3M_TRY(open_object(f, object, abs_name, &target));

    attr_list list = {f, abs_name, NULL, 0, 0, D3M_OK};
    hsize_t index = 0;
    herr_t iterated = H5Aiterate2(target, H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute,
                                  &list);
    if (list.status == D3M_OK && iterated < 0)
        list.status = d3m_h5_fail(D3M_ERR_IO, "cannot list the attributes of '%s' in '%s'",
                                  abs_name, f->path);
    H5Eclear2(H5E_DEFAULT);
    H5Oclose(target);
    if (list.status != D3M_OK) {
        d3m_attrs_free(list.items, list.count);
        return list.status;
    }
    *attrs = list.items;
    *count = list.count;
    return D3M_OK;
}


void d3m_attrs_free(d3m_attr *attrs, int count)
{
    if (attrs == NULL)
        return;
    for (int i = 0; i < count; i++) {
        free(attrs[i].name);
        free(attrs[i].numbers);
        free(attrs[i].integers);
        free(attrs[i].string);
    }
    free(attrs);
}


/* ---- listing ---------------------------------------------------------------------- */

typedef struct entry_list {
    d3m_h5file *file;
    d3m_h5_entry *items;
    int count, capacity;
    int status;
} entry_list;


static herr_t collect_entry(hid_t group, const char *name, const H5L_info_t *link, void *data)
{
    entry_list *list = data;
    if (link->type != H5L_TYPE_HARD)
        return 0;
    hid_t object = H5Oopen(group, name, H5P_DEFAULT);
    if (object < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    H5I_type_t type = H5Iget_type(object);
    if (type != H5I_GROUP && type != H5I_DATASET) {
        H5Oclose(object);
        return 0;
    }

    if (list->count == list->capacity) {
        int capacity = list->capacity ? 2 * list->capacity : 32;
        d3m_h5_entry *grown = realloc(list->items, (size_t)capacity * sizeof *grown);
        if (grown == NULL) {
            H5Oclose(object);
            list->status = d3m_fail(D3M_ERR_MEMORY, "out of host memory listing '%s'",
                                    list->file->path);
            return -1;
        }
        list->items = grown;
        list->capacity = capacity;
    }
    d3m_h5_entry *entry = &list->items[list->count];
    memset(entry, 0, sizeof *entry);
    entry->name = malloc(strlen(name) + 2);
    if (entry->name == NULL) {
        H5Oclose(object);
        list->status = d3m_fail(D3M_ERR_MEMORY, "out of host memory listing '%s'",
                                list->file->path);
        return -1;
    }
    list->count++;
    entry->name[0] = '/';
    strcpy(entry->name + 1, name);
    entry->is_group = type == H5I_GROUP;
    if (type == H5I_DATASET && d3m_h5_dataset_info(list->file, object, entry->name,
                                                   &entry->info) != D3M_OK)
        entry->info.type_class = D3M_H5_OTHER;   /* listed, shape unknown */
    H5Oclose(object);
    return 0;
}


int d3m_h5_list(d3m_h5file *f, d3m_h5_entry **entries, int *count)
{
    *entries = NULL;
    *count = 0;
    if (f->id < 0)
        return d3m_fail(D3M_ERR_ARG, "HDF5 file '%s' is closed", f->path);
    entry_list list = {f, NULL, 0, 0, D3M_OK};
    herr_t visited = H5Lvisit(f->id, H5_INDEX_NAME, H5_ITER_INC, collect_entry, &list);
    if (list.status == D3M_OK && visited < 0)
        list.status = d3m_h5_fail(D3M_ERR_IO, "cannot list the contents of '%s'", f->path);
    if (list.status != D3M_OK) {
        d3m_h5_entries_free(list.items, list.count);
        return list.status;
    }
    *entries = list.items;
    *count = list.count;
    return D3M_OK;
}


void d3m_h5_entries_free(d3m_h5_entry *entries, int count)
{
    if (entries == NULL)
        return;
    for (int i = 0; i < count; i++)
        free(entries[i].name);
    free(entries);
}
