/* l_tensor.c - the d3m.tensor userdata: creation, host transfers, views,
 * elementwise arithmetic, reductions and release. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbind.h"

int d3m_open_tensor(lua_State *L);


static int tensor_gc(lua_State *L)
{
    d3m_tensor **slot = luaL_checkudata(L, 1, D3M_TENSOR_METATABLE);
    d3m_tensor_free(*slot);
    *slot = NULL;
    return 0;
}


static int tensor_is_freed(lua_State *L)
{
    d3m_tensor **slot = luaL_checkudata(L, 1, D3M_TENSOR_METATABLE);
    lua_pushboolean(L, *slot == NULL);
    return 1;
}


/* ---- creation --------------------------------------------------------------- */

static int l_tensor(lua_State *L)
{
    size_t shape[D3M_MAX_DIMS];
    int ndim = d3m_lua_check_shape(L, 1, shape);
    d3m_lua_new_tensor(L, ndim, shape);
    return 1;
}


static int l_zeros(lua_State *L)
{
    size_t shape[D3M_MAX_DIMS];
    int ndim = d3m_lua_check_shape(L, 1, shape);
    d3m_tensor *t = d3m_lua_new_tensor(L, ndim, shape);
    d3m_lua_check(L, d3m_tensor_fill(t, 0.0f));
    return 1;
}


static int l_full(lua_State *L)
{
    size_t shape[D3M_MAX_DIMS];
    int ndim = d3m_lua_check_shape(L, 1, shape);
    float value = (float)luaL_checknumber(L, 2);
    d3m_tensor *t = d3m_lua_new_tensor(L, ndim, shape);
    d3m_lua_check(L, d3m_tensor_fill(t, value));
    return 1;
}


/* Infer the shape of a nested table {{1, 2}, {3, 4}} from its first entries. */
static int nested_shape(lua_State *L, int idx, size_t *shape)
{
    int ndim = 0;
    lua_pushvalue(L, idx);
    while (lua_istable(L, -1)) {
        if (ndim == D3M_MAX_DIMS)
            luaL_error(L, "from_table: nesting deeper than %d levels", D3M_MAX_DIMS);
        lua_Integer n = luaL_len(L, -1);
        if (n < 1)
            luaL_error(L, "from_table: empty table at nesting level %d", ndim + 1);
        shape[ndim++] = (size_t)n;
        lua_geti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
    return ndim;
}


/* Copy a (nested) table into host[], checking every level's length. */
static void flatten(lua_State *L, int idx, int level, int ndim, const size_t *shape, float *host,
                    size_t *pos)
{
    if ((size_t)luaL_len(L, idx) != shape[level])
        luaL_error(L, "from_table: a table at nesting level %d has %d entries, expected %d",
                   level + 1, (int)luaL_len(L, idx), (int)shape[level]);
    for (size_t i = 1; i <= shape[level]; i++) {
        lua_geti(L, idx, (lua_Integer)i);
        if (level + 1 < ndim) {
            if (!lua_istable(L, -1))
                luaL_error(L, "from_table: expected a table at nesting level %d, got %s",
                           level + 2, luaL_typename(L, -1));
            flatten(L, lua_gettop(L), level + 1, ndim, shape, host, pos);
        } else {
            int ok = 0;
            lua_Number v = lua_tonumberx(L, -1, &ok);
            if (!ok)
                luaL_error(L, "from_table: entry %d is %s, expected a number", (int)(*pos + 1),
                           luaL_typename(L, -1));
            host[(*pos)++] = (float)v;
        }
        lua_pop(L, 1);
    }
}


/* d3m.from_table(t [, shape]): t is nested, or flat with a shape. */
static int l_from_table(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t shape[D3M_MAX_DIMS];
    int ndim;
    size_t numel = 1;
    int flat = !lua_isnoneornil(L, 2);
    if (flat) {
        ndim = d3m_lua_check_shape(L, 2, shape);
    } else {
        ndim = nested_shape(L, 1, shape);
        if (ndim == 0)
            luaL_argerror(L, 1, "a non-empty table of numbers expected");
    }
    for (int i = 0; i < ndim; i++)
        numel *= shape[i];

    float *host = lua_newuserdatauv(L, numel * sizeof(float), 0);   /* freed by the GC */
    size_t pos = 0;
    if (flat) {
        size_t flat_shape[1] = {numel};
        flatten(L, 1, 0, 1, flat_shape, host, &pos);
    } else {
        flatten(L, 1, 0, ndim, shape, host, &pos);
    }
    d3m_tensor *t = d3m_lua_new_tensor(L, ndim, shape);
    d3m_lua_check(L, d3m_tensor_write(t, host));
    return 1;
}


/* d3m.from_string(bytes, shape): little-endian float32 data. */
static int l_from_string(lua_State *L)
{
    size_t len = 0;
    const char *bytes = luaL_checklstring(L, 1, &len);
    size_t shape[D3M_MAX_DIMS];
    int ndim = d3m_lua_check_shape(L, 2, shape);
    size_t numel = 1;
    for (int i = 0; i < ndim; i++)
        numel *= shape[i];
    if (len != numel * sizeof(float))
        luaL_error(L, "from_string: %d bytes given, the shape needs %d (4 per float32)", (int)len,
                   (int)(numel * sizeof(float)));
    d3m_tensor *t = d3m_lua_new_tensor(L, ndim, shape);
    d3m_lua_check(L, d3m_tensor_write(t, (const float *)(const void *)bytes));
    return 1;
}


/* ---- inspection and transfers ----------------------------------------------- */

static int t_shape(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    d3m_lua_push_shape(L, t->ndim, t->shape);
    return 1;
}


static int t_size(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    lua_Integer dim = luaL_checkinteger(L, 2);
    if (dim < 1 || dim > t->ndim)
        luaL_argerror(L, 2, "dimension out of range");
    lua_pushinteger(L, (lua_Integer)t->shape[dim - 1]);
    return 1;
}


static int t_ndim(lua_State *L)
{
    lua_pushinteger(L, d3m_lua_check_tensor(L, 1)->ndim);
    return 1;
}


static int t_numel(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)d3m_lua_check_tensor(L, 1)->numel);
    return 1;
}


