/* fastpm.c - FastPM kick-drift-kick time stepping (Feng et al. 2016,
 * arXiv:1603.00476) on the particle lattice, from 2LPT initial
 * conditions. The state is the unwrapped displacement Psi = x - q rather
 * than x, so float rounding stays relative to the displacement and not to
 * the box side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pm/pm.h"
#include "pm/pm_internal.h"
#include "runtime/runtime.h"

#define DEFAULT_STEPS 10
#define MAX_STEPS 100000

typedef struct fastpm_state {
    const d3m_pm_background *background;
    const d3m_fastpm_options *options;
    double box;
    size_t mesh_n;
    d3m_tensor *psi;     /* unwrapped displacement [3, n, n, n] */
    d3m_tensor *p;       /* momentum a^3 E dx/da [3, n, n, n] */
    d3m_tensor *accel;   /* -grad phi at the particles [3, n, n, n] */
    d3m_pm_force force;  /* mesh buffers, reused by every step */
    int check_finite;
} fastpm_state;


void d3m_fastpm_default_options(d3m_fastpm_options *options)
{
    memset(options, 0, sizeof *options);
    options->steps = NULL;
    options->nsteps_a = 0;
    options->boost = 2;
    options->gradient = D3M_PM_GRADIENT_FOUR_POINT;
    options->mesh_shift = 0.5;
}


static int growth_at(const fastpm_state *s, double a, d3m_pm_growth *g)
{
    D3M_TRY(s->background->growth(s->background->context, a, g));
    if (!(g->E > 0.0) || !isfinite(g->D1) || !isfinite(g->D2) || !isfinite(g->f1) ||
        !isfinite(g->f2) || !(g->dD1da > 0.0) || !isfinite(g->E) || !isfinite(g->dD1da))
        return d3m_fail(D3M_ERR_VALUE, "fastpm: the background at a = %g gave E = %g, D1 = %g, "
                        "D2 = %g, f1 = %g, f2 = %g, dD1/da = %g; E and dD1/da must be positive "
                        "and all values finite", a, g->E, g->D1, g->D2, g->f1, g->f2, g->dD1da);
    return D3M_OK;
}


/* G(a) = a^3 E(a) dD1/da, the time variable of the FastPM kick. */
static double kick_growth(double a, const d3m_pm_growth *g)
{
    return a * a * a * g->E * g->dD1da;
}


static int check_finite(const fastpm_state *s, const d3m_tensor *t, const char *what, double a)
{
    if (!s->check_finite)
        return D3M_OK;
    int bad = 0;
    D3M_TRY(d3m_tensor_has_nonfinite(t, &bad));
    if (bad)
        return d3m_fail(D3M_ERR_VALUE, "fastpm: the %s at a = %g contains NaN or Inf", what, a);
    return D3M_OK;
}


static int compute_force(fastpm_state *s, double a)
{
    const d3m_fastpm_options *o = s->options;
    if (o->force != NULL)
        D3M_TRY(o->force(o->force_context, s->psi, s->box, a, s->accel));
    else
        D3M_TRY(d3m_pm_force_compute(&s->force, s->psi, D3M_PM_DISPLACEMENTS, o->mesh_shift,
                                     s->accel));
    return check_finite(s, s->accel, "acceleration", a);
}


/* p from a_from to a_to with the force computed at a_force. With
 * G' = d/da (a^3 E dD1/da) = 1.5 Omega_m D1 / (a^2 E) (the linear growth
 * equation), linear momenta grow exactly as a^3 E dD1/da. */
static int kick(fastpm_state *s, double a_from, double a_to, double a_force)
{
    d3m_pm_growth gi, gf, gc;
    D3M_TRY(growth_at(s, a_from, &gi));
    D3M_TRY(growth_at(s, a_to, &gf));
    D3M_TRY(growth_at(s, a_force, &gc));
    double omega_m = s->background->omega_m;
    double g_prime = 1.5 * omega_m * gc.D1 / (a_force * a_force * gc.E);
    double factor = 1.5 * omega_m / (a_force * a_force * gc.E) *
                    (kick_growth(a_to, &gf) - kick_growth(a_from, &gi)) / g_prime;
    /* accel is -grad phi, so the minus sign of the kick is already in it. */
    D3M_TRY(d3m_tensor_axpy(s->p, (float)factor, s->accel));
    return check_finite(s, s->p, "momentum", a_to);
}


