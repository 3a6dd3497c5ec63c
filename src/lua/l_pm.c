/* l_pm.c - d3m.pm: CIC painting and readout, lattice positions and
 * displacements, and the particle-mesh gravity force (C side in
 * src/pm/pm.h). Positions are [3, np] tensors in Mpc/h, row d along mesh
 * axis d; displacement fields are [3, n, n, n] on the particle lattice. */
#include <math.h>
#include <string.h>

#include "lbind.h"
#include "pm/pm.h"

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
    return 0;
}
