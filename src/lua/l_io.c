/* l_io.c - d3m.io (C half): HDF5 file objects, training-set objects and
 * .npy reads and writes. lua/d3m/io.lua wraps these with path-based
 * functions. Sample indices in Lua count from 1. */
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "lbind.h"

int d3m_open_io(lua_State *L);

#define FILE_METATABLE "d3m.io.file"
#define DATASET_METATABLE "d3m.io.dataset"


/* ---- helpers ---------------------------------------------------------------------- */

/* A host buffer owned by a userdata on the stack, so that a Lua error
 * raised while it is in use cannot leak it. */
static void *scratch(lua_State *L, size_t bytes)
{
    return lua_newuserdatauv(L, bytes > 0 ? bytes : 1, 0);
}


/* Raise unless a tensor can have this shape. The hint in the message tells
 * the user how else to read the data. */
static int check_tensor_shape(lua_State *L, const char *what, int ndim, const size_t *shape,
                              const char *hint)
{
    if (ndim < 1 || ndim > D3M_MAX_DIMS)
        return luaL_error(L, "%s has %d dimensions; tensors have 1 to %d (%s)", what, ndim,
                          D3M_MAX_DIMS, hint);
    for (int i = 0; i < ndim; i++)
        if (shape[i] == 0)
            return luaL_error(L, "%s has an empty dimension %d; tensors need extents of at "
                              "least 1", what, i + 1);
    return 0;
}


/* Read a sequence of integers at idx into a scratch buffer (pushed). */
static int64_t *check_integer_table(lua_State *L, int idx, const char *what, size_t *count)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    *count = (size_t)luaL_len(L, idx);
    int64_t *values = scratch(L, *count * sizeof *values);
    for (size_t i = 0; i < *count; i++) {
        lua_geti(L, idx, (lua_Integer)i + 1);
        int ok = 0;
        lua_Integer v = lua_tointegerx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "%s: element %d is %s, not an integer", what, (int)i + 1,
                       luaL_typename(L, -1));
        values[i] = (int64_t)v;
        lua_pop(L, 1);
    }
    return values;
}


static void push_integers(lua_State *L, const int64_t *values, size_t count)
{
    lua_createtable(L, (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        lua_pushinteger(L, (lua_Integer)values[i]);
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
}


/* ---- attributes ------------------------------------------------------------------- */

/* Set one attribute from the value on top of the stack. */
static void set_attribute(lua_State *L, d3m_h5file *f, const char *object, const char *name)
{
    int type = lua_type(L, -1);
    if (type == LUA_TNUMBER && lua_isinteger(L, -1)) {
        int64_t v = (int64_t)lua_tointeger(L, -1);
        d3m_lua_check(L, d3m_h5_set_attr_integers(f, object, name, &v, 1, 0));
    } else if (type == LUA_TNUMBER) {
        double v = (double)lua_tonumber(L, -1);
        d3m_lua_check(L, d3m_h5_set_attr_numbers(f, object, name, &v, 1, 0));
    } else if (type == LUA_TSTRING) {
        d3m_lua_check(L, d3m_h5_set_attr_string(f, object, name, lua_tostring(L, -1)));
    } else if (type == LUA_TTABLE) {
        int table = lua_gettop(L);
        size_t count = (size_t)luaL_len(L, table);
        if (count == 0)
            luaL_error(L, "attribute '%s': an empty table cannot be stored; give at least one "
                       "number", name);
        int all_integers = 1;
        double *numbers = scratch(L, count * sizeof *numbers);
        int64_t *integers = scratch(L, count * sizeof *integers);
        for (size_t i = 0; i < count; i++) {
            lua_geti(L, table, (lua_Integer)i + 1);
            if (lua_type(L, -1) != LUA_TNUMBER)
                luaL_error(L, "attribute '%s': element %d is %s; arrays hold numbers only",
                           name, (int)i + 1, luaL_typename(L, -1));
            all_integers = all_integers && lua_isinteger(L, -1);
            numbers[i] = (double)lua_tonumber(L, -1);
            integers[i] = all_integers ? (int64_t)lua_tointeger(L, -1) : 0;
            lua_pop(L, 1);
        }
        d3m_lua_check(L, all_integers
                             ? d3m_h5_set_attr_integers(f, object, name, integers, count, 1)
                             : d3m_h5_set_attr_numbers(f, object, name, numbers, count, 1));
        lua_pop(L, 2);
    } else {
        luaL_error(L, "attribute '%s' is %s; numbers, strings and number arrays are stored "
                   "(use 0 or 1 for a boolean)", name, luaL_typename(L, -1));
    }
}


/* Set every key = value of the table at idx on object. */
static void set_attributes(lua_State *L, d3m_h5file *f, const char *object, int idx)
{
    if (lua_isnoneornil(L, idx))
        return;
    luaL_checktype(L, idx, LUA_TTABLE);
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "attribute names must be strings, got %s", luaL_typename(L, -2));
        set_attribute(L, f, object, lua_tostring(L, -2));
        lua_pop(L, 1);
    }
}


