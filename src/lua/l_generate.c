/* l_generate.c - d3m.core.generate.fastpm: the FastPM run of one training
 * sample, for lua/d3m/generate.lua. It feeds the LPT fields at unit growth
 * and a d3m.cosmology to d3m_fastpm_run (src/pm/pm.h). */
#include <math.h>
#include <stdlib.h>

#include "lbind.h"
#include "lcosmo.h"
#include "pm/pm.h"

int d3m_open_generate(lua_State *L);

#define MAX_SCALE_FACTORS 10000


/* d3m_pm_background.growth from a d3m_cosmology (D1(1) = 1, as the LPT
 * fields of d3m.sim.lpt assume). */
static int cosmology_growth(const void *context, double a, d3m_pm_growth *out)
{
    const d3m_cosmology *c = context;
    out->E = d3m_cosmo_E(c, a);
    out->D1 = d3m_cosmo_D1(c, a);
    out->D2 = d3m_cosmo_D2(c, a);
    out->f1 = d3m_cosmo_f1(c, a);
    out->f2 = d3m_cosmo_f2(c, a);
    out->dD1da = d3m_cosmo_dD1da(c, a);
    if (!isfinite(out->D1) || !isfinite(out->D2) || !isfinite(out->dD1da))
        return d3m_fail(D3M_ERR_VALUE, "no growth factor at a = %g: %s", a, d3m_last_error());
    return D3M_OK;
}


/* The increasing scale factors of option 'a' at idx (a Lua sequence) into a
 * new userdata buffer on the stack, so an error cannot leak it. */
static double *check_scale_factors(lua_State *L, int idx, int *count)
{
    if (lua_getfield(L, idx, "a") != LUA_TTABLE)
        luaL_error(L, "option 'a' must be a table of increasing scale factors, got %s",
                   luaL_typename(L, -1));
    lua_Integer n = luaL_len(L, -1);
    if (n < 2 || n > MAX_SCALE_FACTORS)
        luaL_error(L, "option 'a' must hold 2 to %d scale factors, got %d", MAX_SCALE_FACTORS,
                   (int)n);
    double *steps = lua_newuserdatauv(L, (size_t)n * sizeof *steps, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, -2, i);
        int ok = 0;
        steps[i - 1] = lua_tonumberx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok || !(steps[i - 1] > 0.0))
            luaL_error(L, "option 'a': element %d must be a scale factor > 0", (int)i);
        if (i > 1 && !(steps[i - 1] > steps[i - 2]))
            luaL_error(L, "option 'a' must increase: element %d (%g) follows %g", (int)i,
                       steps[i - 1], steps[i - 2]);
    }
    lua_remove(L, -2);
    *count = (int)n;
    return steps;
}


static d3m_tensor *check_tensor_field(lua_State *L, int idx, const char *name, int required)
{
    int type = lua_getfield(L, idx, name);
    if (type == LUA_TNIL && !required) {
        lua_pop(L, 1);
        return NULL;
    }
    if (type == LUA_TNIL)
        luaL_error(L, "option '%s' (a [3, n, n, n] displacement at unit growth) is missing", name);
    d3m_tensor *t = d3m_lua_check_tensor(L, -1);
    lua_pop(L, 1);   /* the options table keeps the tensor alive */
    return t;
}


/*
 * d3m.core.generate.fastpm{psi1=, psi2=, box=, cosmology=, a={...}, boost=2}
 *   -> displacement [3, n, n, n] in Mpc/h at the last scale factor, wrapped
 *      into [-box/2, box/2).
 * psi1, psi2: the LPT fields at unit growth (info.psi1 and info.psi2 of
 * d3m.sim.lpt(field, {psi = true})); psi2 may be nil for a Zel'dovich
 * start. a: the scale factors of the time steps, first the start.
 */
static int l_fastpm(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    d3m_tensor *psi1 = check_tensor_field(L, 1, "psi1", 1);
    d3m_tensor *psi2 = check_tensor_field(L, 1, "psi2", 0);
    if (lua_getfield(L, 1, "box") == LUA_TNIL)
        luaL_error(L, "option 'box' (side length in Mpc/h) is missing");
    lua_pop(L, 1);
    double box = d3m_lua_opt_number_field(L, 1, "box", 0.0);
    if (!(box > 0.0) || !isfinite(box))
        luaL_error(L, "option 'box' must be a side length > 0 in Mpc/h, got %f", box);
    lua_Integer boost = d3m_lua_opt_integer_field(L, 1, "boost", 2);
    if (boost < 1 || boost > 8)
        luaL_error(L, "option 'boost' (force mesh cells per particle per side) must be 1 to 8, "
                   "got %d", (int)boost);
    if (lua_getfield(L, 1, "cosmology") == LUA_TNIL)
        luaL_error(L, "option 'cosmology' (a d3m.cosmology) is missing");
    const d3m_cosmology *c = d3m_lua_check_cosmology(L, -1);
    int count = 0;
    const double *steps = check_scale_factors(L, 1, &count);

    d3m_fastpm_options options;
    d3m_fastpm_default_options(&options);
    options.steps = steps;
    options.nsteps_a = count;
    options.boost = (int)boost;
    d3m_pm_background background = {c->omega_m, cosmology_growth, c};

    d3m_tensor *displacement = d3m_lua_new_tensor(L, (int)psi1->ndim, psi1->shape);
    d3m_lua_check(L, d3m_fastpm_run(&background, psi1, psi2, box, &options, displacement, NULL));
    return 1;
}


static const luaL_Reg functions[] = {{"fastpm", l_fastpm}, {NULL, NULL}};


int d3m_open_generate(lua_State *L)
{
    d3m_lua_subtable(L, -1, "generate");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
