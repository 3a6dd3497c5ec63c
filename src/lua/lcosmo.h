/* lcosmo.h - the d3m.cosmology userdata, for binding files that take a
 * cosmology argument (l_ic.c, the PM solver's bindings). */
#ifndef D3M_LCOSMO_H
#define D3M_LCOSMO_H

#include <lauxlib.h>
#include <lua.h>

#include "cosmo/cosmology.h"

#define D3M_COSMOLOGY_METATABLE "d3m.cosmology"

/* The cosmology at idx, or an argument error ("d3m.cosmology expected"). */
d3m_cosmology *d3m_lua_check_cosmology(lua_State *L, int idx);

/* Push a new d3m.cosmology built from the options table at idx (nil or
 * none: the Planck 2015 defaults), as d3m.cosmology{...} does. */
d3m_cosmology *d3m_lua_push_cosmology(lua_State *L, int idx);

#endif
