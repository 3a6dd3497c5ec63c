/* l_symmetry.c - d3m.ops.cube_symmetry and its inverse index, for the
 * 48-fold augmentation of training data. */
#include "lbind.h"
#include "nn/symmetry.h"

int d3m_open_symmetry(lua_State *L);


static int check_index(lua_State *L, int idx)
{
    lua_Integer k = luaL_checkinteger(L, idx);
    if (k < 0 || k >= D3M_CUBE_SYMMETRIES)
        luaL_error(L, "cube symmetry index %d is outside 0..47", (int)k);
    return (int)k;
}


/* ops.cube_symmetry(input, k, {vector=bool} [, out]) -> out */
static int l_cube_symmetry(lua_State *L)
{
    d3m_tensor *input = d3m_lua_check_tensor(L, 1);
    int k = check_index(L, 2);
    int vector = d3m_lua_opt_boolean_field(L, 3, "vector", 0);
    d3m_tensor *out = d3m_lua_output_tensor(L, 4, input->ndim, input->shape,
                                            "output of cube_symmetry");
    d3m_lua_check(L, d3m_cube_symmetry(input, k, vector, out));
    return 1;
}


static int l_inverse(lua_State *L)
{
    lua_pushinteger(L, d3m_cube_symmetry_inverse(check_index(L, 1)));
    return 1;
}


/* ops.cube_symmetry_parts(k) -> {p(0), p(1), p(2)}, {s0, s1, s2} (0-based axes) */
static int l_parts(lua_State *L)
{
    int perm[3], sign[3];
    d3m_lua_check(L, d3m_cube_symmetry_parts(check_index(L, 1), perm, sign));
    lua_createtable(L, 3, 0);
    lua_createtable(L, 3, 0);
    for (int a = 0; a < 3; a++) {
        lua_pushinteger(L, perm[a]);
        lua_seti(L, -3, a + 1);
        lua_pushinteger(L, sign[a]);
        lua_seti(L, -2, a + 1);
    }
    return 2;
}


static const luaL_Reg functions[] = {
    {"cube_symmetry", l_cube_symmetry}, {"cube_symmetry_inverse", l_inverse},
    {"cube_symmetry_parts", l_parts}, {NULL, NULL}};


int d3m_open_symmetry(lua_State *L)
{
    d3m_lua_subtable(L, -1, "ops");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
