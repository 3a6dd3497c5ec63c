/* cic.c - CIC painting and readout of particles, and conversions between
 * lattice displacements and positions (kernels in kernels/cic.cl). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm/pm.h"
#include "pm/pm_internal.h"
#include "runtime/runtime.h"

#define LOCAL_SIZE 64


static int check_box(double box, const char *what)
{
    if (!(box > 0.0) || !isfinite(box))
        return d3m_fail(D3M_ERR_ARG, "%s: box = %g Mpc/h is invalid; the box side must be "
                        "positive and finite", what, box);
    return D3M_OK;
}


/* Side of a cubic mesh [n, n, n] or of stacked meshes [c, n, n, n]; *ncomp
 * receives c (1 for a single mesh). */
static int mesh_side(const d3m_tensor *mesh, const char *what, int *n, int *ncomp)
{
    int nd = mesh->ndim;
    size_t side = nd >= 3 ? mesh->shape[nd - 1] : 0;
    int cubic = (nd == 3 || nd == 4) && mesh->shape[nd - 2] == side && mesh->shape[nd - 3] == side;
    if (!cubic || side > 46340) {
        char text[128];
        d3m_format_shape(text, sizeof text, mesh->ndim, mesh->shape);
        return d3m_fail(D3M_ERR_SHAPE, "%s: expected a cubic mesh [n, n, n] or stacked meshes "
                        "[c, n, n, n], got %s", what, text);
    }
    *n = (int)side;
    *ncomp = nd == 4 ? (int)mesh->shape[0] : 1;
    return D3M_OK;
}


/* Number of particles and the lattice side (0 for positions). Positions
 * are [3, ...]; displacements are [3, n, n, n]. */
static int particle_layout(const d3m_tensor *particles, d3m_pm_coordinates kind, const char *what,
                           size_t *np, int *lattice_n)
{
    char text[128];
    d3m_format_shape(text, sizeof text, particles->ndim, particles->shape);
    if (kind == D3M_PM_DISPLACEMENTS) {
        size_t n = particles->ndim == 4 ? particles->shape[1] : 0;
        if (n == 0 || particles->shape[0] != 3 || particles->shape[2] != n ||
            particles->shape[3] != n)
            return d3m_fail(D3M_ERR_SHAPE, "%s: expected a displacement field [3, n, n, n], "
                            "got %s", what, text);
        *np = n * n * n;
        *lattice_n = (int)n;
        return D3M_OK;
    }
    if (kind != D3M_PM_POSITIONS)
        return d3m_fail(D3M_ERR_ARG, "%s: coordinate kind %d is neither D3M_PM_POSITIONS nor "
                        "D3M_PM_DISPLACEMENTS", what, (int)kind);
    if (particles->ndim < 2 || particles->shape[0] != 3)
        return d3m_fail(D3M_ERR_SHAPE, "%s: expected positions [3, np] (row d = coordinate "
                        "along mesh axis d), got %s", what, text);
    *np = particles->numel / 3;
    *lattice_n = 0;
    return D3M_OK;
}


/* Return the build options of the paint kernel: 64-bit atomics where the
 * device has them, unless D3M_CIC_ATOMICS=32 selects the 32-bit pair (a
 * ctest entry runs both). */
static const char *paint_options(void)
{
    const d3m_runtime *rt = d3m_runtime_current();
    const char *env = getenv("D3M_CIC_ATOMICS");
    int force_pair = env != NULL && strcmp(env, "32") == 0;
    if (rt != NULL && rt->info.has_int64_atomics && !force_pair)
        return "-DCIC_INT64_ATOMICS=1";
    return NULL;
}


int d3m_pm_paint(const d3m_tensor *particles, d3m_pm_coordinates kind, double box, float mass,
                 const d3m_tensor *masses, d3m_tensor *mesh)
{
    return d3m_pm_paint_shifted(particles, kind, box, 0.0, mass, masses, mesh);
}


int d3m_pm_paint_shifted(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                         double shift, float mass, const d3m_tensor *masses, d3m_tensor *mesh)
{
    return d3m_pm_paint_accumulate(particles, kind, box, shift, mass, masses, NULL, mesh);
}


