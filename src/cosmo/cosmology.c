/* cosmology.c - parameters, background expansion and the growth table:
 * the first- and second-order growth ODEs integrated in ln a by RK4 and
 * read back by cubic Hermite interpolation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosmo/cosmo_private.h"
#include "cosmo/cosmology.h"
#include "runtime/runtime.h"

/* The growth ODE starts here, far enough back that curvature corrections to
 * the matter-dominated start (relative O(Omega_k/Omega_m a)) are ~1e-8. */
#define GROWTH_A_START 1e-8

/* RK4 steps per table interval: steps of about 0.002 in ln a give a
 * global error well below 1e-10. */
#define GROWTH_SUBSTEPS 16


static double nan_with(const char *message, double a)
{
    d3m_fail(D3M_ERR_VALUE, "%s: a = %g is outside 0 < a <= %g", message, a, D3M_COSMO_A_MAX);
    return NAN;
}


static double e_squared(const d3m_cosmology *c, double a)
{
    return c->omega_m / (a * a * a) + c->omega_k / (a * a) + c->omega_lambda;
}


double d3m_cosmo_E(const d3m_cosmology *c, double a)
{
    if (!(a > 0.0))
        return nan_with("E(a) is defined for a > 0", a);
    return sqrt(e_squared(c, a));
}


double d3m_cosmo_omega_m_a(const d3m_cosmology *c, double a)
{
    if (!(a > 0.0))
        return nan_with("Omega_m(a) is defined for a > 0", a);
    return c->omega_m / (a * a * a * e_squared(c, a));
}


/* dlnE/dlna. */
static double dlne_dlna(const d3m_cosmology *c, double a)
{
    double a3 = a * a * a;
    return -(3.0 * c->omega_m / a3 + 2.0 * c->omega_k / (a * a)) / (2.0 * e_squared(c, a));
}


/* Right-hand side of the growth system in x = ln a for the state
 * y = (D1, D1', D2, D2'), ' = d/dx:
 *   D1'' = -(2 + dlnE/dlna) D1' + 1.5 Omega_m(a) D1
 *   D2'' = -(2 + dlnE/dlna) D2' + 1.5 Omega_m(a) (D2 - D1^2). */
static void growth_rhs(const d3m_cosmology *c, double x, const double *y, double *dy)
{
    double a = exp(x);
    double friction = 2.0 + dlne_dlna(c, a);
    double source = 1.5 * c->omega_m / (a * a * a * e_squared(c, a));

    dy[0] = y[1];
    dy[1] = -friction * y[1] + source * y[0];
    dy[2] = y[3];
    dy[3] = -friction * y[3] + source * (y[2] - y[0] * y[0]);
}


static void rk4_step(const d3m_cosmology *c, double x, double step, double *y)
{
    double k1[4], k2[4], k3[4], k4[4], tmp[4];

    growth_rhs(c, x, y, k1);
    for (int i = 0; i < 4; i++)
        tmp[i] = y[i] + 0.5 * step * k1[i];
    growth_rhs(c, x + 0.5 * step, tmp, k2);
    for (int i = 0; i < 4; i++)
        tmp[i] = y[i] + 0.5 * step * k2[i];
    growth_rhs(c, x + 0.5 * step, tmp, k3);
    for (int i = 0; i < 4; i++)
        tmp[i] = y[i] + step * k3[i];
    growth_rhs(c, x + step, tmp, k4);
    for (int i = 0; i < 4; i++)
        y[i] += step / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
}


/* Integrate from GROWTH_A_START, where D1 = a and D2 = -3/7 a^2, and store
 * the state at every table node. */
