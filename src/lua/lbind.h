/*
 * lbind.h - helpers shared by the Lua binding files (src/lua/l_*.c).
 * Each binding file l_NAME.c defines `int d3m_open_NAME(lua_State *L)`,
 * which adds its functions to the module table on top of the stack and
 * leaves the stack as it found it. The build generates the list of openers.
 */
#ifndef D3M_LBIND_H
#define D3M_LBIND_H

#include <lauxlib.h>
#include <lua.h>

#include "d3m.h"

#define D3M_TENSOR_METATABLE "d3m.tensor"

/* Raise a Lua error with d3m_last_error() unless status is D3M_OK. */
void d3m_lua_check(lua_State *L, int status);

/* The tensor at idx, or an argument error ("d3m.tensor expected, got
 * number"); a freed tensor is an error too. opt returns NULL for nil/none. */
d3m_tensor *d3m_lua_check_tensor(lua_State *L, int idx);
d3m_tensor *d3m_lua_opt_tensor(lua_State *L, int idx);

/* Push a new tensor userdata and allocate its device buffer (uninitialised).
 * Runs the Lua GC first when device memory is short, and once more before
 * giving up with an out-of-memory error. */
d3m_tensor *d3m_lua_new_tensor(lua_State *L, int ndim, const size_t *shape);

/* Push an output tensor: the tensor at idx when it is given (checked to have
 * the shape, and pushed again), else a new one of that shape. */
d3m_tensor *d3m_lua_output_tensor(lua_State *L, int idx, int ndim, const size_t *shape,
                                  const char *what);

/* Read a shape at idx: a table {n1, n2, ...} or, when idx is a number, the
 * numbers from idx to the top. Returns ndim. */
int d3m_lua_check_shape(lua_State *L, int idx, size_t *shape);

/* Push a shape as a Lua sequence. */
void d3m_lua_push_shape(lua_State *L, int ndim, const size_t *shape);

/* Push the module's subtable `name`, creating it when missing. The module
 * table is at module_idx. */
void d3m_lua_subtable(lua_State *L, int module_idx, const char *name);

/* Optional fields of an options table at idx (absent or nil: the default).
 * Wrong types raise an error naming the field. */
lua_Number d3m_lua_opt_number_field(lua_State *L, int idx, const char *field, lua_Number def);
lua_Integer d3m_lua_opt_integer_field(lua_State *L, int idx, const char *field, lua_Integer def);
int d3m_lua_opt_boolean_field(lua_State *L, int idx, const char *field, int def);
const char *d3m_lua_opt_string_field(lua_State *L, int idx, const char *field, const char *def);

#endif