static float *read_all(lua_State *L, d3m_tensor *t)
{
    float *host = lua_newuserdatauv(L, t->numel * sizeof(float), 0);
    d3m_lua_check(L, d3m_tensor_read(t, host));
    return host;
}


/* t:to_table(): a flat Lua sequence of numel numbers (row-major). */
static int t_to_table(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    float *host = read_all(L, t);
    lua_createtable(L, (int)t->numel, 0);
    for (size_t i = 0; i < t->numel; i++) {
        lua_pushnumber(L, (lua_Number)host[i]);
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}


static int t_to_string(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    float *host = read_all(L, t);
    lua_pushlstring(L, (const char *)host, t->numel * sizeof(float));
    return 1;
}


/* Flat 0-based offset of t:get(i1, ..., in) (1-based), or t:get(flat). */
static size_t element_offset(lua_State *L, d3m_tensor *t, int first)
{
    int nidx = lua_gettop(L) - first + 1;
    if (nidx == 1) {
        lua_Integer i = luaL_checkinteger(L, first);
        if (i < 1 || (size_t)i > t->numel)
            luaL_error(L, "index %d out of range 1..%d", (int)i, (int)t->numel);
        return (size_t)(i - 1);
    }
    if (nidx != t->ndim)
        luaL_error(L, "%d indices given for a tensor of %d dimensions", nidx, t->ndim);
    size_t offset = 0;
    for (int d = 0; d < t->ndim; d++) {
        lua_Integer i = luaL_checkinteger(L, first + d);
        if (i < 1 || (size_t)i > t->shape[d])
            luaL_error(L, "index %d of dimension %d out of range 1..%d", (int)i, d + 1,
                       (int)t->shape[d]);
        offset = offset * t->shape[d] + (size_t)(i - 1);
    }
    return offset;
}


static int t_get(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    size_t offset = element_offset(L, t, 2);
    float v = 0.0f;
    d3m_lua_check(L, d3m_tensor_read_range(t, offset, 1, &v));
    lua_pushnumber(L, (lua_Number)v);
    return 1;
}


/* t:set(value, i1, ..., in) or t:set(value, flat) */
static int t_set(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    float v = (float)luaL_checknumber(L, 2);
    size_t offset = element_offset(L, t, 3);
    d3m_lua_check(L, d3m_tensor_write_range(t, offset, 1, &v));
    lua_settop(L, 1);
    return 1;
}


static int t_fill(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    d3m_lua_check(L, d3m_tensor_fill(t, (float)luaL_checknumber(L, 2)));
    lua_settop(L, 1);
    return 1;
}


static int t_copy(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    d3m_tensor *out = d3m_lua_new_tensor(L, t->ndim, t->shape);
    d3m_lua_check(L, d3m_tensor_copy(out, t));
    return 1;
}


static int t_copy_from(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    d3m_tensor *src = d3m_lua_check_tensor(L, 2);
    d3m_lua_check(L, d3m_tensor_copy(t, src));
    lua_settop(L, 1);
    return 1;
}


static int t_reshape(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    size_t shape[D3M_MAX_DIMS];
    int ndim = d3m_lua_check_shape(L, 2, shape);
    d3m_tensor **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, D3M_TENSOR_METATABLE);
    d3m_lua_check(L, d3m_tensor_reshape(t, ndim, shape, slot));
    return 1;
}


