/* l_fft.c - d3m.fft.r2c and d3m.fft.c2r: 3D real FFTs of tensors whose last
 * three axes are the mesh (forward unnormalised, inverse with 1/N). */
#include "lbind.h"

int d3m_open_fft(lua_State *L);


/* d3m.fft.r2c(real [, out]) -> complex [..., n1, n2, n3/2+1, 2] */
static int l_r2c(lua_State *L)
{
    d3m_tensor *real = d3m_lua_check_tensor(L, 1);
    if (real->ndim < 3 || real->ndim > D3M_MAX_DIMS - 1)
        luaL_argerror(L, 1, "a real mesh [..., n1, n2, n3] with 3 or 4 dimensions expected");
    size_t shape[D3M_MAX_DIMS];
    int nd = real->ndim + 1;
    for (int i = 0; i < real->ndim; i++)
        shape[i] = real->shape[i];
    shape[nd - 2] = real->shape[real->ndim - 1] / 2 + 1;
    shape[nd - 1] = 2;
    d3m_tensor *out = d3m_lua_output_tensor(L, 2, nd, shape, "output of fft.r2c");
    d3m_lua_check(L, d3m_fft_r2c(real, out));
    return 1;
}


/* d3m.fft.c2r(complex, n3 | out) -> real [..., n1, n2, n3] */
static int l_c2r(lua_State *L)
{
    d3m_tensor *cplx = d3m_lua_check_tensor(L, 1);
    if (cplx->ndim < 4 || cplx->shape[cplx->ndim - 1] != 2)
        luaL_argerror(L, 1, "a complex mesh [..., n1, n2, n3/2+1, 2] expected");
    if (lua_isinteger(L, 2)) {
        lua_Integer n3 = lua_tointeger(L, 2);
        size_t nh = cplx->shape[cplx->ndim - 2];
        if (n3 < 1 || (size_t)n3 / 2 + 1 != nh)
            luaL_error(L, "fft.c2r: n3 = %d does not match %d complex columns (n3/2+1)", (int)n3,
                       (int)nh);
        size_t shape[D3M_MAX_DIMS];
        int nd = cplx->ndim - 1;
        for (int i = 0; i < nd - 1; i++)
            shape[i] = cplx->shape[i];
        shape[nd - 1] = (size_t)n3;
        d3m_tensor *out = d3m_lua_new_tensor(L, nd, shape);
        d3m_lua_check(L, d3m_fft_c2r(cplx, out));
        return 1;
    }
    d3m_tensor *out = d3m_lua_check_tensor(L, 2);
    d3m_lua_check(L, d3m_fft_c2r(cplx, out));
    lua_pushvalue(L, 2);
    return 1;
}


static int l_backend(lua_State *L)
{
    lua_pushstring(L, d3m_fft_backend());
    return 1;
}


/* d3m.fft.use_backend("vkfft" | "clfft") */
static int l_use_backend(lua_State *L)
{
    d3m_lua_check(L, d3m_fft_use_backend(luaL_checkstring(L, 1)));
    return 0;
}


static const luaL_Reg functions[] = {
    {"r2c", l_r2c}, {"c2r", l_c2r}, {"backend", l_backend}, {"use_backend", l_use_backend},
    {NULL, NULL}};


int d3m_open_fft(lua_State *L)
{
    d3m_lua_subtable(L, -1, "fft");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