/* x from a_from to a_to with the momentum taken at a_momentum. */
static int drift(fastpm_state *s, double a_from, double a_to, double a_momentum)
{
    d3m_pm_growth gi, gf, gc;
    D3M_TRY(growth_at(s, a_from, &gi));
    D3M_TRY(growth_at(s, a_to, &gf));
    D3M_TRY(growth_at(s, a_momentum, &gc));
    double c3 = a_momentum * a_momentum * a_momentum;
    double factor = (gf.D1 - gi.D1) / (c3 * gc.E * gc.dD1da);
    D3M_TRY(d3m_tensor_axpy(s->psi, (float)factor, s->p));
    return check_finite(s, s->psi, "displacement", a_to);
}


/* x = q + D1 psi1 + D2 psi2 and p = a^2 E (D1 f1 psi1 + D2 f2 psi2) at a. */
static int initial_state(fastpm_state *s, const d3m_tensor *psi1, const d3m_tensor *psi2, double a)
{
    d3m_pm_growth g;
    D3M_TRY(growth_at(s, a, &g));
    double velocity_scale = a * a * g.E;
    D3M_TRY(d3m_tensor_scale(s->psi, psi1, (float)g.D1));
    D3M_TRY(d3m_tensor_scale(s->p, psi1, (float)(velocity_scale * g.D1 * g.f1)));
    if (psi2 != NULL) {
        D3M_TRY(d3m_tensor_axpy(s->psi, (float)g.D2, psi2));
        D3M_TRY(d3m_tensor_axpy(s->p, (float)(velocity_scale * g.D2 * g.f2), psi2));
    }
    D3M_TRY(check_finite(s, s->psi, "initial displacement", a));
    return check_finite(s, s->p, "initial momentum", a);
}


static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


static int run_steps(fastpm_state *s, const double *steps, int count)
{
    D3M_TRY(compute_force(s, steps[0]));
    for (int i = 0; i + 1 < count; i++) {
        double start = seconds_now();
        double ai = steps[i], af = steps[i + 1], ah = sqrt(ai * af);
        D3M_TRY(kick(s, ai, ah, ai));
        D3M_TRY(drift(s, ai, af, ah));
        D3M_TRY(compute_force(s, af));
        D3M_TRY(kick(s, ah, af, af));
        if (s->options->progress != NULL) {
            D3M_TRY(d3m_finish());
            s->options->progress(s->options->progress_context, i + 1, count - 1, ai, af,
                                 seconds_now() - start);
        }
    }
    return D3M_OK;
}


static int check_steps(const double *steps, int count)
{
    if (count < 2 || count > MAX_STEPS)
        return d3m_fail(D3M_ERR_ARG, "fastpm: %d scale factors given; give 2 to %d increasing "
                        "scale factors (the first is the start, the last the end)", count,
                        MAX_STEPS);
    for (int i = 0; i < count; i++) {
        if (!(steps[i] > 0.0) || !isfinite(steps[i]))
            return d3m_fail(D3M_ERR_ARG, "fastpm: scale factor %d is %g; scale factors must be "
                            "positive and finite", i + 1, steps[i]);
        if (i > 0 && !(steps[i] > steps[i - 1]))
            return d3m_fail(D3M_ERR_ARG, "fastpm: scale factor %d (%g) does not exceed the one "
                            "before (%g); steps must increase strictly", i + 1, steps[i],
                            steps[i - 1]);
    }
    return D3M_OK;
}