static void push_attribute(lua_State *L, const d3m_attr *a)
{
    if (a->type == D3M_ATTR_STRING) {
        lua_pushstring(L, a->string);
    } else if (!a->is_array) {
        if (a->type == D3M_ATTR_INTEGER)
            lua_pushinteger(L, (lua_Integer)a->integers[0]);
        else
            lua_pushnumber(L, (lua_Number)a->numbers[0]);
    } else {
        lua_createtable(L, (int)a->count, 0);
        for (size_t i = 0; i < a->count; i++) {
            if (a->type == D3M_ATTR_INTEGER)
                lua_pushinteger(L, (lua_Integer)a->integers[i]);
            else
                lua_pushnumber(L, (lua_Number)a->numbers[i]);
            lua_seti(L, -2, (lua_Integer)i + 1);
        }
    }
}


/* Push a table name -> value of object's attributes. */
static void push_attributes(lua_State *L, d3m_h5file *f, const char *object)
{
    d3m_attr *attrs = NULL;
    int count = 0;
    d3m_lua_check(L, d3m_h5_attributes(f, object, &attrs, &count));
    lua_createtable(L, 0, count);
    for (int i = 0; i < count; i++) {
        push_attribute(L, &attrs[i]);
        lua_setfield(L, -2, attrs[i].name);
    }
    d3m_attrs_free(attrs, count);
}


/* ---- file objects --------------------------------------------------------------------- */

static d3m_h5file **file_slot(lua_State *L)
{
    return luaL_checkudata(L, 1, FILE_METATABLE);
}


static d3m_h5file *check_file(lua_State *L)
{
    d3m_h5file **slot = file_slot(L);
    if (*slot == NULL)
        luaL_error(L, "the HDF5 file object is closed");
    return *slot;
}


static d3m_h5file **new_file_slot(lua_State *L)
{
    d3m_h5file **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, FILE_METATABLE);
    return slot;
}


/* d3m.io.open(path [, mode]): mode "r" (default), "r+", "a" or "w". */
static int l_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *mode = luaL_optstring(L, 2, "r");
    d3m_h5_mode m;
    if (strcmp(mode, "r") == 0)
        m = D3M_H5_READ;
    else if (strcmp(mode, "r+") == 0)
        m = D3M_H5_UPDATE;
    else if (strcmp(mode, "a") == 0)
        m = D3M_H5_APPEND;
    else if (strcmp(mode, "w") == 0)
        m = D3M_H5_CREATE;
    else
        return luaL_error(L, "d3m.io.open: mode '%s' is invalid; use \"r\", \"r+\", \"a\" or "
                          "\"w\"", mode);
    d3m_h5file **slot = new_file_slot(L);
    d3m_lua_check(L, d3m_h5_open(path, m, slot));
    return 1;
}


