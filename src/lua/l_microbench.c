/* l_microbench.c - d3m.bench.fma_peak and d3m.bench.copy_bandwidth. */
#include "lbind.h"
#include "runtime/microbench.h"

int d3m_open_microbench(lua_State *L);


/* d3m.bench.fma_peak([work_items [, iterations]]) -> GFLOP/s */
static int l_fma_peak(lua_State *L)
{
    lua_Integer items = luaL_optinteger(L, 1, 65536);
    lua_Integer iterations = luaL_optinteger(L, 2, 4096);
    luaL_argcheck(L, items > 0, 1, "work-item count must be positive");
    luaL_argcheck(L, iterations > 0, 2, "iteration count must be positive");
    double gflops = 0.0;
    d3m_lua_check(L, d3m_bench_fma((size_t)items, (int)iterations, &gflops));
    lua_pushnumber(L, gflops);
    return 1;
}


/* d3m.bench.copy_bandwidth([floats [, repeats]]) -> GB/s */
static int l_copy_bandwidth(lua_State *L)
{
    lua_Integer floats = luaL_optinteger(L, 1, 64 * 1024 * 1024);
    lua_Integer repeats = luaL_optinteger(L, 2, 10);
    luaL_argcheck(L, floats > 0, 1, "float count must be positive");
    luaL_argcheck(L, repeats > 0, 2, "repeat count must be positive");
    double rate = 0.0;
    d3m_lua_check(L, d3m_bench_copy((size_t)floats, (int)repeats, &rate));
    lua_pushnumber(L, rate);
    return 1;
}


static const luaL_Reg functions[] = {
    {"fma_peak", l_fma_peak}, {"copy_bandwidth", l_copy_bandwidth}, {NULL, NULL}};


int d3m_open_microbench(lua_State *L)
{
    d3m_lua_subtable(L, -1, "bench");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
