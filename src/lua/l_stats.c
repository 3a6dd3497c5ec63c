/* l_stats.c - d3m.core.stats: the C statistics (src/stats/stats.h) with
 * positional arguments and results as Lua tables. lua/d3m/stats.lua wraps
 * them into the public d3m.stats with option tables. */
#include <string.h>

#include "lbind.h"
#include "stats/stats.h"

int d3m_open_stats(lua_State *L);

#define MAX_EDGES 257


/* Bin edges from the sequence at idx into edges; returns nbins. */
static int check_edges(lua_State *L, int idx, double *edges)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer count = luaL_len(L, idx);
    if (count < 2 || count > MAX_EDGES)
        luaL_argerror(L, idx, lua_pushfstring(L, "2 to %d bin edges expected, got %d", MAX_EDGES,
                                              (int)count));
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, idx, i);
        int ok;
        edges[i - 1] = lua_tonumberx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok)
            luaL_argerror(L, idx, lua_pushfstring(L, "edge %d is not a number", (int)i));
    }
    return (int)count - 1;
}


static d3m_window check_window(lua_State *L, int idx)
{
    static const char *const names[] = {"none", "cic", "sinc2", NULL};
    static const d3m_window values[] = {D3M_WINDOW_NONE, D3M_WINDOW_CIC, D3M_WINDOW_CIC_SINC2};
    return values[luaL_checkoption(L, idx, "none", names)];
}


static void push_array(lua_State *L, const double *values, int count)
{
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
        lua_pushnumber(L, values[i]);
        lua_rawseti(L, -2, i + 1);
    }
}


/* Push {x_name = x, value_name = value, count_name = count}. */
static void push_binned(lua_State *L, const d3m_binned *b, const char *x_name,
                        const char *value_name, const char *count_name)
{
    lua_createtable(L, 0, 3);
    push_array(L, b->x, b->nbins);
    lua_setfield(L, -2, x_name);
    push_array(L, b->value, b->nbins);
    lua_setfield(L, -2, value_name);
    push_array(L, b->count, b->nbins);
    lua_setfield(L, -2, count_name);
}


/* A d3m_binned of nbins backed by a userdata left on the stack. */
static d3m_binned new_binned(lua_State *L, int nbins)
{
    double *storage = lua_newuserdatauv(L, 3 * (size_t)nbins * sizeof(double), 0);
    return (d3m_binned){nbins, storage, storage + nbins, storage + 2 * nbins};
}


/* Push multipoles [nl][nbins][nbins] as t[l][b1][b2], l from 0, bins from 1. */
static void push_multipoles(lua_State *L, const double *values, int lmax, int nbins)
{
    lua_createtable(L, lmax, 1);
    for (int l = 0; l <= lmax; l++) {
        lua_createtable(L, nbins, 0);
        for (int b1 = 0; b1 < nbins; b1++) {
            size_t row = ((size_t)l * nbins + (size_t)b1) * nbins;
            push_array(L, values + row, nbins);
            lua_rawseti(L, -2, b1 + 1);
        }
        lua_rawseti(L, -2, l);
    }
}


/* power(a, b | nil, box, edges, window) -> {k, P, modes} */
static int l_power(lua_State *L)
{
    d3m_tensor *a = d3m_lua_check_tensor(L, 1);
    d3m_tensor *b = d3m_lua_opt_tensor(L, 2);
    double box = luaL_checknumber(L, 3), edges[MAX_EDGES];
    int nbins = check_edges(L, 4, edges);
    d3m_window window = check_window(L, 5);
    d3m_binned out = new_binned(L, nbins);
    d3m_lua_check(L, d3m_stats_power(a, b, box, window, edges, &out));
    push_binned(L, &out, "k", "P", "modes");
    return 1;
}


/* xi_mesh(a, box, edges, window, shot_noise) -> {r, xi, count} */
static int l_xi_mesh(lua_State *L)
{
    d3m_tensor *a = d3m_lua_check_tensor(L, 1);
    double box = luaL_checknumber(L, 2), edges[MAX_EDGES];
    int nbins = check_edges(L, 3, edges);
    d3m_window window = check_window(L, 4);
    double shot_noise = luaL_optnumber(L, 5, 0.0);
    d3m_binned out = new_binned(L, nbins);
    d3m_lua_check(L, d3m_stats_xi_mesh(a, box, window, shot_noise, edges, &out));
    push_binned(L, &out, "r", "xi", "count");
    return 1;
}


/* xi_pairs(positions, box, edges) -> {r, xi, DD} */
static int l_xi_pairs(lua_State *L)
{
    d3m_tensor *positions = d3m_lua_check_tensor(L, 1);
    double box = luaL_checknumber(L, 2), edges[MAX_EDGES];
    int nbins = check_edges(L, 3, edges);
    d3m_binned out = new_binned(L, nbins);
    d3m_lua_check(L, d3m_stats_xi_pairs(positions, box, edges, &out));
    push_binned(L, &out, "r", "xi", "DD");
    return 1;
}


/* zeta_counts(positions, weights | nil, box, edges, lmax, self_terms) -> N[l][b1][b2] */
static int l_zeta_counts(lua_State *L)
{
    d3m_tensor *positions = d3m_lua_check_tensor(L, 1);
    d3m_tensor *weights = d3m_lua_opt_tensor(L, 2);
    double box = luaL_checknumber(L, 3), edges[MAX_EDGES];
    int nbins = check_edges(L, 4, edges);
    int lmax = (int)luaL_checkinteger(L, 5);
    int self_terms = lua_toboolean(L, 6);
    if (lmax < 0 || lmax > D3M_ZETA_MAX_L)
        luaL_argerror(L, 5, lua_pushfstring(L, "lmax from 0 to %d expected, got %d",
                                            D3M_ZETA_MAX_L, lmax));
    size_t entries = (size_t)(lmax + 1) * (size_t)nbins * (size_t)nbins;
    double *values = lua_newuserdatauv(L, entries * sizeof(double), 0);
    d3m_lua_check(L, d3m_stats_zeta_counts(positions, weights, box, nbins, edges, lmax, self_terms,
                                           values));
    push_multipoles(L, values, lmax, nbins);
    return 1;
}