/* d3m.io.create_atomic(path): a new file that replaces path at f:commit(). */
static int l_create_atomic(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    d3m_h5file **slot = new_file_slot(L);
    d3m_lua_check(L, d3m_h5_create_atomic(path, slot));
    return 1;
}


/* Closing without a commit discards an atomic file's temporary file. */
static int file_close(lua_State *L)
{
    d3m_h5file **slot = file_slot(L);
    d3m_h5file *f = *slot;
    *slot = NULL;
    d3m_lua_check(L, d3m_h5_close(f));
    return 0;
}


static int file_gc(lua_State *L)
{
    d3m_h5file **slot = file_slot(L);
    d3m_h5_close(*slot);
    *slot = NULL;
    return 0;
}


static int file_commit(lua_State *L)
{
    d3m_lua_check(L, d3m_h5_commit(check_file(L)));
    return 0;
}


static int file_flush(lua_State *L)
{
    d3m_lua_check(L, d3m_h5_flush(check_file(L)));
    return 0;
}


static int file_path(lua_State *L)
{
    lua_pushstring(L, d3m_h5_path(check_file(L)));
    return 1;
}


/* f:write(name, tensor | integer table [, attrs]) */
static int file_write(lua_State *L)
{
    d3m_h5file *f = check_file(L);
    const char *name = luaL_checkstring(L, 2);
    if (lua_istable(L, 3)) {
        size_t count = 0;
        int64_t *values = check_integer_table(L, 3, name, &count);
        size_t shape[1] = {count};
        d3m_lua_check(L, d3m_h5_write_int64(f, name, 1, shape, values));
    } else {
        d3m_tensor *t = d3m_lua_check_tensor(L, 3);
        d3m_lua_check(L, d3m_h5_write_tensor(f, name, t));
    }
    set_attributes(L, f, name, 4);
    return 0;
}


/* f:read(name) -> tensor (float datasets of rank 1..5, converted to float32) */
static int file_read(lua_State *L)
{
    d3m_h5file *f = check_file(L);
    const char *name = luaL_checkstring(L, 2);
    d3m_h5_info info;
    d3m_lua_check(L, d3m_h5_info_of(f, name, &info));
    const char *slash = name[0] == '/' ? "" : "/";
    if (info.type_class != D3M_H5_FLOAT)
        return luaL_error(L, "dataset '%s%s' in '%s' has dtype %s; read it with read_integers",
                          slash, name, d3m_h5_path(f), d3m_h5_type_name(&info));
    char what[1200];
    snprintf(what, sizeof what, "dataset '%s%s' in '%s'", slash, name, d3m_h5_path(f));
    check_tensor_shape(L, what, info.ndim, info.shape,
                       "store scalars as attributes and arrays with 1 to 5 dimensions");

    float *host = scratch(L, info.numel * sizeof *host);
    d3m_lua_check(L, d3m_h5_read_floats(f, name, host));
    d3m_tensor *t = d3m_lua_new_tensor(L, info.ndim, info.shape);
    d3m_lua_check(L, d3m_tensor_write(t, host));
    return 1;
}


/* f:read_integers(name) -> flat table, shape */
static int file_read_integers(lua_State *L)
{
    d3m_h5file *f = check_file(L);
    const char *name = luaL_checkstring(L, 2);
    d3m_h5_info info;
    d3m_lua_check(L, d3m_h5_info_of(f, name, &info));
    int64_t *values = scratch(L, info.numel * sizeof *values);
    d3m_lua_check(L, d3m_h5_read_int64(f, name, values));
    push_integers(L, values, info.numel);
    d3m_lua_push_shape(L, info.ndim, info.shape);
    return 2;
}