static int tabulate_growth(d3m_cosmology *c)
{
    for (int i = 0; i < 200; i++) {
        double a = D3M_COSMO_A_MIN * pow(D3M_COSMO_A_MAX / D3M_COSMO_A_MIN, i / 199.0);
        if (!(e_squared(c, a) > 0.0))
            return d3m_fail(D3M_ERR_ARG, "E^2(a) = %g <= 0 at a = %g for Omega_m = %g, "
                            "Omega_k = %g: the universe recollapses; use a smaller |Omega_k|",
                            e_squared(c, a), a, c->omega_m, c->omega_k);
    }

    double x_min = log(D3M_COSMO_A_MIN);
    double x_max = log(D3M_COSMO_A_MAX);
    c->growth_step = (x_max - x_min) / (D3M_COSMO_GROWTH_NODES - 1);

    double a0 = GROWTH_A_START;
    double y[4] = {a0, a0, -3.0 / 7.0 * a0 * a0, -6.0 / 7.0 * a0 * a0};
    double x = log(a0);
    int lead_steps = (int)ceil((x_min - x) / (c->growth_step / GROWTH_SUBSTEPS));
    double lead = (x_min - x) / lead_steps;
    for (int s = 0; s < lead_steps; s++, x += lead)
        rk4_step(c, x, lead, y);

    double step = c->growth_step / GROWTH_SUBSTEPS;
    for (int node = 0; node < D3M_COSMO_GROWTH_NODES; node++) {
        memcpy(c->growth[node], y, sizeof y);
        if (node == D3M_COSMO_GROWTH_NODES - 1)
            break;
        double x_node = x_min + node * c->growth_step;
        for (int s = 0; s < GROWTH_SUBSTEPS; s++)
            rk4_step(c, x_node + s * step, step, y);
    }

    double today[4];
    D3M_TRY(d3m_cosmo_growth_state(c, 1.0, today));
    c->growth_d1_today = today[0];
    return D3M_OK;
}


/* Cubic Hermite interpolation on [0, 1] of values v0, v1 with slopes
 * s0, s1 (already multiplied by the interval length). */
static double hermite(double t, double v0, double v1, double s0, double s1)
{
    double t2 = t * t, t3 = t2 * t;
    return (2 * t3 - 3 * t2 + 1) * v0 + (t3 - 2 * t2 + t) * s0 + (-2 * t3 + 3 * t2) * v1 +
           (t3 - t2) * s1;
}


int d3m_cosmo_growth_state(const d3m_cosmology *c, double a, double *state)
{
    if (!(a > 0.0) || a > D3M_COSMO_A_MAX)
        return d3m_fail(D3M_ERR_VALUE, "growth requested at a = %g, outside 0 < a <= %g", a,
                        D3M_COSMO_A_MAX);

    /* Below the table, D1 grows as a and D2 as a^2 (matter domination). */
    if (a < D3M_COSMO_A_MIN) {
        double r = a / D3M_COSMO_A_MIN;
        state[0] = c->growth[0][0] * r;
        state[1] = state[0];
        state[2] = c->growth[0][2] * r * r;
        state[3] = 2.0 * state[2];
        return D3M_OK;
    }

    double u = (log(a) - log(D3M_COSMO_A_MIN)) / c->growth_step;
    int i = (int)floor(u);
    if (i >= D3M_COSMO_GROWTH_NODES - 1)
        i = D3M_COSMO_GROWTH_NODES - 2;
    if (i < 0)
        i = 0;
    double t = u - i;

    /* Slopes of all four components come from the ODE at the two nodes. */
    double x0 = log(D3M_COSMO_A_MIN) + i * c->growth_step;
    double d0[4], d1[4];
    growth_rhs(c, x0, c->growth[i], d0);
    growth_rhs(c, x0 + c->growth_step, c->growth[i + 1], d1);
    for (int j = 0; j < 4; j++)
        state[j] = hermite(t, c->growth[i][j], c->growth[i + 1][j], d0[j] * c->growth_step,
                           d1[j] * c->growth_step);
    return D3M_OK;
}


double d3m_cosmo_D1(const d3m_cosmology *c, double a)
{
    double s[4];
    if (d3m_cosmo_growth_state(c, a, s) != D3M_OK)
        return NAN;
    return s[0] / c->growth_d1_today;
}


double d3m_cosmo_D2(const d3m_cosmology *c, double a)
{
    double s[4];
    if (d3m_cosmo_growth_state(c, a, s) != D3M_OK)
        return NAN;
    return s[2] / (c->growth_d1_today * c->growth_d1_today);
}


double d3m_cosmo_f1(const d3m_cosmology *c, double a)
{
    double s[4];
    if (d3m_cosmo_growth_state(c, a, s) != D3M_OK)
        return NAN;
    return s[1] / s[0];
}


