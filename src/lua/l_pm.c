/* l_pm.c - d3m.pm: CIC painting and readout, lattice positions and
 * displacements, and the particle-mesh gravity force; d3m.sim.fastpm, the
 * N-body run (C side in src/pm/pm.h). Positions are [3, np] tensors in
 * Mpc/h, row d along mesh axis d; displacement fields are [3, n, n, n] on
 * the particle lattice. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lbind.h"
#include "lcosmo.h"
#include "pm/ic.h"
#include "pm/pm.h"

#define MAX_STEPS 1000

int d3m_open_pm(lua_State *L);


static double check_box(lua_State *L, int idx)
{
    double box = luaL_checknumber(L, idx);
    if (!(box > 0.0) || !isfinite(box))
        luaL_argerror(L, idx, "the box side must be a positive number of Mpc/h");
    return box;
}


static size_t check_mesh_n(lua_State *L, int idx)
{
    lua_Integer n = luaL_checkinteger(L, idx);
    if (n < 1 || n > 4096)
        luaL_argerror(L, idx, "the mesh size must be an integer from 1 to 4096");
    return (size_t)n;
}


/* The gradient option: "exact" (i k) or "fd4" (FastPM's four-point
 * difference; "four_point" is accepted too). */
static d3m_pm_gradient check_gradient(lua_State *L, int idx, d3m_pm_gradient def)
{
    const char *name = d3m_lua_opt_string_field(L, idx, "gradient", NULL);
    if (name == NULL)
        return def;
    if (strcmp(name, "exact") == 0)
        return D3M_PM_GRADIENT_EXACT;
    if (strcmp(name, "fd4") == 0 || strcmp(name, "four_point") == 0)
        return D3M_PM_GRADIENT_FOUR_POINT;
    return (d3m_pm_gradient)luaL_error(L, "option 'gradient' must be \"exact\" (i k) or \"fd4\" "
                                       "(FastPM's four-point difference), got \"%s\"", name);
}


static int paint(lua_State *L, d3m_pm_coordinates kind)
{
    d3m_tensor *particles = d3m_lua_check_tensor(L, 1);
    size_t n = check_mesh_n(L, 2);
    double box = check_box(L, 3);
    float mass = 1.0f;
    d3m_tensor *masses = NULL;
    if (lua_isnumber(L, 4))
        mass = (float)lua_tonumber(L, 4);
    else if (!lua_isnoneornil(L, 4))
        masses = d3m_lua_check_tensor(L, 4);

    size_t shape[3] = {n, n, n};
    d3m_tensor *mesh = d3m_lua_new_tensor(L, 3, shape);
    d3m_lua_check(L, d3m_pm_paint(particles, kind, box, mass, masses, mesh));
    return 1;
}


/* d3m.pm.paint(positions, mesh_n, box [, mass]) -> mesh [n, n, n]
 * mass: a number per particle (default 1) or a tensor of np masses. */
static int l_paint(lua_State *L)
{
    return paint(L, D3M_PM_POSITIONS);
}


/* d3m.pm.paint_displacement(psi, mesh_n, box [, mass]) -> mesh: paints the
 * lattice particles at q + psi. */
static int l_paint_displacement(lua_State *L)
{
    return paint(L, D3M_PM_DISPLACEMENTS);
}


static int readout(lua_State *L, d3m_pm_coordinates kind)
{
    d3m_tensor *mesh = d3m_lua_check_tensor(L, 1);
    d3m_tensor *particles = d3m_lua_check_tensor(L, 2);
    double box = check_box(L, 3);
    size_t np = particles->numel / 3;
    size_t shape[2] = {np, 0};
    int ndim = 1;
    if (mesh->ndim == 4) {
        shape[0] = mesh->shape[0];
        shape[1] = np;
        ndim = 2;
    }
    d3m_tensor *values = d3m_lua_new_tensor(L, ndim, shape);
    d3m_lua_check(L, d3m_pm_readout(mesh, particles, kind, box, values));
    return 1;
}