/* zeta_normalise(N, edges, lmax, weight_sum, box) -> zeta[l][b1][b2] (a new table) */
static int l_zeta_normalise(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    double edges[MAX_EDGES];
    int nbins = check_edges(L, 2, edges);
    int lmax = (int)luaL_checkinteger(L, 3);
    double weight_sum = luaL_checknumber(L, 4), box = luaL_checknumber(L, 5);
    if (lmax < 0 || lmax > D3M_ZETA_MAX_L)
        luaL_argerror(L, 3, "lmax out of range");
    size_t entries = (size_t)(lmax + 1) * (size_t)nbins * (size_t)nbins;
    double *values = lua_newuserdatauv(L, entries * sizeof(double), 0);
    for (int l = 0; l <= lmax; l++)
        for (int b1 = 0; b1 < nbins; b1++)
            for (int b2 = 0; b2 < nbins; b2++) {
                lua_geti(L, 1, l);
                luaL_checktype(L, -1, LUA_TTABLE);
                lua_geti(L, -1, b1 + 1);
                luaL_checktype(L, -1, LUA_TTABLE);
                lua_geti(L, -1, b2 + 1);
                values[((size_t)l * nbins + (size_t)b1) * nbins + (size_t)b2] =
                    luaL_checknumber(L, -1);
                lua_pop(L, 3);
            }
    d3m_stats_zeta_normalise(values, nbins, edges, lmax, weight_sum, box);
    push_multipoles(L, values, lmax, nbins);
    return 1;
}


/* zeta_mesh(rho, box, edges, lmax) -> zeta[l][b1][b2], volumes */
static int l_zeta_mesh(lua_State *L)
{
    d3m_tensor *rho = d3m_lua_check_tensor(L, 1);
    double box = luaL_checknumber(L, 2), edges[MAX_EDGES];
    int nbins = check_edges(L, 3, edges);
    int lmax = (int)luaL_checkinteger(L, 4);
    if (lmax < 0 || lmax > D3M_ZETA_MAX_L)
        luaL_argerror(L, 4, lua_pushfstring(L, "lmax from 0 to %d expected, got %d",
                                            D3M_ZETA_MAX_L, lmax));
    size_t entries = (size_t)(lmax + 1) * (size_t)nbins * (size_t)nbins;
    double *values = lua_newuserdatauv(L, (entries + (size_t)nbins) * sizeof(double), 0);
    double *volumes = values + entries;
    d3m_lua_check(L, d3m_stats_zeta_mesh(rho, box, nbins, edges, lmax, values, volumes));
    push_multipoles(L, values, lmax, nbins);
    push_array(L, volumes, nbins);
    return 2;
}


/* positions(displacement, box [, out]) -> tensor [3, n^3] */
static int l_positions(lua_State *L)
{
    d3m_tensor *disp = d3m_lua_check_tensor(L, 1);
    double box = luaL_checknumber(L, 2);
    size_t n = disp->ndim == 4 ? disp->shape[1] : 0;
    size_t shape[2] = {3, n * n * n};
    if (n == 0)
        luaL_argerror(L, 1, "a displacement [3, n, n, n] expected");
    d3m_tensor *out = d3m_lua_output_tensor(L, 3, 2, shape, "output of stats.positions");
    d3m_lua_check(L, d3m_stats_positions(disp, box, out));
    return 1;
}


/* pointwise_error(pred, truth) -> mean, max, skipped */
static int l_pointwise_error(lua_State *L)
{
    d3m_tensor *pred = d3m_lua_check_tensor(L, 1);
    d3m_tensor *truth = d3m_lua_check_tensor(L, 2);
    double mean, max;
    long skipped;
    d3m_lua_check(L, d3m_stats_pointwise_error(pred, truth, &mean, &max, &skipped));
    lua_pushnumber(L, mean);
    lua_pushnumber(L, max);
    lua_pushinteger(L, skipped);
    return 3;
}


/* default_k_edges(box, n) -> {i k_f, i = 1 .. n/2} */
static int l_default_k_edges(lua_State *L)
{
    double box = luaL_checknumber(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    if (n < 4 || n > 2 * (MAX_EDGES - 1))
        luaL_argerror(L, 2, lua_pushfstring(L, "mesh size from 4 to %d expected, got %d",
                                            2 * (MAX_EDGES - 1), (int)n));
    double edges[MAX_EDGES];
    int nbins = d3m_stats_default_k_edges(box, (int)n, edges);
    push_array(L, edges, nbins + 1);
    return 1;
}


static int l_shell_volume(lua_State *L)
{
    lua_pushnumber(L, d3m_stats_shell_volume(luaL_checknumber(L, 1), luaL_checknumber(L, 2)));
    return 1;
}


static const luaL_Reg functions[] = {
    {"power", l_power},
    {"xi_mesh", l_xi_mesh},
    {"xi_pairs", l_xi_pairs},
    {"zeta_counts", l_zeta_counts},
    {"zeta_normalise", l_zeta_normalise},
    {"zeta_mesh", l_zeta_mesh},
    {"positions", l_positions},
    {"pointwise_error", l_pointwise_error},
    {"default_k_edges", l_default_k_edges},
    {"shell_volume", l_shell_volume},
    {NULL, NULL}};


int d3m_open_stats(lua_State *L)
{
    d3m_lua_subtable(L, -1, "stats");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
