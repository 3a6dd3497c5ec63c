/* core.c - luaopen_d3m_core: the C half of the d3m Lua module. The Lua half
 * (lua/d3m/init.lua) requires it and adds the Lua-written submodules. */
#include "lbind.h"

void d3m_open_bindings(lua_State *L);   /* generated from src/lua/l_*.c */
int luaopen_d3m_core(lua_State *L);

int luaopen_d3m_core(lua_State *L)
{
    lua_newtable(L);
    d3m_open_bindings(L);
    return 1;
}