/* d3m.pm.readout(mesh, positions, box) -> values [np], or [c, np] for
 * stacked meshes [c, n, n, n]. */
static int l_readout(lua_State *L)
{
    return readout(L, D3M_PM_POSITIONS);
}


/* d3m.pm.readout_displacement(mesh, psi, box) -> values at q + psi. */
static int l_readout_displacement(lua_State *L)
{
    return readout(L, D3M_PM_DISPLACEMENTS);
}


/* d3m.pm.lattice_positions(psi, box [, scale]) -> positions [3, n^3]:
 * q + scale * psi wrapped into [0, box). */
static int l_lattice_positions(lua_State *L)
{
    d3m_tensor *psi = d3m_lua_check_tensor(L, 1);
    double box = check_box(L, 2);
    double scale = luaL_optnumber(L, 3, 1.0);
    size_t shape[2] = {3, psi->numel / 3};
    d3m_tensor *positions = d3m_lua_new_tensor(L, 2, shape);
    d3m_lua_check(L, d3m_pm_lattice_positions(psi, box, (float)scale, positions));
    return 1;
}


/* d3m.pm.lattice_displacement(positions, box) -> psi [3, n, n, n]: x - q
 * wrapped into [-box/2, box/2) for np = n^3 particles in lattice order. */
static int l_lattice_displacement(lua_State *L)
{
    d3m_tensor *positions = d3m_lua_check_tensor(L, 1);
    double box = check_box(L, 2);
    size_t np = positions->numel / 3;
    size_t n = (size_t)llround(cbrt((double)np));
    if (n * n * n != np || positions->numel != 3 * np)
        luaL_argerror(L, 1, "positions of n^3 lattice particles ([3, n^3]) expected");
    size_t shape[4] = {3, n, n, n};
    d3m_tensor *psi = d3m_lua_new_tensor(L, 4, shape);
    d3m_lua_check(L, d3m_pm_lattice_displacement(positions, D3M_PM_POSITIONS, box, psi));
    return 1;
}


/* d3m.pm.acceleration_mesh(density, box [, {gradient=}]) -> [3, n, n, n]:
 * g = -grad phi with laplacian(phi) = density (its mean ignored). */
static int l_acceleration_mesh(lua_State *L)
{
    d3m_tensor *density = d3m_lua_check_tensor(L, 1);
    double box = check_box(L, 2);
    d3m_pm_gradient gradient = check_gradient(L, 3, D3M_PM_GRADIENT_FOUR_POINT);
    if (density->ndim != 3)
        luaL_argerror(L, 1, "a density mesh [n, n, n] expected");
    size_t n = density->shape[0];
    size_t shape[4] = {3, n, n, n};
    d3m_tensor *accel = d3m_lua_new_tensor(L, 4, shape);
    d3m_lua_check(L, d3m_pm_acceleration_mesh(density, box, gradient, accel));
    return 1;
}


/* d3m.pm.gravity(particles, mesh_n, box [, options]) -> acceleration with
 * the particles' shape: g = -grad phi, laplacian(phi) = delta of the
 * particles painted on a mesh_n^3 mesh. options: displacement (false:
 * particles are positions [3, np]; true: a displacement field [3, n, n, n]
 * on the lattice), gradient ("fd4" | "exact", default "fd4"), shift (mesh
 * offset in cells, default 0). */
static int l_gravity(lua_State *L)
{
    d3m_tensor *particles = d3m_lua_check_tensor(L, 1);
    size_t n = check_mesh_n(L, 2);
    double box = check_box(L, 3);
    int lattice = d3m_lua_opt_boolean_field(L, 4, "displacement", 0);
    d3m_pm_gradient gradient = check_gradient(L, 4, D3M_PM_GRADIENT_FOUR_POINT);
    double shift = d3m_lua_opt_number_field(L, 4, "shift", 0.0);

    d3m_tensor *accel = d3m_lua_new_tensor(L, particles->ndim, particles->shape);
    d3m_lua_check(L, d3m_pm_gravity_shifted(particles,
                                            lattice ? D3M_PM_DISPLACEMENTS : D3M_PM_POSITIONS,
                                            box, n, gradient, shift, accel));
    return 1;
}