static int t_free(lua_State *L)
{
    return tensor_gc(L);
}


/* ---- arithmetic ------------------------------------------------------------- */

typedef int (*binary_op)(d3m_tensor *, const d3m_tensor *, const d3m_tensor *);

/* In place: t:add(b) is t = t + b. */
static int in_place(lua_State *L, binary_op op)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    d3m_tensor *b = d3m_lua_check_tensor(L, 2);
    d3m_lua_check(L, op(t, t, b));
    lua_settop(L, 1);
    return 1;
}

static int t_add(lua_State *L) { return in_place(L, d3m_tensor_add); }
static int t_sub(lua_State *L) { return in_place(L, d3m_tensor_sub); }
static int t_mul(lua_State *L) { return in_place(L, d3m_tensor_mul); }


static int t_scale(lua_State *L)
{
    d3m_tensor *t = d3m_lua_check_tensor(L, 1);
    d3m_lua_check(L, d3m_tensor_scale(t, t, (float)luaL_checknumber(L, 2)));
    lua_settop(L, 1);
    return 1;
}


/* y:axpy(alpha, x) is y = y + alpha x. */
static int t_axpy(lua_State *L)
{
    d3m_tensor *y = d3m_lua_check_tensor(L, 1);
    float alpha = (float)luaL_checknumber(L, 2);
    d3m_tensor *x = d3m_lua_check_tensor(L, 3);
    d3m_lua_check(L, d3m_tensor_axpy(y, alpha, x));
    lua_settop(L, 1);
    return 1;
}


/* d3m.add(a, b [, out]) and friends return a new tensor or fill out. */
static int functional(lua_State *L, binary_op op, const char *what)
{
    d3m_tensor *a = d3m_lua_check_tensor(L, 1);
    d3m_tensor *b = d3m_lua_check_tensor(L, 2);
    d3m_tensor *out = d3m_lua_output_tensor(L, 3, a->ndim, a->shape, what);
    d3m_lua_check(L, op(out, a, b));
    return 1;
}

static int l_add(lua_State *L) { return functional(L, d3m_tensor_add, "output of add"); }
static int l_sub(lua_State *L) { return functional(L, d3m_tensor_sub, "output of sub"); }
static int l_mul(lua_State *L) { return functional(L, d3m_tensor_mul, "output of mul"); }


static int l_scale(lua_State *L)
{
    d3m_tensor *a = d3m_lua_check_tensor(L, 1);
    float alpha = (float)luaL_checknumber(L, 2);
    d3m_tensor *out = d3m_lua_output_tensor(L, 3, a->ndim, a->shape, "output of scale");
    d3m_lua_check(L, d3m_tensor_scale(out, a, alpha));
    return 1;
}


/* Metamethods: a + b, a - b, a * b (elementwise or by a number), -a. */
static int mm_binary(lua_State *L, binary_op op, int scalar_sign)
{
    if (lua_isnumber(L, 1) || lua_isnumber(L, 2)) {
        int tensor_idx = lua_isnumber(L, 1) ? 2 : 1;
        d3m_tensor *a = d3m_lua_check_tensor(L, tensor_idx);
        double alpha = lua_tonumber(L, tensor_idx == 1 ? 2 : 1);
        if (scalar_sign == 0)
            luaL_error(L, "adding a number to a tensor is not supported; use t:fill or t:axpy");
        d3m_tensor *out = d3m_lua_new_tensor(L, a->ndim, a->shape);
        d3m_lua_check(L, d3m_tensor_scale(out, a, (float)alpha));
        return 1;
    }
    d3m_tensor *a = d3m_lua_check_tensor(L, 1);
    d3m_tensor *b = d3m_lua_check_tensor(L, 2);
    d3m_tensor *out = d3m_lua_new_tensor(L, a->ndim, a->shape);
    d3m_lua_check(L, op(out, a, b));
    return 1;
}

static int mm_add(lua_State *L) { return mm_binary(L, d3m_tensor_add, 0); }
static int mm_sub(lua_State *L) { return mm_binary(L, d3m_tensor_sub, 0); }
static int mm_mul(lua_State *L) { return mm_binary(L, d3m_tensor_mul, 1); }


