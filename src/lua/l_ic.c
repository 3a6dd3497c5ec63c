/* l_ic.c - d3m.sim.white_noise, d3m.sim.linear_field and d3m.sim.lpt:
 * initial conditions from Lua (C side in src/pm/ic.h). */
#include <math.h>
#include <string.h>

#include "lbind.h"
#include "lcosmo.h"
#include "pm/ic.h"

int d3m_open_ic(lua_State *L);

#define DEFAULT_BOX 128.0
#define DEFAULT_MESH 32


static uint64_t check_seed(lua_State *L, int idx)
{
    int type = lua_getfield(L, idx, "seed");
    int ok = 0;
    lua_Integer seed = lua_tointegerx(L, -1, &ok);
    if (type == LUA_TNIL)
        luaL_error(L, "option 'seed' is missing: give an integer >= 0 so the field can be "
                   "reproduced");
    if (!ok || seed < 0)
        luaL_error(L, "option 'seed' must be an integer >= 0, got %s", luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return (uint64_t)seed;
}


static int check_mesh_option(lua_State *L, int idx, lua_Integer def)
{
    lua_Integer n = d3m_lua_opt_integer_field(L, idx, "n", def);
    if (n < 2 || n > 4096 || n % 2 != 0)
        luaL_error(L, "option 'n' must be an even mesh size from 2 to 4096, got %d", (int)n);
    return (int)n;
}


static double check_box_option(lua_State *L, int idx, int required)
{
    if (required && lua_getfield(L, idx, "box") == LUA_TNIL)
        luaL_error(L, "option 'box' (side length in Mpc/h) is missing");
    if (required)
        lua_pop(L, 1);
    double box = d3m_lua_opt_number_field(L, idx, "box", DEFAULT_BOX);
    if (!(box > 0.0) || !isfinite(box))
        luaL_error(L, "option 'box' must be a side length > 0 in Mpc/h, got %f", box);
    return box;
}


/* Push the cosmology of field `name` of the table at idx: a d3m.cosmology,
 * a table of parameters for d3m.cosmology{...}, or nil for the defaults
 * when allow_nil; returns NULL (nothing pushed) for nil otherwise. */
static d3m_cosmology *push_cosmology_field(lua_State *L, int idx, int allow_nil)
{
    int type = lua_getfield(L, idx, "cosmology");
    if (type == LUA_TUSERDATA)
        return d3m_lua_check_cosmology(L, -1);
    if (type == LUA_TTABLE || (type == LUA_TNIL && allow_nil)) {
        d3m_cosmology *c = d3m_lua_push_cosmology(L, -1);
        lua_remove(L, -2);
        return c;
    }
    if (type != LUA_TNIL)
        luaL_error(L, "option 'cosmology' must be a d3m.cosmology or a table of parameters, "
                   "got %s", luaL_typename(L, -1));
    lua_pop(L, 1);
    return NULL;
}


/* d3m.sim.white_noise{n=, seed=} -> complex [n, n, n/2+1, 2] */
static int l_white_noise(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = check_mesh_option(L, 1, DEFAULT_MESH);
    uint64_t seed = check_seed(L, 1);
    size_t shape[4] = {(size_t)n, (size_t)n, (size_t)n / 2 + 1, 2};
    d3m_tensor *noise = d3m_lua_new_tensor(L, 4, shape);
    d3m_lua_check(L, d3m_white_noise(n, seed, noise));
    return 1;
}


/* d3m.sim.linear_field{cosmology=, box=128, n=32, seed=}
 *   -> {delta_k=, box=, n=, seed=, cosmology=} */
static int l_linear_field(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = check_mesh_option(L, 1, DEFAULT_MESH);
    double box = check_box_option(L, 1, 0);
    uint64_t seed = check_seed(L, 1);
    d3m_cosmology *c = push_cosmology_field(L, 1, 1);
    int cosmology_idx = lua_gettop(L);

    size_t shape[4] = {(size_t)n, (size_t)n, (size_t)n / 2 + 1, 2};
    d3m_tensor *delta_k = d3m_lua_new_tensor(L, 4, shape);
    d3m_lua_check(L, d3m_linear_field(c, box, n, seed, delta_k));
    int delta_idx = lua_gettop(L);

    lua_createtable(L, 0, 5);
    lua_pushvalue(L, delta_idx);
    lua_setfield(L, -2, "delta_k");
    lua_pushnumber(L, box);
    lua_setfield(L, -2, "box");
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
    lua_pushinteger(L, (lua_Integer)seed);
    lua_setfield(L, -2, "seed");
    lua_pushvalue(L, cosmology_idx);
    lua_setfield(L, -2, "cosmology");
    return 1;
}


static int check_gradient(lua_State *L, int idx)
{
    const char *name = d3m_lua_opt_string_field(L, idx, "gradient", "exact");
    if (strcmp(name, "exact") == 0)
        return D3M_GRADIENT_EXACT;
    if (strcmp(name, "fd4") == 0)
        return D3M_GRADIENT_FD4;
    luaL_error(L, "option 'gradient' must be \"exact\" (i k) or \"fd4\" (FastPM's 4-point "
               "finite difference), got \"%s\"", name);
    return D3M_GRADIENT_EXACT;
}


static void set_number(lua_State *L, const char *name, double value)
{
    lua_pushnumber(L, value);
    lua_setfield(L, -2, name);
}


/*
 * d3m.sim.lpt(field [, options]) -> displacement, velocity, info
 * field: {delta_k=, box=, cosmology=?} as from linear_field, or any table
 * with a complex delta_k [n, n, n/2+1, 2] and box; options default to the
 * field table itself, so d3m.sim.lpt{delta_k=, box=, order=1} works.
 * options: a (1), order (2), gradient ("exact" | "fd4"), psi (false),
 * cosmology (the field's, else Planck 2015).
 * displacement = x - q = D1 psi1 + D2 psi2 [3, n, n, n] in Mpc/h;
 * velocity = dx/da in Mpc/h per unit a. FastPM's momentum is
 * info.momentum_factor * velocity = a^3 E(a) dx/da, and the peculiar
 * velocity is 100 a^2 E(a) velocity in km/s. info contains a, D1, f1, D2, f2
 * (D2 = f2 = 0 for order 1), order, gradient, and psi1, psi2 at unit
 * growth when psi = true.
 */
static int l_lpt(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int opts = lua_istable(L, 2) ? 2 : 1;
    lua_settop(L, 2);

    if (lua_getfield(L, 1, "delta_k") == LUA_TNIL)
        luaL_error(L, "lpt: the field has no 'delta_k' (a complex [n, n, n/2+1, 2] tensor)");
    d3m_tensor *delta_k = d3m_lua_check_tensor(L, -1);
    double box = check_box_option(L, 1, 1);
    int n = (int)delta_k->shape[0];
    lua_Integer n_given = d3m_lua_opt_integer_field(L, 1, "n", n);
    if (n_given != n)
        luaL_error(L, "lpt: field.n = %d does not match delta_k of shape [%d, ...]", (int)n_given, n);

    double a = d3m_lua_opt_number_field(L, opts, "a", 1.0);
    lua_Integer order = d3m_lua_opt_integer_field(L, opts, "order", 2);
    if (order != 1 && order != 2)
        luaL_error(L, "option 'order' must be 1 (ZA) or 2 (2LPT), got %d", (int)order);
    int gradient = check_gradient(L, opts);
    int keep_psi = d3m_lua_opt_boolean_field(L, opts, "psi", 0);
    d3m_cosmology *c = push_cosmology_field(L, opts, 0);
    if (c == NULL)
        c = push_cosmology_field(L, 1, 1);

    double d1 = d3m_cosmo_D1(c, a), d2 = d3m_cosmo_D2(c, a);
    double f1 = d3m_cosmo_f1(c, a), f2 = d3m_cosmo_f2(c, a);
    if (isnan(d1) || isnan(d2))
        luaL_error(L, "lpt: %s", d3m_last_error());

    /* Stack from here: psi1, psi2 (or nil), velocity, displacement. */
    size_t shape[4] = {3, (size_t)n, (size_t)n, (size_t)n};
    d3m_tensor *psi1 = d3m_lua_new_tensor(L, 4, shape);
    int psi1_idx = lua_gettop(L);
    d3m_tensor *psi2 = NULL;
    if (order == 2)
        psi2 = d3m_lua_new_tensor(L, 4, shape);
    else
        lua_pushnil(L);
    int psi2_idx = lua_gettop(L);
    d3m_lua_check(L, d3m_lpt_displacements(delta_k, box, gradient, psi1, psi2));

    /* dx/da = (f1 D1 psi1 + f2 D2 psi2) / a */
    d3m_tensor *velocity = d3m_lua_new_tensor(L, 4, shape);
    int velocity_idx = lua_gettop(L);
    d3m_lua_check(L, d3m_lpt_combine(psi1, f1 * d1 / a, psi2, f2 * d2 / a, velocity));

    /* x - q = D1 psi1 + D2 psi2, in place in psi1 unless psi is kept. */
    d3m_tensor *displacement = psi1;
    if (keep_psi)
        displacement = d3m_lua_new_tensor(L, 4, shape);
    else
        lua_pushvalue(L, psi1_idx);
    int displacement_idx = lua_gettop(L);
    d3m_lua_check(L, d3m_lpt_combine(psi1, d1, psi2, d2, displacement));

    lua_pushvalue(L, displacement_idx);
    lua_pushvalue(L, velocity_idx);
    lua_createtable(L, 0, 10);
    set_number(L, "a", a);
    set_number(L, "D1", d1);
    set_number(L, "f1", f1);
    set_number(L, "D2", order == 2 ? d2 : 0.0);
    set_number(L, "f2", order == 2 ? f2 : 0.0);
    set_number(L, "momentum_factor", a * a * a * d3m_cosmo_E(c, a));
    lua_pushinteger(L, order);
    lua_setfield(L, -2, "order");
    lua_pushstring(L, gradient == D3M_GRADIENT_FD4 ? "fd4" : "exact");
    lua_setfield(L, -2, "gradient");
    if (keep_psi) {
        lua_pushvalue(L, psi1_idx);
        lua_setfield(L, -2, "psi1");
        lua_pushvalue(L, psi2_idx);
        lua_setfield(L, -2, "psi2");
    }
    return 3;
}


static const luaL_Reg functions[] = {
    {"white_noise", l_white_noise}, {"linear_field", l_linear_field}, {"lpt", l_lpt},
    {NULL, NULL}};


int d3m_open_ic(lua_State *L)
{
    d3m_lua_subtable(L, -1, "sim");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