/* ---- d3m.sim.fastpm ------------------------------------------------------ */

/* Scale factors of the run from options.steps (a table of increasing scale
 * factors, or a count for linspace(a_start, a_final, count)), default 10
 * from a_start = 0.1 to a_final = 1. Returns the count. */
static int check_steps(lua_State *L, int opts, double *steps)
{
    double a_start = d3m_lua_opt_number_field(L, opts, "a_start", 0.1);
    double a_final = d3m_lua_opt_number_field(L, opts, "a_final", 1.0);
    int type = lua_getfield(L, opts, "steps");
    int count = 10;
    if (type == LUA_TTABLE) {
        count = (int)luaL_len(L, -1);
        if (count < 2 || count > MAX_STEPS)
            luaL_error(L, "option 'steps' must list 2 to %d scale factors, got %d", MAX_STEPS,
                       count);
        for (int i = 0; i < count; i++) {
            lua_geti(L, -1, i + 1);
            int ok = 0;
            steps[i] = lua_tonumberx(L, -1, &ok);
            if (!ok)
                luaL_error(L, "option 'steps': entry %d is %s, expected a scale factor", i + 1,
                           luaL_typename(L, -1));
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        return count;
    }
    if (type == LUA_TNUMBER) {
        lua_Integer given = lua_tointeger(L, -1);
        if (given < 2 || given > MAX_STEPS)
            luaL_error(L, "option 'steps' must be a count of 2 to %d scale factors or a table "
                       "of them, got %s", MAX_STEPS, luaL_tolstring(L, -1, NULL));
        count = (int)given;
    } else if (type != LUA_TNIL) {
        luaL_error(L, "option 'steps' must be a table of scale factors or their count, got %s",
                   luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    if (!(a_start > 0.0) || !(a_final > a_start))
        luaL_error(L, "options 'a_start' = %f and 'a_final' = %f must satisfy 0 < a_start < "
                   "a_final", a_start, a_final);
    for (int i = 0; i < count - 1; i++)
        steps[i] = a_start + (a_final - a_start) * i / (count - 1);
    steps[count - 1] = a_final;   /* exactly, not a rounded sum */
    return count;
}


/* Push the cosmology of option `cosmology` of the table at idx: a
 * d3m.cosmology or a table of its parameters; NULL (nothing pushed) when
 * absent. */
static d3m_cosmology *push_cosmology_option(lua_State *L, int idx)
{
    int type = lua_getfield(L, idx, "cosmology");
    if (type == LUA_TUSERDATA)
        return d3m_lua_check_cosmology(L, -1);
    if (type == LUA_TTABLE) {
        d3m_cosmology *c = d3m_lua_push_cosmology(L, -1);
        lua_remove(L, -2);
        return c;
    }
    if (type != LUA_TNIL)
        luaL_error(L, "option 'cosmology' must be a d3m.cosmology or a table of parameters, got "
                   "%s", luaL_typename(L, -1));
    lua_pop(L, 1);
    return NULL;
}


typedef struct progress_state {
    lua_State *L;
    int function_idx;   /* 0: print a line to stderr */
    int failed;         /* the Lua function raised; its message is on the stack */
} progress_state;

static void report_progress(void *context, int step, int nsteps, double a_from, double a_to,
                            double seconds)
{
    progress_state *state = context;
    if (state->function_idx == 0) {
        fprintf(stderr, "fastpm step %d/%d: a = %.4f -> %.4f, %.2f s\n", step, nsteps, a_from,
                a_to, seconds);
        return;
    }
    if (state->failed)
        return;
    lua_State *L = state->L;
    lua_pushvalue(L, state->function_idx);
    lua_pushinteger(L, step);
    lua_pushinteger(L, nsteps);
    lua_pushnumber(L, a_from);
    lua_pushnumber(L, a_to);
    lua_pushnumber(L, seconds);
    /* The error is raised after the run, when the C side has freed its
     * device buffers. */
    if (lua_pcall(L, 5, 0, 0) != LUA_OK)
        state->failed = 1;
}


static void set_number(lua_State *L, const char *name, double value)
{
    lua_pushnumber(L, value);
    lua_setfield(L, -2, name);
}


/*
 * d3m.sim.fastpm(field [, options]) -> displacement, velocity, info
 * field: {delta_k=, box=, cosmology=?} as from d3m.sim.linear_field.
 * options (default: the field table itself):
 *   steps         table of increasing scale factors, or their count (10)
 *   a_start       first scale factor of a count of steps (0.1)
 *   a_final       last scale factor of a count of steps (1)
 *   boost         force mesh of boost * n cells per side (2)
 *   gradient      force gradient, "fd4" (default) or "exact"
 *   lpt_gradient  gradient of the initial 2LPT displacements ("exact")
 *   order         2 (2LPT start, default) or 1 (Zel'dovich start)
 *   shift         force mesh offset in cells (0.5)
 *   verbose       true: a line per step on stderr. A function: called
 *                 with (step, nsteps, a_from, a_to, seconds) after each step.
 *   cosmology     overrides the field's (default Planck 2015)
 * displacement = x - q [3, n, n, n] in Mpc/h, wrapped into [-box/2, box/2).
 * velocity = dx/da in Mpc/h per unit a, as from d3m.sim.lpt. FastPM's
 * momentum is info.momentum_factor * velocity = a^3 E(a) dx/da. info holds
 * a, D1, momentum_factor, boost, gradient, order and steps.
 */
static int l_fastpm(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int opts = lua_istable(L, 2) ? 2 : 1;
    lua_settop(L, 2);

    if (lua_getfield(L, 1, "delta_k") == LUA_TNIL)
        luaL_error(L, "fastpm: the field has no 'delta_k' (a complex [n, n, n/2+1, 2] tensor)");
    d3m_tensor *delta_k = d3m_lua_check_tensor(L, -1);
    if (delta_k->ndim != 4 || delta_k->shape[3] != 2)
        luaL_error(L, "fastpm: field.delta_k must be complex [n, n, n/2+1, 2]");
    if (lua_getfield(L, 1, "box") == LUA_TNIL)
        luaL_error(L, "fastpm: the field has no 'box' (side length in Mpc/h)");
    double box = check_box(L, -1);
    size_t n = delta_k->shape[0];

    /* On the stack rather than static: a verbose function may start
     * another run. */
    double *steps = lua_newuserdatauv(L, MAX_STEPS * sizeof *steps, 0);
    int count = check_steps(L, opts, steps);
    lua_Integer boost = d3m_lua_opt_integer_field(L, opts, "boost", 2);
    if (boost < 1 || boost > 16)
        luaL_error(L, "option 'boost' must be an integer from 1 to 16, got %d", (int)boost);
    d3m_pm_gradient gradient = check_gradient(L, opts, D3M_PM_GRADIENT_FOUR_POINT);
    const char *lpt_name = d3m_lua_opt_string_field(L, opts, "lpt_gradient", "exact");
    int lpt_gradient = D3M_GRADIENT_EXACT;
    if (strcmp(lpt_name, "fd4") == 0)
        lpt_gradient = D3M_GRADIENT_FD4;
    else if (strcmp(lpt_name, "exact") != 0)
        luaL_error(L, "option 'lpt_gradient' must be \"exact\" or \"fd4\", got \"%s\"", lpt_name);
    lua_Integer order = d3m_lua_opt_integer_field(L, opts, "order", 2);
    if (order != 1 && order != 2)
        luaL_error(L, "option 'order' must be 1 (Zel'dovich start) or 2 (2LPT start), got %d",
                   (int)order);
    double shift = d3m_lua_opt_number_field(L, opts, "shift", 0.5);

    progress_state progress = {L, 0, 0};
    int verbose = 0;
    lua_getfield(L, opts, "verbose");
    if (lua_isfunction(L, -1)) {
        progress.function_idx = lua_gettop(L);
        verbose = 1;
    } else {
        verbose = lua_toboolean(L, -1);
    }

    d3m_cosmology *c = push_cosmology_option(L, opts);
    if (c == NULL && opts != 1)
        c = push_cosmology_option(L, 1);
    if (c == NULL) {   /* Planck 2015 */
        lua_pushnil(L);
        c = d3m_lua_push_cosmology(L, -1);
        lua_remove(L, -2);
    }

    /* psi1, psi2 (or nil), displacement, momentum: anchored on the stack. */
    size_t shape[4] = {3, n, n, n};
    d3m_tensor *psi1 = d3m_lua_new_tensor(L, 4, shape);
    d3m_tensor *psi2 = NULL;
    if (order == 2)
        psi2 = d3m_lua_new_tensor(L, 4, shape);
    else
        lua_pushnil(L);
    d3m_lua_check(L, d3m_lpt_displacements(delta_k, box, lpt_gradient, psi1, psi2));
    d3m_tensor *displacement = d3m_lua_new_tensor(L, 4, shape);
    int displacement_idx = lua_gettop(L);
    d3m_tensor *velocity = d3m_lua_new_tensor(L, 4, shape);
    int velocity_idx = lua_gettop(L);

    d3m_fastpm_options options;
    d3m_fastpm_default_options(&options);
    options.steps = steps;
    options.nsteps_a = count;
    options.boost = (int)boost;
    options.gradient = gradient;
    options.mesh_shift = shift;
    if (verbose) {
        options.progress = report_progress;
        options.progress_context = &progress;
    }
    d3m_pm_background background = d3m_pm_background_of(c);
    int status = d3m_fastpm_run(&background, psi1, psi2, box, &options, displacement, velocity);
    if (progress.failed)
        lua_error(L);
    d3m_lua_check(L, status);

    double a = steps[count - 1];
    double momentum_factor = a * a * a * d3m_cosmo_E(c, a);
    d3m_lua_check(L, d3m_tensor_scale(velocity, velocity, (float)(1.0 / momentum_factor)));

    lua_pushvalue(L, displacement_idx);
    lua_pushvalue(L, velocity_idx);
    lua_createtable(L, 0, 8);
    set_number(L, "a", a);
    set_number(L, "D1", d3m_cosmo_D1(c, a));
    set_number(L, "momentum_factor", momentum_factor);
    lua_pushinteger(L, boost);
    lua_setfield(L, -2, "boost");
    lua_pushstring(L, gradient == D3M_PM_GRADIENT_EXACT ? "exact" : "fd4");
    lua_setfield(L, -2, "gradient");
    lua_pushinteger(L, order);
    lua_setfield(L, -2, "order");
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
        lua_pushnumber(L, steps[i]);
        lua_seti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "steps");
    return 3;
}


static const luaL_Reg sim_functions[] = {{"fastpm", l_fastpm}, {NULL, NULL}};


static const luaL_Reg functions[] = {
    {"paint", l_paint},
    {"paint_displacement", l_paint_displacement},
    {"readout", l_readout},
    {"readout_displacement", l_readout_displacement},
    {"lattice_positions", l_lattice_positions},
    {"lattice_displacement", l_lattice_displacement},
    {"acceleration_mesh", l_acceleration_mesh},
    {"gravity", l_gravity},
    {NULL, NULL}};


int d3m_open_pm(lua_State *L)
{
    d3m_lua_subtable(L, -1, "pm");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    d3m_lua_subtable(L, -1, "sim");
    luaL_setfuncs(L, sim_functions, 0);
    lua_pop(L, 1);
    return 0;
}