static void push_info(lua_State *L, const d3m_h5_info *info)
{
    lua_createtable(L, 0, 6);
    d3m_lua_push_shape(L, info->ndim, info->shape);
    lua_setfield(L, -2, "shape");
    lua_pushstring(L, d3m_h5_type_name(info));
    lua_setfield(L, -2, "dtype");
    if (info->chunked) {
        d3m_lua_push_shape(L, info->ndim, info->chunk);
        lua_setfield(L, -2, "chunks");
    }
    lua_pushboolean(L, info->extendible);
    lua_setfield(L, -2, "extendible");
    if (info->gzip_level >= 0) {
        lua_pushinteger(L, info->gzip_level);
        lua_setfield(L, -2, "gzip");
    }
}


/* f:info(name) -> {shape=, dtype=, chunks=, extendible=, gzip=} */
static int file_info(lua_State *L)
{
    d3m_h5file *f = check_file(L);
    d3m_h5_info info;
    d3m_lua_check(L, d3m_h5_info_of(f, luaL_checkstring(L, 2), &info));
    push_info(L, &info);
    return 1;
}


/* f:exists(name) -> "dataset", "group" or nil */
static int file_exists(lua_State *L)
{
    d3m_h5file *f = check_file(L);
    int kind = 0;
    d3m_lua_check(L, d3m_h5_exists(f, luaL_checkstring(L, 2), &kind));
    if (kind == 0)
        lua_pushnil(L);
    else
        lua_pushstring(L, kind == 1 ? "dataset" : "group");
    return 1;
}


/* f:list() -> {{name=, kind="group"|"dataset", shape=, dtype=, ...}, ...} */
static int file_list(lua_State *L)
{
    d3m_h5file *f = check_file(L);
    d3m_h5_entry *entries = NULL;
    int count = 0;
    d3m_lua_check(L, d3m_h5_list(f, &entries, &count));
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
        if (entries[i].is_group)
            lua_createtable(L, 0, 2);
        else
            push_info(L, &entries[i].info);
        lua_pushstring(L, entries[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, entries[i].is_group ? "group" : "dataset");
        lua_setfield(L, -2, "kind");
        lua_seti(L, -2, i + 1);
    }
    d3m_h5_entries_free(entries, count);
    return 1;
}


/* f:attributes([object]) -> {name = value} ("/" by default) */
static int file_attributes(lua_State *L)
{
    d3m_h5file *f = check_file(L);
    push_attributes(L, f, luaL_optstring(L, 2, "/"));
    return 1;
}


/* f:set_attributes(object, attrs) */
static int file_set_attributes(lua_State *L)
{
    d3m_h5file *f = check_file(L);
    const char *object = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    set_attributes(L, f, object, 3);
    return 0;
}


static int file_tostring(lua_State *L)
{
    d3m_h5file **slot = file_slot(L);
    if (*slot == NULL)
        lua_pushstring(L, "d3m.io.file (closed)");
    else
        lua_pushfstring(L, "d3m.io.file '%s'", d3m_h5_path(*slot));
    return 1;
}


static const luaL_Reg file_methods[] = {
    {"write", file_write}, {"read", file_read}, {"read_integers", file_read_integers},
    {"info", file_info}, {"exists", file_exists}, {"list", file_list},
    {"attributes", file_attributes}, {"set_attributes", file_set_attributes},
    {"flush", file_flush}, {"commit", file_commit}, {"close", file_close}, {"path", file_path},
    {NULL, NULL}};

static const luaL_Reg file_metamethods[] = {
    {"__gc", file_gc}, {"__close", file_gc}, {"__tostring", file_tostring}, {NULL, NULL}};


/* ---- training-set objects --------------------------------------------------------------- */

static d3m_samples **dataset_slot(lua_State *L)
{
    return luaL_checkudata(L, 1, DATASET_METATABLE);
}


static d3m_samples *check_dataset(lua_State *L)
{
    d3m_samples **slot = dataset_slot(L);
    if (*slot == NULL)
        luaL_error(L, "the training-set object is closed");
    return *slot;
}