int d3m_pm_paint_accumulate(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                            double shift, float mass, const d3m_tensor *masses,
                            d3m_tensor *accumulator, d3m_tensor *mesh)
{
    int n, ncomp, lattice_n;
    size_t np;
    D3M_TRY(check_box(box, "pm paint"));
    D3M_TRY(mesh_side(mesh, "pm paint output", &n, &ncomp));
    if (ncomp != 1 || mesh->ndim != 3)
        return d3m_fail(D3M_ERR_SHAPE, "pm paint output: expected one mesh [n, n, n], got %d "
                        "stacked meshes", ncomp);
    D3M_TRY(particle_layout(particles, kind, "pm paint", &np, &lattice_n));
    if (masses != NULL && masses->numel != np)
        return d3m_fail(D3M_ERR_SHAPE, "pm paint: masses has %zu elements for %zu particles; "
                        "pass one mass per particle", masses->numel, np);

    /* Two 32-bit fixed-point words per cell (see cic.cl); the zero float
     * has the all-zero bit pattern. */
    size_t words[1] = {2 * mesh->numel};
    d3m_tensor *own = NULL;
    if (accumulator == NULL) {
        D3M_TRY(d3m_tensor_new(1, words, &own));
        accumulator = own;
    }
    D3M_TRY(d3m_check_shape(accumulator, "pm paint accumulator", 1, words));
    int status = d3m_tensor_fill(accumulator, 0.0f);

    size_t global = d3m_round_up(np, LOCAL_SIZE), local = LOCAL_SIZE;
    if (status == D3M_OK)
        status = d3m_launch("cic.cl", "cic_paint", paint_options(), 1, &global, &local,
                            "titlifffti", accumulator, n, particles, (long long)np, lattice_n,
                            (double)n / box, shift, (double)mass, masses ? masses : particles,
                            masses != NULL);
    size_t cells_global = d3m_round_up(mesh->numel, LOCAL_SIZE);
    if (status == D3M_OK)
        status = d3m_launch("cic.cl", "cic_fixed_to_float", NULL, 1, &cells_global, &local, "ttl",
                            mesh, accumulator, (long long)mesh->numel);
    d3m_tensor_free(own);
    return status;
}


int d3m_pm_readout(const d3m_tensor *mesh, const d3m_tensor *particles, d3m_pm_coordinates kind,
                   double box, d3m_tensor *values)
{
    return d3m_pm_readout_shifted(mesh, particles, kind, box, 0.0, values);
}


int d3m_pm_readout_shifted(const d3m_tensor *mesh, const d3m_tensor *particles,
                           d3m_pm_coordinates kind, double box, double shift, d3m_tensor *values)
{
    int n, ncomp, lattice_n;
    size_t np;
    D3M_TRY(check_box(box, "pm readout"));
    D3M_TRY(mesh_side(mesh, "pm readout input", &n, &ncomp));
    D3M_TRY(particle_layout(particles, kind, "pm readout", &np, &lattice_n));
    if (values->numel != (size_t)ncomp * np) {
        char text[128];
        d3m_format_shape(text, sizeof text, values->ndim, values->shape);
        return d3m_fail(D3M_ERR_SHAPE, "pm readout output: expected %d x %zu elements (%d "
                        "meshes at %zu particles), got %s", ncomp, np, ncomp, np, text);
    }

    size_t global = d3m_round_up(np, LOCAL_SIZE), local = LOCAL_SIZE;
    return d3m_launch("cic.cl", "cic_readout", NULL, 1, &global, &local, "ttiitliff", values,
                      mesh, ncomp, n, particles, (long long)np, lattice_n, (double)n / box, shift);
}


int d3m_pm_lattice_positions(const d3m_tensor *displacement, double box, float scale,
                             d3m_tensor *positions)
{
    int lattice_n;
    size_t np;
    D3M_TRY(check_box(box, "pm lattice positions"));
    D3M_TRY(particle_layout(displacement, D3M_PM_DISPLACEMENTS, "pm lattice positions", &np,
                            &lattice_n));
    if (positions->numel != 3 * np || positions->shape[0] != 3) {
        char text[128];
        d3m_format_shape(text, sizeof text, positions->ndim, positions->shape);
        return d3m_fail(D3M_ERR_SHAPE, "pm lattice positions output: expected [3, %zu], got %s",
                        np, text);
    }
    size_t global = d3m_round_up(np, LOCAL_SIZE), local = LOCAL_SIZE;
    return d3m_launch("cic.cl", "cic_lattice_positions", NULL, 1, &global, &local, "ttiff",
                      positions, displacement, lattice_n, box, (double)scale);
}


int d3m_pm_lattice_displacement(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                                d3m_tensor *displacement)
{
    int lattice_n;
    size_t np;
    D3M_TRY(check_box(box, "pm lattice displacement"));
    D3M_TRY(particle_layout(displacement, D3M_PM_DISPLACEMENTS, "pm lattice displacement output",
                            &np, &lattice_n));
    if (kind != D3M_PM_POSITIONS && kind != D3M_PM_DISPLACEMENTS)
        return d3m_fail(D3M_ERR_ARG, "pm lattice displacement: coordinate kind %d is neither "
                        "D3M_PM_POSITIONS nor D3M_PM_DISPLACEMENTS", (int)kind);
    if (particles->numel != 3 * np || particles->shape[0] != 3) {
        char text[128];
        d3m_format_shape(text, sizeof text, particles->ndim, particles->shape);
        return d3m_fail(D3M_ERR_SHAPE, "pm lattice displacement: expected particles [3, %zu] "
                        "for a lattice of %d^3, got %s", np, lattice_n, text);
    }
    size_t global = d3m_round_up(np, LOCAL_SIZE), local = LOCAL_SIZE;
    return d3m_launch("cic.cl", "cic_lattice_displacement", NULL, 1, &global, &local, "ttiif",
                      displacement, particles, lattice_n, kind == D3M_PM_DISPLACEMENTS, box);
}
