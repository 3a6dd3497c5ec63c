/*
 * pm.h - the particle-mesh (PM) N-body solver: cloud-in-cell (CIC) painting
 * and readout, the mesh gravity force and FastPM time stepping (Feng et al.
 * 2016, arXiv:1603.00476).
 *
 * Conventions
 *   - The box is periodic with side `box` in Mpc/h. A mesh is a tensor
 *     [n, n, n]; cell (j0, j1, j2) has its node at j * box / n.
 *   - Particles are a coordinate tensor [3, np] (or [3, n, n, n] for a
 *     lattice): row d is the coordinate along mesh axis d, and axis 2 is the
 *     fastest in memory. D3M_PM_POSITIONS means absolute positions in Mpc/h
 *     (any real value, wrapped periodically). D3M_PM_DISPLACEMENTS means a
 *     displacement field Psi [3, n, n, n] on the particle lattice: particle
 *     (i0, i1, i2) sits at q + Psi with q = (i0, i1, i2) * box / n.
 *   - Gravity solves laplacian(phi) = delta on the mesh and returns the
 *     acceleration g = -grad phi in Mpc/h (k in h/Mpc). The cosmological
 *     factor 1.5 Omega_m is applied by the FastPM kick, not here.
 *   - FastPM momentum is p = a^3 E(a) dx/da in Mpc/h, with E = H/H0.
 */
#ifndef D3M_PM_H
#define D3M_PM_H

#include "d3m.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum d3m_pm_coordinates {
    D3M_PM_POSITIONS = 0,      /* [3, np] (or [3, ...]) positions in Mpc/h */
    D3M_PM_DISPLACEMENTS = 1   /* [3, n, n, n] displacements from the lattice nodes */
} d3m_pm_coordinates;

/* NOTE: with the exact gradient the force between CIC particles rings
 * from the cut at the Nyquist frequency: for a pair 4 to 10 cells apart it
 * is off by up to several times the 1/r^2 value, depending on the sub-cell
 * positions, against 4 percent for the four-point gradient (test_pm_gravity). */
typedef enum d3m_pm_gradient {
    D3M_PM_GRADIENT_EXACT = 0,       /* i k, Nyquist plane of each axis zeroed */
    D3M_PM_GRADIENT_FOUR_POINT = 1   /* i (8 sin(kH) - sin(2kH)) / (6H), H = cell size */
} d3m_pm_gradient;

/* ---- CIC ------------------------------------------------------------------ */

/* Paint particles onto mesh [n, n, n] with CIC: the mesh is cleared, then
 * each particle adds mass * masses[p] (masses [np] may be NULL: weight 1)
 * to its 8 nearest nodes. The sum of the mesh is the total mass. Deposits
 * accumulate in 64-bit fixed point (32 fractional bits) with 32-bit integer
 * atomics, so the mesh is bit-identical from run to run on any OpenCL 1.2
 * device. A cell's total must stay below 2^31 in magnitude. */
int d3m_pm_paint(const d3m_tensor *particles, d3m_pm_coordinates kind, double box, float mass,
                 const d3m_tensor *masses, d3m_tensor *mesh);

/* Read mesh [n, n, n] or stacked meshes [c, n, n, n] at the particles with
 * CIC weights. values has c * np elements laid out [c, np] (any shape with
 * that element count, e.g. [np] or [3, n, n, n]). */
int d3m_pm_readout(const d3m_tensor *mesh, const d3m_tensor *particles, d3m_pm_coordinates kind,
                   double box, d3m_tensor *values);

/* Positions x = q + scale * Psi of the lattice particles, wrapped into
 * [0, box): displacement [3, n, n, n] -> positions [3, n^3] (or any shape
 * with 3 n^3 elements). */
int d3m_pm_lattice_positions(const d3m_tensor *displacement, double box, float scale,
                             d3m_tensor *positions);

/* Displacements Psi = x - q wrapped into [-box/2, box/2) of the lattice
 * particles, from positions (D3M_PM_POSITIONS, particle p at lattice index p
 * in row-major order) or from unwrapped displacements
 * (D3M_PM_DISPLACEMENTS): particles and displacement both have 3 n^3
 * elements and displacement is [3, n, n, n]. */
int d3m_pm_lattice_displacement(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                                d3m_tensor *displacement);

/* ---- gravity -------------------------------------------------------------- */

/* Acceleration mesh [3, n, n, n] from a density mesh [n, n, n]: g = -grad phi
 * with phi_k = -delta_k / k^2 and the mean (k = 0) ignored, so 1 + delta or
 * delta give the same result. */
int d3m_pm_acceleration_mesh(const d3m_tensor *density, double box, d3m_pm_gradient gradient,
                             d3m_tensor *acceleration);

/* Acceleration g = -grad phi at the particles: paint on an n^3 mesh
 * (n = mesh_n) with the mass n^3 / np per particle, so the mesh contains
 * 1 + delta, then d3m_pm_acceleration_mesh and CIC readout. acceleration
 * has the shape of particles ([3, np] or [3, n_p, n_p, n_p]), component d
 * along axis d. Total momentum is conserved: sum_p g_p = 0 up to float
 * rounding, because readout is the transpose of painting and the force
 * kernel is odd. */
int d3m_pm_gravity(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                   size_t mesh_n, d3m_pm_gradient gradient, d3m_tensor *acceleration);

/* d3m_pm_gravity on a mesh whose nodes sit at (j - shift) box / mesh_n,
 * shift in mesh cells along every axis. The force of the particles does not
 * depend on where the mesh sits, but its discretisation error does. When
 * lattice particles (the start of a simulation) sit on mesh nodes, CIC
 * responds one-sidedly to their small displacements, a first-order error
 * that vanishes when they sit at cell centres (shift 0.5). */
