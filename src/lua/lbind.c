/* lbind.c - shared helpers of the Lua bindings: tensor userdata access,
 * allocation under device-memory pressure, shapes and option fields. */
#include <stdlib.h>
#include <string.h>

#include "lbind.h"

void d3m_lua_check(lua_State *L, int status)
{
    if (status != D3M_OK)
        luaL_error(L, "%s", d3m_last_error());
}


d3m_tensor *d3m_lua_check_tensor(lua_State *L, int idx)
{
    d3m_tensor **slot = luaL_checkudata(L, idx, D3M_TENSOR_METATABLE);
    if (*slot == NULL)
        luaL_argerror(L, idx, "the tensor was freed");
    return *slot;
}


d3m_tensor *d3m_lua_opt_tensor(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx))
        return NULL;
    return d3m_lua_check_tensor(L, idx);
}


/* Soft limit on device bytes before a full GC: $D3M_MEMORY_LIMIT in MiB, or
 * three quarters of the device's global memory. */
static uint64_t soft_limit(void)
{
    const char *env = getenv("D3M_MEMORY_LIMIT");
    if (env != NULL && atof(env) > 0)
        return (uint64_t)(atof(env) * 1048576.0);
    d3m_device_info info;
    if (d3m_current_device(&info) != D3M_OK)
        return UINT64_MAX;
    return info.global_memory / 4 * 3;
}


d3m_tensor *d3m_lua_new_tensor(lua_State *L, int ndim, const size_t *shape)
{
    /* The userdata exists before the buffer, so an error cannot leak it. */
    d3m_tensor **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, D3M_TENSOR_METATABLE);

    uint64_t bytes = sizeof(float);
    for (int i = 0; i < ndim; i++)
        bytes *= shape[i];
    if (d3m_device_bytes() + bytes > soft_limit())
        lua_gc(L, LUA_GCCOLLECT);

    int status = d3m_tensor_new(ndim, shape, slot);
    if (status == D3M_ERR_MEMORY) {
        lua_gc(L, LUA_GCCOLLECT);
        status = d3m_tensor_new(ndim, shape, slot);
        if (status == D3M_ERR_MEMORY)
            luaL_error(L, "out of device memory: %s; free tensors you no longer need "
                       "(t:free()) or use a smaller batch or mesh", d3m_last_error());
    }
    d3m_lua_check(L, status);
    return *slot;
}


d3m_tensor *d3m_lua_output_tensor(lua_State *L, int idx, int ndim, const size_t *shape,
                                  const char *what)
{
    if (lua_isnoneornil(L, idx))
        return d3m_lua_new_tensor(L, ndim, shape);
    d3m_tensor *out = d3m_lua_check_tensor(L, idx);
    d3m_lua_check(L, d3m_check_shape(out, what, ndim, shape));
    lua_pushvalue(L, idx);
    return out;
}


static size_t check_extent(lua_State *L, int idx, int dim)
{
    lua_Integer n = 0;
    int ok = 0;
    n = lua_tointegerx(L, idx, &ok);
    if (!ok || n < 1)
        luaL_error(L, "shape extent %d must be a positive integer, got %s", dim,
                   luaL_tolstring(L, idx, NULL));
    return (size_t)n;
}


int d3m_lua_check_shape(lua_State *L, int idx, size_t *shape)
{
    int ndim = 0;
    if (lua_istable(L, idx)) {
        ndim = (int)luaL_len(L, idx);
        if (ndim < 1 || ndim > D3M_MAX_DIMS)
            luaL_error(L, "a shape has 1 to %d extents, got %d", D3M_MAX_DIMS, ndim);
        for (int i = 0; i < ndim; i++) {
            lua_geti(L, idx, i + 1);
            shape[i] = check_extent(L, -1, i + 1);
            lua_pop(L, 1);
        }
        return ndim;
    }
    int top = lua_gettop(L);
    if (idx > top || !lua_isnumber(L, idx))
        luaL_argerror(L, idx, "shape expected: a table {n1, n2, ...} or extents as numbers");
    ndim = top - idx + 1;
    if (ndim > D3M_MAX_DIMS)
        luaL_error(L, "a shape has 1 to %d extents, got %d", D3M_MAX_DIMS, ndim);
    for (int i = 0; i < ndim; i++)
        shape[i] = check_extent(L, idx + i, i + 1);
    return ndim;
}


void d3m_lua_push_shape(lua_State *L, int ndim, const size_t *shape)
{
    lua_createtable(L, ndim, 0);
    for (int i = 0; i < ndim; i++) {
        lua_pushinteger(L, (lua_Integer)shape[i]);
        lua_seti(L, -2, i + 1);
    }
}


void d3m_lua_subtable(lua_State *L, int module_idx, const char *name)
{
    module_idx = lua_absindex(L, module_idx);
    if (lua_getfield(L, module_idx, name) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, module_idx, name);
}


static int get_option(lua_State *L, int idx, const char *field)
{
    if (lua_isnoneornil(L, idx))
        return LUA_TNIL;
    luaL_checktype(L, idx, LUA_TTABLE);
    return lua_getfield(L, idx, field);
}


lua_Number d3m_lua_opt_number_field(lua_State *L, int idx, const char *field, lua_Number def)
{
    int type = get_option(L, idx, field);
    if (type == LUA_TNIL) {
        if (!lua_isnoneornil(L, idx))
            lua_pop(L, 1);
        return def;
    }
    int ok = 0;
    lua_Number v = lua_tonumberx(L, -1, &ok);
    if (!ok)
        luaL_error(L, "option '%s' must be a number, got %s", field, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}


lua_Integer d3m_lua_opt_integer_field(lua_State *L, int idx, const char *field, lua_Integer def)
{
    int type = get_option(L, idx, field);
    if (type == LUA_TNIL) {
        if (!lua_isnoneornil(L, idx))
            lua_pop(L, 1);
        return def;
    }
    int ok = 0;
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    if (!ok)
        luaL_error(L, "option '%s' must be an integer, got %s", field, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return v;
}


int d3m_lua_opt_boolean_field(lua_State *L, int idx, const char *field, int def)
{
    int type = get_option(L, idx, field);
    if (type == LUA_TNIL) {
        if (!lua_isnoneornil(L, idx))
            lua_pop(L, 1);
        return def;
    }
    if (type != LUA_TBOOLEAN)
        luaL_error(L, "option '%s' must be a boolean, got %s", field, luaL_typename(L, -1));
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}


const char *d3m_lua_opt_string_field(lua_State *L, int idx, const char *field, const char *def)
{
    int type = get_option(L, idx, field);
    if (type == LUA_TNIL) {
        if (!lua_isnoneornil(L, idx))
            lua_pop(L, 1);
        return def;
    }
    if (type != LUA_TSTRING)
        luaL_error(L, "option '%s' must be a string, got %s", field, luaL_typename(L, -1));
    /* The string stays reachable from the options table. */
    const char *v = lua_tostring(L, -1);
    lua_pop(L, 1);
    return v;
}