static int parse_compression(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    int type = lua_getfield(L, idx, "compression");
    int level = 0;
    if (type == LUA_TBOOLEAN)
        level = lua_toboolean(L, -1) ? 4 : 0;
    else if (type == LUA_TSTRING && strcmp(lua_tostring(L, -1), "gzip") == 0)
        level = 4;
    else if (type == LUA_TNUMBER && lua_isinteger(L, -1))
        level = (int)lua_tointeger(L, -1);
    else if (type != LUA_TNIL)
        luaL_error(L, "option 'compression' must be a gzip level 0..9, true or \"gzip\", got %s",
                   luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    if (level < 0 || level > 9)
        luaL_error(L, "option 'compression' = %d is outside the gzip levels 0..9", level);
    return level;
}


/* core.io.dataset(path, {n=, box=, compression=, mode="a"|"r"}) */
static int l_dataset(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    d3m_samples_options options = {0, 0.0, 0, 0};
    lua_Integer n = d3m_lua_opt_integer_field(L, 2, "n", 0);
    if (n < 0)
        return luaL_error(L, "option 'n' = %d must be a positive particle count per side",
                          (int)n);
    options.n = (size_t)n;
    options.box_size = (double)d3m_lua_opt_number_field(L, 2, "box", 0.0);
    options.gzip_level = parse_compression(L, 2);
    const char *mode = d3m_lua_opt_string_field(L, 2, "mode", "a");
    if (strcmp(mode, "r") != 0 && strcmp(mode, "a") != 0)
        return luaL_error(L, "option 'mode' = '%s' is invalid; use \"a\" (append, created "
                          "when missing) or \"r\" (read only)", mode);
    options.read_only = strcmp(mode, "r") == 0;

    d3m_samples **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, DATASET_METATABLE);
    d3m_lua_check(L, d3m_samples_open(path, &options, slot));
    return 1;
}


static int dataset_close(lua_State *L)
{
    d3m_samples **slot = dataset_slot(L);
    d3m_samples *s = *slot;
    *slot = NULL;
    d3m_lua_check(L, d3m_samples_close(s));
    return 0;
}


static int dataset_gc(lua_State *L)
{
    d3m_samples **slot = dataset_slot(L);
    d3m_samples_close(*slot);
    *slot = NULL;
    return 0;
}


static int dataset_count(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)d3m_samples_count(check_dataset(L)));
    return 1;
}


static int dataset_n(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)d3m_samples_n(check_dataset(L)));
    return 1;
}


static int dataset_path(lua_State *L)
{
    lua_pushstring(L, d3m_h5_path(d3m_samples_file(check_dataset(L))));
    return 1;
}


static d3m_tensor *sample_field(lua_State *L, const char *field)
{
    if (lua_getfield(L, 2, field) == LUA_TNIL)
        luaL_error(L, "append: field '%s' is missing; a sample is {za=, lpt2=, fastpm=, seed=}",
                   field);
    d3m_tensor *t = d3m_lua_check_tensor(L, -1);
    lua_pop(L, 1);   /* the sample table keeps the tensor alive */
    return t;
}


