/* test_pm_fastpm_cosmo.c - FastPM with a Lambda-CDM background from
 * src/cosmo: the kick's identity d/da (a^3 E dD1/da) = 1.5 Omega_m D1 /
 * (a^2 E) against a numerical derivative, and a Zel'dovich pancake with the
 * exact sheet force, which FastPM must reproduce for any Omega_m and step
 * count because D1 solves the same growth equation. */
#include <string.h>

#include "cosmo/cosmology.h"
#include "pm_testing.h"

#define N 16
#define BOX 100.0


static double kick_growth(const d3m_cosmology *c, double a)
{
    return a * a * a * d3m_cosmo_E(c, a) * d3m_cosmo_dD1da(c, a);
}


static void test_kick_identity(const d3m_cosmology *c)
{
    double worst = 0.0;
    for (double a = 0.05; a <= 1.0001; a += 0.05) {
        double h = 1e-4 * a;
        double numeric = (kick_growth(c, a + h) - kick_growth(c, a - h)) / (2.0 * h);
        double identity = 1.5 * c->omega_m * d3m_cosmo_D1(c, a) / (a * a * d3m_cosmo_E(c, a));
        worst = fmax(worst, fabs(numeric / identity - 1.0));
    }
    /* The growth table is interpolated in ln a, and a central difference
     * of step 1e-4 a resolves it to a few 1e-6 (measured 3.7e-6). */
    CHECK(worst <= 3e-5, "Omega_m = %g: G'(a) and 1.5 Omega_m D1 / (a^2 E) differ by %.3g",
          c->omega_m, worst);
}


static int sheet_force(void *context, const d3m_tensor *psi, double box, double a,
                       d3m_tensor *accel)
{
    (void)context;
    (void)box;
    (void)a;
    return d3m_tensor_copy(accel, psi);
}


static void test_pancake(const d3m_cosmology *c, int nsteps_a)
{
    size_t np = (size_t)N * N * N, shape[4] = {3, N, N, N};
    float *psi1 = calloc(3 * np, sizeof *psi1);
    const double k = 2.0 * M_PI / BOX, amplitude = 0.5 / k;   /* crossing at D1 = 2 */
    for (size_t p = 0; p < np; p++)
        psi1[2 * np + p] = (float)(amplitude * sin(k * (double)(p % N) * BOX / N));
    d3m_tensor *psi1_t = tensor_from(4, shape, psi1);
    d3m_tensor *out = new_tensor(4, shape), *momentum = new_tensor(4, shape);

    double steps[16];
    for (int i = 0; i < nsteps_a; i++)
        steps[i] = 0.1 + 0.9 * i / (nsteps_a - 1);
    steps[nsteps_a - 1] = 1.0;
    d3m_fastpm_options options;
    d3m_fastpm_default_options(&options);
    options.steps = steps;
    options.nsteps_a = nsteps_a;
    options.force = sheet_force;
    d3m_pm_background background = d3m_pm_background_of(c);
    REQUIRE_OK(d3m_fastpm_run(&background, psi1_t, NULL, BOX, &options, out, momentum));

    /* At a = 1: D1 = 1, and p = a^2 E D1 f1 psi1 = f1(1) psi1. */
    float *got = tensor_to_host(out), *p = tensor_to_host(momentum);
    double f1 = d3m_cosmo_f1(c, 1.0), worst = 0.0, worst_p = 0.0;
    for (size_t i = 0; i < 3 * np; i++) {
        worst = fmax(worst, fabs(got[i] - psi1[i]));
        worst_p = fmax(worst_p, fabs(p[i] - f1 * psi1[i]));
    }
    /* Only float rounding remains (measured 1.2e-7 of the amplitude): the
     * factors use D1, dD1/da and E of one table, consistently. */
    CHECK(worst <= 1e-6 * amplitude, "Omega_m = %g, %d scale factors: displacement differs "
          "from D1 psi1 by %.3g of the amplitude", c->omega_m, nsteps_a, worst / amplitude);
    CHECK(worst_p <= 1e-6 * amplitude, "Omega_m = %g, %d scale factors: momentum differs from "
          "f1 psi1 by %.3g of the amplitude", c->omega_m, nsteps_a, worst_p / amplitude);

    free(psi1);
    free(got);
    free(p);
    d3m_tensor_free(psi1_t);
    d3m_tensor_free(out);
    d3m_tensor_free(momentum);
}


int main(void)
{
    REQUIRE_OK(d3m_use_device(NULL));
    const double omegas[3] = {0.1, 0.3089, 0.5};
    for (int i = 0; i < 3; i++) {
        d3m_cosmology c;
        REQUIRE_OK(d3m_cosmology_init(&c, omegas[i], 0.1573 * omegas[i], 0.6774, 0.9667,
                                      2.142e-9, 0.0));
        test_kick_identity(&c);
        test_pancake(&c, 2);
        test_pancake(&c, 10);
        d3m_cosmology_clear(&c);
    }
    if (failures == 0)
        printf("test_pm_fastpm_cosmo: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
