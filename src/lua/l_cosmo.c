/* l_cosmo.c - d3m.cosmology{...}: background, growth and linear power of a
 * Lambda-CDM model as a Lua object (C side in src/cosmo/cosmology.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lbind.h"
#include "lcosmo.h"

int d3m_open_cosmo(lua_State *L);

static const char *const option_names[] = {"Omega_m", "Omega_b", "Omega_k", "h", "n_s", "A_s",
                                           "sigma8", "m_nu", "N_nu", "transfer", "power_table",
                                           NULL};


d3m_cosmology *d3m_lua_check_cosmology(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, D3M_COSMOLOGY_METATABLE);
}


/* Reject option keys that are not in option_names, so that a misspelt
 * parameter (omega_m) does not silently fall back to its default. */
static void check_option_names(lua_State *L, int idx)
{
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *key = lua_tostring(L, -1);
            for (int i = 0; option_names[i] != NULL; i++)
                known |= strcmp(key, option_names[i]) == 0;
        }
        if (!known)
            luaL_error(L, "d3m.cosmology: unknown parameter '%s'; expected Omega_m, Omega_b, "
                       "Omega_k, h, n_s, A_s or sigma8, m_nu, N_nu, transfer, power_table",
                       luaL_tolstring(L, -1, NULL));
    }
}


static d3m_power_kind check_transfer(lua_State *L, const char *name)
{
    if (strcmp(name, "eh98") == 0)
        return D3M_POWER_EH98;
    if (strcmp(name, "eh98_nowiggle") == 0)
        return D3M_POWER_EH98_NOWIGGLE;
    luaL_error(L, "d3m.cosmology: invalid transfer '%s'; expected \"eh98\" (with baryon "
               "wiggles) or \"eh98_nowiggle\"", name);
    return D3M_POWER_EH98;
}


d3m_cosmology *d3m_lua_push_cosmology(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (!lua_isnoneornil(L, idx)) {
        luaL_checktype(L, idx, LUA_TTABLE);
        check_option_names(L, idx);
    }
    double omega_m = d3m_lua_opt_number_field(L, idx, "Omega_m", D3M_PLANCK15_OMEGA_M);
    double omega_b = d3m_lua_opt_number_field(L, idx, "Omega_b", D3M_PLANCK15_OMEGA_B);
    double omega_k = d3m_lua_opt_number_field(L, idx, "Omega_k", 0.0);
    double h = d3m_lua_opt_number_field(L, idx, "h", D3M_PLANCK15_H);
    double n_s = d3m_lua_opt_number_field(L, idx, "n_s", D3M_PLANCK15_N_S);
    double sigma8 = d3m_lua_opt_number_field(L, idx, "sigma8", 0.0);
    /* A_s defaults to Planck 2015 unless sigma8 sets the amplitude. */
    double A_s = d3m_lua_opt_number_field(L, idx, "A_s", sigma8 > 0.0 ? 0.0 : D3M_PLANCK15_A_S);
    /* Planck 2015's baseline: 0.06 eV in one massive species. */
    double m_nu = d3m_lua_opt_number_field(L, idx, "m_nu", D3M_PLANCK15_M_NU);
    lua_Integer n_nu = d3m_lua_opt_integer_field(L, idx, "N_nu", D3M_PLANCK15_N_NU);
    const char *transfer = d3m_lua_opt_string_field(L, idx, "transfer", "eh98");
    const char *table = d3m_lua_opt_string_field(L, idx, "power_table", NULL);
    d3m_power_kind kind = check_transfer(L, transfer);

    /* The userdata is zeroed and anchored before anything can fail, so
     * __gc is safe whatever happens next. */
    d3m_cosmology *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, D3M_COSMOLOGY_METATABLE);

    d3m_lua_check(L, d3m_cosmology_init(c, omega_m, omega_b, h, n_s, A_s, sigma8));
    if (omega_k != 0.0)
        d3m_lua_check(L, d3m_cosmology_set_curvature(c, omega_k));
    if (kind != D3M_POWER_EH98)
        d3m_lua_check(L, d3m_cosmology_set_transfer(c, kind));
    /* The table first, so that the range of the neutrino fit does not apply
     * to it. */
    if (table != NULL)
        d3m_lua_check(L, d3m_cosmology_read_power_table(c, table));
    if (m_nu != 0.0 || n_nu != D3M_PLANCK15_N_NU)
        d3m_lua_check(L, d3m_cosmology_set_neutrinos(c, m_nu, (int)fmax(fmin(n_nu, 99), -1)));
    return c;
}


static int l_cosmology(lua_State *L)
{
    d3m_lua_push_cosmology(L, 1);
    return 1;
}


/* ---- methods ----------------------------------------------------------------- */

/* Raise the message of a NaN result (a outside its range, k outside a
 * power table). */
static lua_Number checked(lua_State *L, double value)
{
    if (isnan(value))
        luaL_error(L, "%s", d3m_last_error());
    return value;
}


static int c_E(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    lua_pushnumber(L, checked(L, d3m_cosmo_E(c, luaL_checknumber(L, 2))));
    return 1;
}


static int c_omega_m(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    lua_pushnumber(L, checked(L, d3m_cosmo_omega_m_a(c, luaL_checknumber(L, 2))));
    return 1;
}


/* c:growth(a) -> D1, f1, D2, f2 */
static int c_growth(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    double a = luaL_checknumber(L, 2);
    lua_pushnumber(L, checked(L, d3m_cosmo_D1(c, a)));
    lua_pushnumber(L, checked(L, d3m_cosmo_f1(c, a)));
    lua_pushnumber(L, checked(L, d3m_cosmo_D2(c, a)));
    lua_pushnumber(L, checked(L, d3m_cosmo_f2(c, a)));
    return 4;
}