int d3m_pm_gravity_shifted(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                           size_t mesh_n, d3m_pm_gradient gradient, double shift,
                           d3m_tensor *acceleration);

/* ---- FastPM --------------------------------------------------------------- */

/* The background quantities FastPM needs at one scale factor a. Growth
 * factors are normalised as the caller likes (usually D1(1) = 1) but must
 * be those of the initial displacements: x = q + D1 Psi1 + D2 Psi2. */
typedef struct d3m_pm_growth {
    double E;       /* H(a) / H0 */
    double D1;      /* first-order growth factor */
    double D2;      /* second-order growth factor (-3/7 D1^2 in matter domination) */
    double f1;      /* d ln D1 / d ln a */
    double f2;      /* d ln D2 / d ln a */
    double dD1da;   /* d D1 / d a */
} d3m_pm_growth;

/* The cosmology input of FastPM: Omega_m today and a function that fills
 * d3m_pm_growth at a (returns D3M_OK or a failure set with d3m_fail).
 * The kick uses d/da (a^3 E dD1/da) = 1.5 omega_m D1 / (a^2 E), which holds
 * when D1 solves the linear growth equation with the same E and omega_m. */
typedef struct d3m_pm_background {
    double omega_m;
    int (*growth)(const void *context, double a, d3m_pm_growth *out);
    const void *context;
} d3m_pm_background;

struct d3m_cosmology;

/* The background of a d3m_cosmology (src/cosmo/cosmology.h): Omega_m and
 * its E, D1, D2, f1, f2 and dD1/da. The cosmology must outlive the run. */
d3m_pm_background d3m_pm_background_of(const struct d3m_cosmology *c);

/* Called after each step (1-based) with the scale factors it spans and the
 * wall time it took in seconds. */
typedef void (*d3m_fastpm_progress)(void *context, int step, int nsteps, double a_from,
                                    double a_to, double seconds);

/* A replacement for the PM force: fill accel [3, n, n, n] with -grad phi
 * (laplacian(phi) = delta, as d3m_pm_gravity) at the particles
 * x = q + psi, psi [3, n, n, n] unwrapped, at scale factor a. */
typedef int (*d3m_fastpm_force)(void *context, const d3m_tensor *psi, double box, double a,
                                d3m_tensor *accel);

typedef struct d3m_fastpm_options {
    const double *steps;   /* increasing scale factors; the run starts at steps[0] and
                              ends at steps[nsteps_a - 1]. NULL: 10 from 0.1 to 1 */
    int nsteps_a;          /* number of scale factors in steps, at least 2 */
    int boost;             /* force mesh of boost * n cells per side, default 2 */
    d3m_pm_gradient gradient;   /* default D3M_PM_GRADIENT_FOUR_POINT */
    double mesh_shift;     /* force mesh offset in cells (d3m_pm_gravity_shifted), default 0.5 */
    d3m_fastpm_force force;     /* NULL (default): the PM force; else used instead */
    void *force_context;
    d3m_fastpm_progress progress;   /* may be NULL */
    void *progress_context;
} d3m_fastpm_options;

/* Defaults: steps linspace(0.1, 1, 10), boost 2, the four-point gradient,
 * mesh shift 0.5, the PM force and no progress report.
 *
 * The defaults were chosen on a Zel'dovich pancake (one plane wave, 32^3
 * particles, 128 Mpc/h, the default 10 scale factors or 9 steps,
 * Einstein-de Sitter, shell crossing at a = 1.5), whose exact solution is
 * the Zel'dovich one. Maximum error of
 * the displacement at a = 1 relative to its amplitude:
 *   boost 2, four-point gradient, shift 0.5: 0.005 (0.0006 for a wave of
 *     1/100 of that amplitude);
 *   boost 2, exact gradient, shift 0.5: 0.07;
 *   boost 2, exact gradient, shift 0: 0.21;
 *   boost 1, either gradient, shift 0.5: 0.03.
 * The exact gradient passes the aliased images of the lattice's density
 * modes near the Nyquist frequency, which the four-point kernel damps. */
void d3m_fastpm_default_options(d3m_fastpm_options *options);

/*
 * Run FastPM from second-order LPT initial conditions and return the final
 * displacement Psi = x - q, wrapped into [-box/2, box/2), and optionally the
 * momentum p = a^3 E dx/da (both [3, n, n, n], Mpc/h, component d along
 * axis d).
 *
 * psi1, psi2: [3, n, n, n] LPT displacements at unit growth (psi2 may be
 * NULL: Zel'dovich start). At a0 = steps[0] the particles start at
 * x = q + D1 psi1 + D2 psi2 with p = a0^2 E (D1 f1 psi1 + D2 f2 psi2).
 * Each step ai -> af is kick-drift-kick with the half step at
 * ah = sqrt(ai af) and the modified factors of Feng et al. (2016), which
 * make the growth of linear displacements exact for any step size:
 *   kick (p from a to b, force at c):
 *     p += -1.5 Omega_m / (c^2 E(c)) [G(b) - G(a)] / G'(c) grad phi(c),
 *     G = a^3 E dD1/da;
 *   drift (x from a to b, momentum at c):
 *     x += p [D1(b) - D1(a)] / (c^3 E(c) dD1/da(c)).
 * The force at each step is d3m_pm_gravity on a mesh of boost * n cells.
 * With the environment variable D3M_CHECK_FINITE set (not "0"), every
 * stage checks its output for NaN and Inf and fails with D3M_ERR_VALUE.
 */
int d3m_fastpm_run(const d3m_pm_background *background, const d3m_tensor *psi1,
                   const d3m_tensor *psi2, double box, const d3m_fastpm_options *options,
                   d3m_tensor *displacement, d3m_tensor *momentum);

#ifdef __cplusplus
}
#endif
#endif