static int check_arguments(const d3m_pm_background *background, const d3m_tensor *psi1,
                           const d3m_tensor *psi2, double box, const d3m_fastpm_options *options,
                           const d3m_tensor *displacement, const d3m_tensor *momentum)
{
    if (background == NULL || background->growth == NULL)
        return d3m_fail(D3M_ERR_ARG, "fastpm: no background growth function given");
    if (!(background->omega_m > 0.0) || !isfinite(background->omega_m))
        return d3m_fail(D3M_ERR_ARG, "fastpm: Omega_m = %g is invalid; it must be positive",
                        background->omega_m);
    if (!(box > 0.0) || !isfinite(box))
        return d3m_fail(D3M_ERR_ARG, "fastpm: box = %g Mpc/h is invalid; the box side must be "
                        "positive and finite", box);
    if (options->boost < 1 || options->boost > 16)
        return d3m_fail(D3M_ERR_ARG, "fastpm: boost = %d is out of range; the force mesh has "
                        "boost * n cells per side with boost 1 to 16", options->boost);
    if (options->gradient != D3M_PM_GRADIENT_EXACT &&
        options->gradient != D3M_PM_GRADIENT_FOUR_POINT)
        return d3m_fail(D3M_ERR_ARG, "fastpm: gradient %d is neither D3M_PM_GRADIENT_EXACT (0) "
                        "nor D3M_PM_GRADIENT_FOUR_POINT (1)", (int)options->gradient);
    if (!isfinite(options->mesh_shift))
        return d3m_fail(D3M_ERR_ARG, "fastpm: mesh_shift = %g is not finite; use 0.5 (cell "
                        "centres) or 0", options->mesh_shift);

    size_t n = psi1->ndim == 4 ? psi1->shape[1] : 0;
    size_t shape[4] = {3, n, n, n};
    if (n == 0) {
        char text[128];
        d3m_format_shape(text, sizeof text, psi1->ndim, psi1->shape);
        return d3m_fail(D3M_ERR_SHAPE, "fastpm psi1: expected [3, n, n, n], got %s", text);
    }
    D3M_TRY(d3m_check_shape(psi1, "fastpm psi1", 4, shape));
    if (psi2 != NULL)
        D3M_TRY(d3m_check_shape(psi2, "fastpm psi2", 4, shape));
    D3M_TRY(d3m_check_shape(displacement, "fastpm displacement output", 4, shape));
    if (momentum != NULL)
        D3M_TRY(d3m_check_shape(momentum, "fastpm momentum output", 4, shape));
    return D3M_OK;
}


int d3m_fastpm_run(const d3m_pm_background *background, const d3m_tensor *psi1,
                   const d3m_tensor *psi2, double box, const d3m_fastpm_options *options,
                   d3m_tensor *displacement, d3m_tensor *momentum)
{
    d3m_fastpm_options defaults;
    if (options == NULL) {
        d3m_fastpm_default_options(&defaults);
        options = &defaults;
    }
    D3M_TRY(check_arguments(background, psi1, psi2, box, options, displacement, momentum));

    double default_steps[DEFAULT_STEPS];
    const double *steps = options->steps;
    int count = options->nsteps_a;
    if (steps == NULL) {
        for (int i = 0; i < DEFAULT_STEPS - 1; i++)
            default_steps[i] = 0.1 + 0.9 * i / (DEFAULT_STEPS - 1);
        default_steps[DEFAULT_STEPS - 1] = 1.0;   /* exactly, not a rounded sum */
        steps = default_steps;
        count = DEFAULT_STEPS;
    }
    D3M_TRY(check_steps(steps, count));

    const char *env = getenv("D3M_CHECK_FINITE");
    fastpm_state s = {
        .background = background,
        .options = options,
        .box = box,
        .mesh_n = (size_t)options->boost * psi1->shape[1],
        .check_finite = env != NULL && env[0] != '\0' && strcmp(env, "0") != 0,
    };

    int status = d3m_tensor_new(psi1->ndim, psi1->shape, &s.psi);
    if (status == D3M_OK)
        status = d3m_tensor_new(psi1->ndim, psi1->shape, &s.p);
    if (status == D3M_OK)
        status = d3m_tensor_new(psi1->ndim, psi1->shape, &s.accel);
    if (status == D3M_OK && options->force == NULL)
        status = d3m_pm_force_init(&s.force, s.mesh_n, box, options->gradient);
    if (status == D3M_OK)
        status = initial_state(&s, psi1, psi2, steps[0]);
    if (status == D3M_OK)
        status = run_steps(&s, steps, count);
    if (status == D3M_OK)
        status = d3m_pm_lattice_displacement(s.psi, D3M_PM_DISPLACEMENTS, box, displacement);
    if (status == D3M_OK && momentum != NULL)
        status = d3m_tensor_copy(momentum, s.p);
    d3m_tensor_free(s.psi);
    d3m_tensor_free(s.p);
    d3m_tensor_free(s.accel);
    d3m_pm_force_clear(&s.force);
    return status;
}