/* w:append{za=, lpt2=, fastpm=, seed=} -> the new sample count */
static int dataset_append(lua_State *L)
{
    d3m_samples *s = check_dataset(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    d3m_tensor *za = sample_field(L, "za");
    d3m_tensor *lpt2 = sample_field(L, "lpt2");
    d3m_tensor *fastpm = sample_field(L, "fastpm");
    lua_getfield(L, 2, "seed");
    int ok = 0;
    lua_Integer seed = lua_tointegerx(L, -1, &ok);
    if (!ok)
        return luaL_error(L, "append: field 'seed' must be an integer, got %s",
                          luaL_typename(L, -1));
    lua_pop(L, 1);
    d3m_lua_check(L, d3m_samples_append_tensors(s, za, lpt2, fastpm, (int64_t)seed));
    lua_pushinteger(L, (lua_Integer)d3m_samples_count(s));
    return 1;
}


/* The 0-based first sample and the count from Lua's (i [, count]), 1-based. */
static void sample_range(lua_State *L, int idx, size_t *first, size_t *count)
{
    lua_Integer i = luaL_checkinteger(L, idx);
    lua_Integer c = luaL_optinteger(L, idx + 1, 1);
    if (i < 1)
        luaL_argerror(L, idx, "sample index counts from 1");
    if (c < 1)
        luaL_argerror(L, idx + 1, "sample count must be at least 1");
    *first = (size_t)(i - 1);
    *count = (size_t)c;
}


/* w:read(name, i [, count [, out]]): name "za", "lpt2" or "fastpm" gives a
 * tensor [3, n, n, n] (count absent) or [count, 3, n, n, n]; "seed" gives
 * an integer (count absent) or a table of integers. */
static int dataset_read(lua_State *L)
{
    d3m_samples *s = check_dataset(L);
    const char *name = luaL_checkstring(L, 2);
    size_t first = 0, count = 1;
    sample_range(L, 3, &first, &count);
    int batched = !lua_isnoneornil(L, 4);

    if (strcmp(name, "seed") == 0) {
        int64_t *seeds = scratch(L, count * sizeof *seeds);
        d3m_lua_check(L, d3m_samples_read_seeds(s, first, count, seeds));
        if (batched)
            push_integers(L, seeds, count);
        else
            lua_pushinteger(L, (lua_Integer)seeds[0]);
        return 1;
    }

    size_t n = d3m_samples_n(s);
    size_t single[4] = {3, n, n, n}, batch[5] = {count, 3, n, n, n};
    d3m_tensor *out = NULL;
    if (lua_isnoneornil(L, 5))
        out = batched ? d3m_lua_new_tensor(L, 5, batch) : d3m_lua_new_tensor(L, 4, single);
    else {
        out = d3m_lua_check_tensor(L, 5);
        lua_pushvalue(L, 5);
    }
    d3m_lua_check(L, d3m_samples_read_tensor(s, name, first, count, out));
    return 1;
}


static int dataset_attributes(lua_State *L)
{
    push_attributes(L, d3m_samples_file(check_dataset(L)), "/");
    return 1;
}


static int dataset_set_attributes(lua_State *L)
{
    d3m_samples *s = check_dataset(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    d3m_h5file *f = d3m_samples_file(s);
    set_attributes(L, f, "/", 2);
    d3m_lua_check(L, d3m_h5_flush(f));
    return 0;
}


/* w:append_mlrecon(npy_path [, seed [, scale]]) -> the new sample count */
static int dataset_append_mlrecon(lua_State *L)
{
    d3m_samples *s = check_dataset(L);
    const char *path = luaL_checkstring(L, 2);
    lua_Integer seed = luaL_optinteger(L, 3, -1);
    double scale = (double)luaL_optnumber(L, 4, 1.0);
    d3m_lua_check(L, d3m_mlrecon_append(s, path, (int64_t)seed, scale));
    lua_pushinteger(L, (lua_Integer)d3m_samples_count(s));
    return 1;
}


static int dataset_tostring(lua_State *L)
{
    d3m_samples **slot = dataset_slot(L);
    if (*slot == NULL)
        lua_pushstring(L, "d3m.io.dataset (closed)");
    else
        lua_pushfstring(L, "d3m.io.dataset '%s' (%d samples, n = %d)",
                        d3m_h5_path(d3m_samples_file(*slot)), (int)d3m_samples_count(*slot),
                        (int)d3m_samples_n(*slot));
    return 1;
}


static const luaL_Reg dataset_methods[] = {
    {"count", dataset_count}, {"n", dataset_n}, {"path", dataset_path},
    {"append", dataset_append}, {"read", dataset_read}, {"attributes", dataset_attributes},
    {"set_attributes", dataset_set_attributes}, {"append_mlrecon", dataset_append_mlrecon},
    {"close", dataset_close}, {NULL, NULL}};

static const luaL_Reg dataset_metamethods[] = {
    {"__gc", dataset_gc}, {"__close", dataset_gc}, {"__tostring", dataset_tostring},
    {NULL, NULL}};


/* ---- .npy ------------------------------------------------------------------------------ */

static const char *dtype_name(d3m_npy_dtype dtype)
{
    switch (dtype) {
    case D3M_NPY_FLOAT32: return "float32";
    case D3M_NPY_FLOAT64: return "float64";
    default: return "int64";
    }
}


static void push_npy_info(lua_State *L, const d3m_npy_array *a)
{
    lua_createtable(L, 0, 4);
    d3m_lua_push_shape(L, a->ndim, a->shape);
    lua_setfield(L, -2, "shape");
    lua_pushstring(L, dtype_name(a->dtype));
    lua_setfield(L, -2, "dtype");
    lua_pushboolean(L, a->fortran_order);
    lua_setfield(L, -2, "fortran_order");
    lua_pushinteger(L, a->version);
    lua_setfield(L, -2, "version");
}


/* d3m.io.npy_info(path) -> {shape=, dtype=, fortran_order=, version=} */
static int l_npy_info(lua_State *L)
{
    d3m_npy_array a;
    d3m_lua_check(L, d3m_npy_read_header(luaL_checkstring(L, 1), &a));
    push_npy_info(L, &a);
    return 1;
}


/* Copy the elements of a into a new Lua table: integers for int64 arrays. */
static void push_npy_values(lua_State *L, const d3m_npy_array *a)
{
    lua_createtable(L, (int)a->count, 0);
    for (size_t i = 0; i < a->count; i++) {
        if (a->dtype == D3M_NPY_INT64)
            lua_pushinteger(L, (lua_Integer)((const int64_t *)a->data)[i]);
        else if (a->dtype == D3M_NPY_FLOAT64)
            lua_pushnumber(L, (lua_Number)((const double *)a->data)[i]);
        else
            lua_pushnumber(L, (lua_Number)((const float *)a->data)[i]);
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
}


/* d3m.io.npy_read(path [, {table=true}]) -> tensor, info | values, info */
static int l_npy_read(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int as_table = d3m_lua_opt_boolean_field(L, 2, "table", 0);

    /* The array lives in a userdata so that an error cannot leak it. */
    d3m_npy_array header;
    d3m_lua_check(L, d3m_npy_read_header(path, &header));
    if (!as_table) {
        char what[1200];
        snprintf(what, sizeof what, ".npy file '%s'", path);
        check_tensor_shape(L, what, header.ndim, header.shape,
                           "read it as a table with {table = true}");
    }
    size_t element = d3m_npy_dtype_size(header.dtype);
    void *buffer = scratch(L, header.count * element);

    d3m_npy_array a;
    d3m_lua_check(L, d3m_npy_read(path, &a));
    memcpy(buffer, a.data, a.count * element);
    d3m_npy_free(&a);
    a.data = buffer;

    if (as_table) {
        push_npy_values(L, &a);
    } else {
        float *floats = scratch(L, a.count * sizeof *floats);
        d3m_npy_to_floats(&a, floats);
        d3m_tensor *t = d3m_lua_new_tensor(L, a.ndim, a.shape);
        d3m_lua_check(L, d3m_tensor_write(t, floats));
    }
    push_npy_info(L, &a);
    return 2;
}


static d3m_npy_dtype check_npy_dtype(lua_State *L, const char *name)
{
    if (strcmp(name, "float32") == 0)
        return D3M_NPY_FLOAT32;
    if (strcmp(name, "float64") == 0)
        return D3M_NPY_FLOAT64;
    if (strcmp(name, "int64") == 0)
        return D3M_NPY_INT64;
    luaL_error(L, "option 'dtype' = '%s' is invalid; use \"float32\", \"float64\" or \"int64\"",
               name);
    return D3M_NPY_FLOAT32;
}


/* Write a Lua table of numbers as dtype with the given shape. */
static int write_npy_table(lua_State *L, const char *path, d3m_npy_dtype dtype, int ndim,
                           const size_t *shape, int fortran, int version)
{
    size_t count = (size_t)luaL_len(L, 2), expected = 1;
    for (int i = 0; i < ndim; i++)
        expected *= shape[i];
    if (count != expected)
        return luaL_error(L, "npy_write: the table has %d values but the shape needs %d",
                          (int)count, (int)expected);
    void *data = scratch(L, count * d3m_npy_dtype_size(dtype));
    for (size_t i = 0; i < count; i++) {
        lua_geti(L, 2, (lua_Integer)i + 1);
        int ok = 0;
        if (dtype == D3M_NPY_INT64)
            ((int64_t *)data)[i] = (int64_t)lua_tointegerx(L, -1, &ok);
        else if (dtype == D3M_NPY_FLOAT64)
            ((double *)data)[i] = (double)lua_tonumberx(L, -1, &ok);
        else
            ((float *)data)[i] = (float)lua_tonumberx(L, -1, &ok);
        if (!ok)
            return luaL_error(L, "npy_write: element %d is %s, not %s", (int)i + 1,
                              luaL_typename(L, -1),
                              dtype == D3M_NPY_INT64 ? "an integer" : "a number");
        lua_pop(L, 1);
    }
    d3m_lua_check(L, d3m_npy_write(path, dtype, ndim, shape, data, fortran, version));
    return 0;
}


/* d3m.io.npy_write(path, tensor | table [, {dtype=, shape=, fortran_order=, version=}]) */
static int l_npy_write(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    int fortran = d3m_lua_opt_boolean_field(L, 3, "fortran_order", 0);
    int version = (int)d3m_lua_opt_integer_field(L, 3, "version", 0);
    const char *dtype_option = d3m_lua_opt_string_field(L, 3, "dtype", NULL);

    if (lua_istable(L, 2)) {
        d3m_npy_dtype dtype = check_npy_dtype(L, dtype_option ? dtype_option : "int64");
        size_t shape[D3M_MAX_DIMS] = {(size_t)luaL_len(L, 2)};
        int ndim = 1;
        if (!lua_isnoneornil(L, 3) && lua_getfield(L, 3, "shape") != LUA_TNIL)
            ndim = d3m_lua_check_shape(L, lua_gettop(L), shape);
        return write_npy_table(L, path, dtype, ndim, shape, fortran, version);
    }

    d3m_tensor *t = d3m_lua_check_tensor(L, 2);
    d3m_npy_dtype dtype = check_npy_dtype(L, dtype_option ? dtype_option : "float32");
    float *host = scratch(L, t->numel * sizeof *host);
    d3m_lua_check(L, d3m_tensor_read(t, host));
    if (dtype == D3M_NPY_FLOAT32) {
        d3m_lua_check(L, d3m_npy_write(path, dtype, t->ndim, t->shape, host, fortran, version));
        return 0;
    }
    void *converted = scratch(L, t->numel * 8);
    for (size_t i = 0; i < t->numel; i++) {
        if (dtype == D3M_NPY_FLOAT64)
            ((double *)converted)[i] = (double)host[i];
        else
            ((int64_t *)converted)[i] = (int64_t)host[i];
    }
    d3m_lua_check(L, d3m_npy_write(path, dtype, t->ndim, t->shape, converted, fortran, version));
    return 0;
}


/* ---- registration ------------------------------------------------------------------------ */

static void register_metatable(lua_State *L, const char *name, const luaL_Reg *metamethods,
                               const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, metamethods, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}


static const luaL_Reg functions[] = {
    {"open", l_open}, {"create_atomic", l_create_atomic}, {"dataset", l_dataset},
    {"npy_info", l_npy_info}, {"npy_read", l_npy_read}, {"npy_write", l_npy_write},
    {NULL, NULL}};


int d3m_open_io(lua_State *L)
{
    register_metatable(L, FILE_METATABLE, file_metamethods, file_methods);
    register_metatable(L, DATASET_METATABLE, dataset_metamethods, dataset_methods);
    d3m_lua_subtable(L, -1, "io");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