double d3m_cosmo_f2(const d3m_cosmology *c, double a)
{
    double s[4];
    if (d3m_cosmo_growth_state(c, a, s) != D3M_OK)
        return NAN;
    return s[3] / s[2];
}


double d3m_cosmo_dD1da(const d3m_cosmology *c, double a)
{
    double s[4];
    if (d3m_cosmo_growth_state(c, a, s) != D3M_OK)
        return NAN;
    return s[1] / (a * c->growth_d1_today);
}


/* d^2D/da^2 = (D_xx - D_x) / a^2 with x = ln a. */
double d3m_cosmo_d2D1da2(const d3m_cosmology *c, double a)
{
    double s[4], ds[4];
    if (d3m_cosmo_growth_state(c, a, s) != D3M_OK)
        return NAN;
    growth_rhs(c, log(a), s, ds);
    return (ds[1] - s[1]) / (a * a * c->growth_d1_today);
}


/* ---- parameters -------------------------------------------------------------- */

static int check_parameters(double omega_m, double omega_b, double h, double n_s, double A_s,
                            double sigma8)
{
    if (!(omega_m > 0.0 && omega_m <= 1.0))
        return d3m_fail(D3M_ERR_ARG, "invalid Omega_m = %g: expected 0 < Omega_m <= 1", omega_m);
    if (!(omega_b > 0.0 && omega_b < omega_m))
        return d3m_fail(D3M_ERR_ARG, "invalid Omega_b = %g: expected 0 < Omega_b < Omega_m = %g",
                        omega_b, omega_m);
    if (!(h > 0.0 && h < 10.0))
        return d3m_fail(D3M_ERR_ARG, "invalid h = %g: expected 0 < h < 10 (H0 in units of "
                        "100 km/s/Mpc)", h);
    if (!(n_s > 0.0 && n_s < 2.0))
        return d3m_fail(D3M_ERR_ARG, "invalid n_s = %g: expected 0 < n_s < 2", n_s);
    if (!(A_s >= 0.0) || !isfinite(A_s))
        return d3m_fail(D3M_ERR_ARG, "invalid A_s = %g: expected A_s > 0, or A_s = 0 with "
                        "sigma8 > 0", A_s);
    if (!(sigma8 >= 0.0) || !isfinite(sigma8))
        return d3m_fail(D3M_ERR_ARG, "invalid sigma8 = %g: expected sigma8 > 0, or sigma8 = 0 "
                        "with A_s > 0", sigma8);
    if (A_s > 0.0 && sigma8 > 0.0)
        return d3m_fail(D3M_ERR_ARG, "both A_s = %g and sigma8 = %g given: set exactly one of "
                        "them to normalise P(k) and the other to 0", A_s, sigma8);
    if (A_s == 0.0 && sigma8 == 0.0)
        return d3m_fail(D3M_ERR_ARG, "invalid A_s = 0 and sigma8 = 0: give A_s > 0 or "
                        "sigma8 > 0 to normalise P(k)");
    return D3M_OK;
}


int d3m_cosmology_init(d3m_cosmology *c, double omega_m, double omega_b, double h, double n_s,
                       double A_s, double sigma8)
{
    memset(c, 0, sizeof *c);
    D3M_TRY(check_parameters(omega_m, omega_b, h, n_s, A_s, sigma8));

    c->omega_m = omega_m;
    c->omega_b = omega_b;
    c->omega_k = 0.0;
    c->omega_lambda = 1.0 - omega_m;
    c->h = h;
    c->n_s = n_s;
    c->A_s = A_s;
    c->sigma8 = sigma8;
    c->normalise_by_sigma8 = sigma8 > 0.0;
    c->power_kind = D3M_POWER_EH98;
    d3m_cosmo_eh98_setup(c);

    int status = tabulate_growth(c);
    if (status == D3M_OK)
        status = d3m_cosmo_normalise_power(c);
    if (status != D3M_OK)
        memset(c, 0, sizeof *c);
    return status;
}


void d3m_cosmology_clear(d3m_cosmology *c)
{
    free(c->table_ln_k);
    free(c->table_ln_p);
    memset(c, 0, sizeof *c);
}