static int mm_unm(lua_State *L)
{
    d3m_tensor *a = d3m_lua_check_tensor(L, 1);
    d3m_tensor *out = d3m_lua_new_tensor(L, a->ndim, a->shape);
    d3m_lua_check(L, d3m_tensor_scale(out, a, -1.0f));
    return 1;
}


/* ---- reductions ------------------------------------------------------------- */

typedef int (*reduction)(const d3m_tensor *, double *);

static int reduce(lua_State *L, reduction op)
{
    double v = 0.0;
    d3m_lua_check(L, op(d3m_lua_check_tensor(L, 1), &v));
    lua_pushnumber(L, v);
    return 1;
}

static int t_sum(lua_State *L) { return reduce(L, d3m_tensor_sum); }
static int t_mean(lua_State *L) { return reduce(L, d3m_tensor_mean); }
static int t_max_abs(lua_State *L) { return reduce(L, d3m_tensor_max_abs); }


static int t_dot(lua_State *L)
{
    double v = 0.0;
    d3m_lua_check(L, d3m_tensor_dot(d3m_lua_check_tensor(L, 1), d3m_lua_check_tensor(L, 2), &v));
    lua_pushnumber(L, v);
    return 1;
}


static int t_has_nonfinite(lua_State *L)
{
    int flag = 0;
    d3m_lua_check(L, d3m_tensor_has_nonfinite(d3m_lua_check_tensor(L, 1), &flag));
    lua_pushboolean(L, flag);
    return 1;
}


static int t_tostring(lua_State *L)
{
    d3m_tensor **slot = luaL_checkudata(L, 1, D3M_TENSOR_METATABLE);
    if (*slot == NULL) {
        lua_pushliteral(L, "d3m.tensor (freed)");
        return 1;
    }
    d3m_tensor *t = *slot;
    char shape[128];
    d3m_format_shape(shape, sizeof shape, t->ndim, t->shape);
    double mean = 0.0, max_abs = 0.0;
    if (d3m_tensor_mean(t, &mean) != D3M_OK || d3m_tensor_max_abs(t, &max_abs) != D3M_OK)
        lua_pushfstring(L, "d3m.tensor%s float32", shape);
    else
        lua_pushfstring(L, "d3m.tensor%s float32, mean %f, max |x| %f", shape, mean, max_abs);
    return 1;
}


static int l_memory(lua_State *L)
{
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)d3m_device_bytes());
    lua_setfield(L, -2, "bytes");
    lua_pushinteger(L, (lua_Integer)d3m_live_tensors());
    lua_setfield(L, -2, "tensors");
    return 1;
}


static int l_is_tensor(lua_State *L)
{
    lua_pushboolean(L, luaL_testudata(L, 1, D3M_TENSOR_METATABLE) != NULL);
    return 1;
}


static const luaL_Reg tensor_methods[] = {
    {"shape", t_shape}, {"size", t_size}, {"ndim", t_ndim}, {"numel", t_numel},
    {"to_table", t_to_table}, {"to_string", t_to_string}, {"get", t_get}, {"set", t_set},
    {"fill", t_fill}, {"copy", t_copy}, {"copy_from", t_copy_from}, {"reshape", t_reshape},
    {"add", t_add}, {"sub", t_sub}, {"mul", t_mul}, {"scale", t_scale}, {"axpy", t_axpy},
    {"sum", t_sum}, {"mean", t_mean}, {"max_abs", t_max_abs}, {"dot", t_dot},
    {"has_nonfinite", t_has_nonfinite}, {"free", t_free}, {"is_freed", tensor_is_freed},
    {NULL, NULL}};

static const luaL_Reg tensor_metamethods[] = {
    {"__gc", tensor_gc}, {"__close", tensor_gc}, {"__tostring", t_tostring},
    {"__add", mm_add}, {"__sub", mm_sub}, {"__mul", mm_mul}, {"__unm", mm_unm},
    {NULL, NULL}};

static const luaL_Reg module_functions[] = {
    {"tensor", l_tensor}, {"zeros", l_zeros}, {"full", l_full}, {"from_table", l_from_table},
    {"from_string", l_from_string}, {"add", l_add}, {"sub", l_sub}, {"mul", l_mul},
    {"scale", l_scale}, {"memory", l_memory}, {"is_tensor", l_is_tensor},
    {NULL, NULL}};


int d3m_open_tensor(lua_State *L)
{
    if (luaL_newmetatable(L, D3M_TENSOR_METATABLE)) {
        luaL_setfuncs(L, tensor_metamethods, 0);
        luaL_newlib(L, tensor_methods);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, "d3m.tensor");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    luaL_setfuncs(L, module_functions, 0);
    return 0;
}