static int c_dD1da(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    lua_pushnumber(L, checked(L, d3m_cosmo_dD1da(c, luaL_checknumber(L, 2))));
    return 1;
}


static int c_d2D1da2(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    lua_pushnumber(L, checked(L, d3m_cosmo_d2D1da2(c, luaL_checknumber(L, 2))));
    return 1;
}


/* c:linear_power(k) for a number, or a table of numbers -> table. */
static int c_linear_power(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    if (!lua_istable(L, 2)) {
        lua_pushnumber(L, checked(L, d3m_cosmo_linear_power(c, luaL_checknumber(L, 2))));
        return 1;
    }
    lua_Integer n = luaL_len(L, 2);
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 2, i);
        int ok = 0;
        double k = lua_tonumberx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "linear_power: entry %d of the k table is not a number", (int)i);
        lua_pop(L, 1);
        lua_pushnumber(L, checked(L, d3m_cosmo_linear_power(c, k)));
        lua_seti(L, -2, i);
    }
    return 1;
}


static int c_transfer(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    double k = luaL_checknumber(L, 2);
    if (!(k >= 0.0))
        luaL_argerror(L, 2, "k >= 0 (h/Mpc) expected");
    lua_pushnumber(L, d3m_cosmo_transfer(c, k));
    return 1;
}


static int c_sigma8(lua_State *L)
{
    lua_pushnumber(L, d3m_cosmo_sigma8(d3m_lua_check_cosmology(L, 1)));
    return 1;
}


static int c_sigma_r(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    double r = luaL_checknumber(L, 2);
    if (!(r > 0.0))
        luaL_argerror(L, 2, "radius R > 0 (Mpc/h) expected");
    lua_pushnumber(L, d3m_cosmo_sigma_r(c, r));
    return 1;
}


static const char *power_name(const d3m_cosmology *c)
{
    switch (c->power_kind) {
    case D3M_POWER_EH98_NOWIGGLE:
        return "eh98_nowiggle";
    case D3M_POWER_TABLE:
        return "table";
    default:
        return "eh98";
    }
}


/* Push the named parameter; returns 0 for an unknown name. */
static int push_parameter(lua_State *L, const d3m_cosmology *c, const char *name)
{
    const struct {
        const char *name;
        double value;
    } numbers[] = {{"Omega_m", c->omega_m}, {"Omega_b", c->omega_b}, {"Omega_k", c->omega_k},
                   {"Omega_Lambda", c->omega_lambda}, {"h", c->h}, {"n_s", c->n_s},
                   {"A_s", c->A_s}, {"m_nu", c->m_nu}, {"Omega_nu", c->f_nu * c->omega_m}};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        if (strcmp(name, numbers[i].name) == 0) {
            lua_pushnumber(L, numbers[i].value);
            return 1;
        }
    }
    if (strcmp(name, "N_nu") == 0) {
        lua_pushinteger(L, c->n_nu);
        return 1;
    }
    if (strcmp(name, "power") == 0) {
        lua_pushstring(L, power_name(c));
        return 1;
    }
    return 0;
}


/* c:params() -> {Omega_m=, ..., sigma8=, power=} (sigma8 as a number). */
static int c_params(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    const char *names[] = {"Omega_m", "Omega_b", "Omega_k", "Omega_Lambda", "h", "n_s", "A_s",
                           "m_nu", "N_nu", "Omega_nu", "power"};
    lua_createtable(L, 0, 12);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        push_parameter(L, c, names[i]);
        lua_setfield(L, -2, names[i]);
    }
    lua_pushnumber(L, c->sigma8);
    lua_setfield(L, -2, "sigma8");
    return 1;
}


static int c_index(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    if (lua_type(L, 2) == LUA_TSTRING && push_parameter(L, c, lua_tostring(L, 2)))
        return 1;
    /* Methods live in the upvalue table. */
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    return 1;
}


static int c_tostring(lua_State *L)
{
    d3m_cosmology *c = d3m_lua_check_cosmology(L, 1);
    char text[360];
    snprintf(text, sizeof text, "d3m.cosmology(Omega_m=%g, Omega_b=%g, Omega_k=%g, h=%g, "
             "n_s=%g, A_s=%.5g, m_nu=%g, N_nu=%d, sigma8=%.5g, power=%s)", c->omega_m,
             c->omega_b, c->omega_k, c->h, c->n_s, c->A_s, c->m_nu, c->n_nu, c->sigma8,
             power_name(c));
    lua_pushstring(L, text);
    return 1;
}


static int c_gc(lua_State *L)
{
    d3m_cosmology_clear(d3m_lua_check_cosmology(L, 1));
    return 0;
}


static const luaL_Reg methods[] = {
    {"E", c_E}, {"omega_m", c_omega_m}, {"growth", c_growth}, {"dD1da", c_dD1da},
    {"d2D1da2", c_d2D1da2}, {"linear_power", c_linear_power}, {"transfer", c_transfer},
    {"sigma8", c_sigma8}, {"sigma_r", c_sigma_r}, {"params", c_params}, {NULL, NULL}};


int d3m_open_cosmo(lua_State *L)
{
    if (luaL_newmetatable(L, D3M_COSMOLOGY_METATABLE)) {
        luaL_newlib(L, methods);
        lua_pushcclosure(L, c_index, 1);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, c_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushcfunction(L, c_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, c_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, l_cosmology);
    lua_setfield(L, -2, "cosmology");
    return 0;
}