int d3m_cosmology_set_curvature(d3m_cosmology *c, double omega_k)
{
    if (!(fabs(omega_k) < 1.0) || !(c->omega_m + omega_k <= 1.0))
        return d3m_fail(D3M_ERR_ARG, "invalid Omega_k = %g: expected |Omega_k| < 1 and "
                        "Omega_m + Omega_k <= 1 (Omega_m = %g)", omega_k, c->omega_m);
    double old = c->omega_k;
    c->omega_k = omega_k;
    c->omega_lambda = 1.0 - c->omega_m - omega_k;

    int status = tabulate_growth(c);
    if (status == D3M_OK)
        status = d3m_cosmo_normalise_power(c);
    if (status != D3M_OK) {
        /* Restore the previous, valid state and keep the first message. */
        char message[512];
        snprintf(message, sizeof message, "%s", d3m_last_error());
        c->omega_k = old;
        c->omega_lambda = 1.0 - c->omega_m - old;
        tabulate_growth(c);
        d3m_cosmo_normalise_power(c);
        return d3m_fail(status, "%s", message);
    }
    return D3M_OK;
}


int d3m_cosmo_check_eh99_range(d3m_power_kind kind, double m_nu, double f_nu, double omega_m)
{
    if (kind == D3M_POWER_TABLE || !(f_nu > D3M_COSMO_F_NU_MAX))
        return D3M_OK;
    return d3m_fail(D3M_ERR_ARG, "m_nu = %g eV makes Omega_nu %.3g of Omega_m = %g; the Eisenstein "
                    "& Hu (1999) suppression holds up to %g: use a smaller m_nu, or a power table "
                    "from a Boltzmann code run with these masses", m_nu, f_nu, omega_m,
                    D3M_COSMO_F_NU_MAX);
}


int d3m_cosmology_set_neutrinos(d3m_cosmology *c, double m_nu, int n_nu)
{
    if (!(m_nu >= 0.0) || !isfinite(m_nu))
        return d3m_fail(D3M_ERR_ARG, "invalid m_nu = %g: expected the sum of the neutrino masses "
                        "in eV, >= 0", m_nu);
    if (m_nu > 0.0 && (n_nu < 1 || n_nu > 3))
        return d3m_fail(D3M_ERR_ARG, "invalid N_nu = %d: expected 1, 2 or 3 massive species "
                        "sharing m_nu = %g eV", n_nu, m_nu);

    double omega_nu = m_nu / (D3M_COSMO_NU_EV_PER_OMEGA_HH * c->h * c->h);
    double f_nu = omega_nu / c->omega_m;
    if (!(omega_nu < c->omega_m - c->omega_b))
        return d3m_fail(D3M_ERR_ARG, "m_nu = %g eV gives Omega_nu = %g, but Omega_m = %g includes "
                        "the neutrinos and leaves only Omega_m - Omega_b = %g beside the baryons; "
                        "raise Omega_m, lower Omega_b or use a smaller m_nu", m_nu, omega_nu,
                        c->omega_m, c->omega_m - c->omega_b);
    D3M_TRY(d3m_cosmo_check_eh99_range(c->power_kind, m_nu, f_nu, c->omega_m));
    double old_m_nu = c->m_nu, old_f_nu = c->f_nu;
    int old_n_nu = c->n_nu;
    d3m_eh99 old_nu = c->eh_nu, old_massless = c->eh_massless;
    c->m_nu = m_nu;
    c->n_nu = m_nu > 0.0 ? n_nu : 0;
    c->f_nu = f_nu;
    d3m_cosmo_eh99_setup(c, f_nu, &c->eh_nu);
    d3m_cosmo_eh99_setup(c, 0.0, &c->eh_massless);

    int status = d3m_cosmo_normalise_power(c);
    if (status != D3M_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", d3m_last_error());
        c->m_nu = old_m_nu;
        c->n_nu = old_n_nu;
        c->f_nu = old_f_nu;
        c->eh_nu = old_nu;
        c->eh_massless = old_massless;
        d3m_cosmo_normalise_power(c);
        return d3m_fail(status, "%s", message);
    }
    return D3M_OK;
}
