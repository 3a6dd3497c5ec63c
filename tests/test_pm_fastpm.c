/* test_pm_fastpm.c - FastPM stepping in an Einstein-de Sitter background.
 *
 * The Zel'dovich pancake (one plane wave) is the main check: in one
 * dimension the Zel'dovich approximation is exact until shell crossing and
 * the force on a sheet is g = x - q, so FastPM's kick and drift factors
 * must reproduce it for any number of steps. With that exact force the
 * integrator is tested to float precision; with the PM force the error
 * measures the mesh. Also: repeatability, momentum conservation, progress
 * reports and argument checks. */
#include <string.h>

#include "pm_testing.h"

static const double two_pi = 6.283185307179586;

#define N 32
#define BOX 128.0


/* Psi1 of a plane wave along the integer wavevector m: Psi1 = (A / |k|)
 * sin(k.q) k_hat, so 1 + delta = 1 / (1 - D1 A cos(k.q)) and shells cross
 * first at D1 = 1 / A. Returns the amplitude A / |k| in Mpc/h. */
static double pancake_field(const int m[3], double amplitude, float *psi)
{
    size_t np = (size_t)N * N * N;
    double k[3], kk = 0.0;
    for (int d = 0; d < 3; d++) {
        k[d] = two_pi * m[d] / BOX;
        kk += k[d] * k[d];
    }
    for (size_t p = 0; p < np; p++) {
        size_t index[3] = {p / ((size_t)N * N), (p / N) % N, p % N};
        double phase = 0.0;
        for (int d = 0; d < 3; d++)
            phase += k[d] * index[d] * BOX / N;
        for (int d = 0; d < 3; d++)
            psi[d * np + p] = (float)(amplitude * sin(phase) * k[d] / kk);
    }
    return amplitude / sqrt(kk);
}


/* A curl-free random displacement: the gradient of 24 plane waves of the
 * potential with |m_d| <= 4, scaled to an rms of `rms` Mpc/h per component. */
static void random_field(double rms, float *psi)
{
    size_t np = (size_t)N * N * N;
    memset(psi, 0, 3 * np * sizeof *psi);
    for (int wave = 0; wave < 24; wave++) {
        int m[3];
        do {
            for (int d = 0; d < 3; d++)
                m[d] = (int)floor(9.0 * rng_uniform()) - 4;
        } while (m[0] == 0 && m[1] == 0 && m[2] == 0);
        double phase0 = two_pi * rng_uniform(), kk = 0.0, k[3];
        for (int d = 0; d < 3; d++) {
            k[d] = two_pi * m[d] / BOX;
            kk += k[d] * k[d];
        }
        for (size_t p = 0; p < np; p++) {
            size_t index[3] = {p / ((size_t)N * N), (p / N) % N, p % N};
            double phase = phase0;
            for (int d = 0; d < 3; d++)
                phase += k[d] * index[d] * BOX / N;
            for (int d = 0; d < 3; d++)
                psi[d * np + p] += (float)(sin(phase) * k[d] / kk);
        }
    }
    double sum2 = 0.0;
    for (size_t i = 0; i < 3 * np; i++)
        sum2 += (double)psi[i] * psi[i];
    double factor = rms / sqrt(sum2 / (3.0 * np));
    for (size_t i = 0; i < 3 * np; i++)
        psi[i] = (float)(psi[i] * factor);
}


/* The exact force of a one-dimensional (plane-wave) configuration before
 * shell crossing: -grad phi = x - q = psi. */
static int sheet_force(void *context, const d3m_tensor *psi, double box, double a,
                       d3m_tensor *accel)
{
    (void)context;
    (void)box;
    (void)a;
    return d3m_tensor_copy(accel, psi);
}


typedef struct progress_log {
    int calls;
    int last_step, nsteps;
    double first_a, last_a;
} progress_log;

static void record_progress(void *context, int step, int nsteps, double a_from, double a_to,
                            double seconds)
{
    progress_log *log = context;
    if (log->calls == 0)
        log->first_a = a_from;
    log->calls++;
    log->last_step = step;
    log->nsteps = nsteps;
    log->last_a = a_to;
    (void)seconds;
}


typedef struct run_result {
    float *displacement, *momentum;
    progress_log log;
} run_result;

/* Run FastPM from psi1 (psi2 = 0) with nsteps_a scale factors from 0.1
 * to 1; options may adjust the defaults. */
static run_result run(const float *psi1, int nsteps_a, const d3m_fastpm_options *adjust)
{
    size_t shape[4] = {3, N, N, N};
    d3m_tensor *psi1_t = tensor_from(4, shape, psi1);
    d3m_tensor *psi2_t = new_tensor(4, shape);
    REQUIRE_OK(d3m_tensor_fill(psi2_t, 0.0f));
    d3m_tensor *displacement = new_tensor(4, shape), *momentum = new_tensor(4, shape);

    double steps[16];
    for (int i = 0; i < nsteps_a; i++)
        steps[i] = 0.1 + 0.9 * i / (nsteps_a - 1);
    d3m_fastpm_options options = *adjust;
    options.steps = steps;
    options.nsteps_a = nsteps_a;
    run_result result;
    memset(&result, 0, sizeof result);
    options.progress = record_progress;
    options.progress_context = &result.log;
    REQUIRE_OK(d3m_fastpm_run(&eds_background, psi1_t, psi2_t, BOX, &options, displacement,
                              momentum));

    result.displacement = tensor_to_host(displacement);
    result.momentum = tensor_to_host(momentum);
    d3m_tensor_free(psi1_t);
    d3m_tensor_free(psi2_t);
    d3m_tensor_free(displacement);
    d3m_tensor_free(momentum);
    return result;
}


/* Largest |a - b| over 3 N^3 values. */
static double max_difference(const float *a, const float *b)
{
    double worst = 0.0;
    for (size_t i = 0; i < 3 * (size_t)N * N * N; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    return worst;
}


/* EdS at a = 1: D1 = 1 and p = a^2 E D1 f1 psi1 = psi1, so both the
 * displacement and the momentum must equal psi1. */
static void check_pancake(const char *label, const int m[3], double amplitude, int nsteps_a,
                          const d3m_fastpm_options *options, double tolerance)
{
    float *psi1 = malloc(3 * (size_t)N * N * N * sizeof *psi1);
    double scale = pancake_field(m, amplitude, psi1);
    run_result r = run(psi1, nsteps_a, options);
    double error = max_difference(r.displacement, psi1) / scale;
    double error_p = max_difference(r.momentum, psi1) / scale;
    printf("%s, m = (%d %d %d), A = %g, %d scale factors: max |Psi - Psi_ZA| = %.3g, "
           "max |p - p_ZA| = %.3g of the amplitude %.3g Mpc/h\n", label, m[0], m[1], m[2],
           amplitude, nsteps_a, error, error_p, scale);
    CHECK(error <= tolerance, "%s, m = (%d %d %d), A = %g, %d scale factors: displacement "
          "differs from the Zel'dovich solution by %.3g of its amplitude (tolerance %g)", label,
          m[0], m[1], m[2], amplitude, nsteps_a, error, tolerance);
    /* The momentum carries the force error of the last half kick on top. */
    CHECK(error_p <= 2.5 * tolerance, "%s, m = (%d %d %d), A = %g, %d scale factors: momentum "
          "differs from the Zel'dovich value by %.3g of the amplitude", label, m[0], m[1], m[2],
          amplitude, nsteps_a, error_p);
    CHECK(r.log.calls == nsteps_a - 1, "progress was reported %d times for %d steps",
          r.log.calls, nsteps_a - 1);
    CHECK(r.log.last_step == nsteps_a - 1, "the last progress report was step %d, expected %d",
          r.log.last_step, nsteps_a - 1);
    CHECK(r.log.nsteps == nsteps_a - 1, "the progress reports counted %d steps, expected %d",
          r.log.nsteps, nsteps_a - 1);
    CHECK(fabs(r.log.first_a - 0.1) < 1e-12, "progress starts at a = %g", r.log.first_a);
    CHECK(fabs(r.log.last_a - 1.0) < 1e-12, "progress ends at a = %g", r.log.last_a);
    free(psi1);
    free(r.displacement);
    free(r.momentum);
}


static void test_pancake_exact_force(void)
{
    const int axis0[3] = {1, 0, 0}, diagonal[3] = {1, 1, 2};
    d3m_fastpm_options options;
    d3m_fastpm_default_options(&options);
    options.force = sheet_force;
    /* Shells cross at a = 1.5, so at a = 1 the density contrast reaches 2.
     * With the exact force only float rounding remains: a few 1e-7 of the
     * amplitude per step. */
    int counts[3] = {2, 3, 10};
    for (int i = 0; i < 3; i++)
        check_pancake("exact sheet force", axis0, 1.0 / 1.5, counts[i], &options, 3e-6);
    check_pancake("exact sheet force", diagonal, 1.0 / 1.5, 10, &options, 3e-6);
}


static void test_pancake_pm_force(void)
{
    const int axis0[3] = {1, 0, 0}, axis2[3] = {0, 0, 1};
    d3m_fastpm_options options;
    d3m_fastpm_default_options(&options);
    /* With the default PM force (boost 2, four-point gradient, mesh at
     * cell centres) a linear wave (A = 0.01) grows to within 6e-4 of the
     * Zel'dovich displacement, from the CIC smoothing of the force
     * (sinc^4(kH/2) ~ 1 - 1.6e-3 at k H = 2 pi / 64). */
    check_pancake("PM force", axis0, 0.01, 10, &options, 1e-3);
    check_pancake("PM force", axis2, 0.01, 10, &options, 1e-3);
    /* Up to shell crossing at a = 1.5 the CIC response to particles
     * moving across cells adds a first-order discreteness error: 4.7e-3
     * measured. Exactness of the step factors is checked above. */
    check_pancake("PM force", axis0, 1.0 / 1.5, 10, &options, 1e-2);
    check_pancake("PM force", axis0, 1.0 / 1.5, 3, &options, 2e-2);
}


/* A nonlinear random run: repeated runs agree (float atomics may add in
 * another order) and the total momentum stays at its initial value. */
static void test_random_run(void)
{
    size_t np = (size_t)N * N * N;
    float *psi1 = malloc(3 * np * sizeof *psi1);
    random_field(3.0, psi1);   /* 3 Mpc/h rms at a = 1: shell crossing by a = 1 */
    d3m_fastpm_options options;
    d3m_fastpm_default_options(&options);
    run_result first = run(psi1, 10, &options);
    run_result second = run(psi1, 10, &options);

    double rms = 0.0;
    for (size_t i = 0; i < 3 * np; i++)
        rms += (double)first.displacement[i] * first.displacement[i];
    rms = sqrt(rms / (3.0 * np));
    double diff = max_difference(first.displacement, second.displacement);
    double nonlinear = max_difference(first.displacement, psi1);
    printf("random run: rms displacement %.3g Mpc/h, %.3g from the Zel'dovich one, repeat "
           "differs by %.3g\n", rms, nonlinear, diff);
    CHECK(nonlinear > 0.1 * rms, "the random run stayed linear (max departure %.3g Mpc/h)",
          nonlinear);
    /* Reordered float additions differ in the last bit (1e-7) of a cell;
     * 9 steps of nonlinear evolution amplify that to ~1e-5 of the rms. */
    CHECK(diff <= 1e-4 * rms, "repeated runs differ by %.3g Mpc/h (rms %.3g)", diff, rms);

    for (int d = 0; d < 3; d++) {
        double total = 0.0, total0 = 0.0, sum_abs = 0.0;
        for (size_t p = 0; p < np; p++) {
            total += first.momentum[d * np + p];
            total0 += psi1[d * np + p] * pow(0.1, 2) * pow(0.1, -1.5) * 0.1;
            sum_abs += fabs(first.momentum[d * np + p]);
        }
        /* Each force evaluation sums to zero up to float rounding (~1e-6
         * of sum |g| over 32^3 particles, as the gravity test shows). */
        CHECK(fabs(total - total0) <= 1e-5 * sum_abs, "axis %d: total momentum moved from %.3g "
              "to %.3g (sum |p| = %.3g)", d, total0, total, sum_abs);
    }
    free(psi1);
    free(first.displacement);
    free(first.momentum);
    free(second.displacement);
    free(second.momentum);
}


static void test_argument_errors(void)
{
    size_t shape[4] = {3, N, N, N}, small[4] = {3, 8, 8, 8};
    d3m_tensor *psi = new_tensor(4, shape), *out = new_tensor(4, shape);
    d3m_tensor *wrong = new_tensor(4, small);
    REQUIRE_OK(d3m_tensor_fill(psi, 0.0f));
    d3m_fastpm_options options;
    d3m_fastpm_default_options(&options);

    double backwards[3] = {0.1, 0.5, 0.4};
    options.steps = backwards;
    options.nsteps_a = 3;
    int status = d3m_fastpm_run(&eds_background, psi, NULL, BOX, &options, out, NULL);
    CHECK(status == D3M_ERR_ARG, "decreasing steps gave status %d", status);
    CHECK(strstr(d3m_last_error(), "increase") != NULL, "message: %s", d3m_last_error());

    d3m_fastpm_default_options(&options);
    options.boost = 0;
    status = d3m_fastpm_run(&eds_background, psi, NULL, BOX, &options, out, NULL);
    CHECK(status == D3M_ERR_ARG, "boost 0 gave status %d", status);

    d3m_fastpm_default_options(&options);
    status = d3m_fastpm_run(&eds_background, psi, wrong, BOX, &options, out, NULL);
    CHECK(status == D3M_ERR_SHAPE, "psi2 of another size gave status %d", status);
    status = d3m_fastpm_run(&eds_background, psi, NULL, BOX, &options, wrong, NULL);
    CHECK(status == D3M_ERR_SHAPE, "an output of another size gave status %d", status);

    d3m_tensor_free(psi);
    d3m_tensor_free(out);
    d3m_tensor_free(wrong);
}


static int failing_growth(const void *context, double a, d3m_pm_growth *g)
{
    (void)context;
    (void)g;
    return d3m_fail(D3M_ERR_VALUE, "test background: no growth at a = %g", a);
}


/* Default options (NULL) run from a = 0.1 to exactly 1; a failing
 * background and NaN input are reported. */
static void test_defaults_and_failures(void)
{
    size_t shape[4] = {3, N, N, N};
    const int axis1[3] = {0, 1, 0};
    float *psi1 = malloc(3 * (size_t)N * N * N * sizeof *psi1);
    double scale = pancake_field(axis1, 0.01, psi1);
    d3m_tensor *psi = tensor_from(4, shape, psi1), *out = new_tensor(4, shape);
    d3m_tensor *momentum = new_tensor(4, shape);

    REQUIRE_OK(d3m_fastpm_run(&eds_background, psi, NULL, BOX, NULL, out, momentum));
    float *got = tensor_to_host(out);
    /* as the PM pancake test with the same options (measured 6e-4) */
    double error = max_difference(got, psi1) / scale;
    CHECK(error <= 1e-3, "default run: displacement differs from Zel'dovich by %.3g", error);

    d3m_pm_background broken = {1.0, failing_growth, NULL};
    int status = d3m_fastpm_run(&broken, psi, NULL, BOX, NULL, out, NULL);
    CHECK(status == D3M_ERR_VALUE, "a failing background gave status %d", status);
    CHECK(strstr(d3m_last_error(), "test background") != NULL, "message: %s", d3m_last_error());

    psi1[12345] = NAN;
    REQUIRE_OK(d3m_tensor_write(psi, psi1));
    setenv("D3M_CHECK_FINITE", "1", 1);
    status = d3m_fastpm_run(&eds_background, psi, NULL, BOX, NULL, out, NULL);
    unsetenv("D3M_CHECK_FINITE");
    CHECK(status == D3M_ERR_VALUE, "NaN input with D3M_CHECK_FINITE gave status %d", status);
    CHECK(strstr(d3m_last_error(), "NaN") != NULL, "message: %s", d3m_last_error());

    free(psi1);
    free(got);
    d3m_tensor_free(psi);
    d3m_tensor_free(out);
    d3m_tensor_free(momentum);
}


int main(void)
{
    REQUIRE_OK(d3m_use_device(NULL));
    rng_seed(1603);
    test_pancake_exact_force();
    test_pancake_pm_force();
    test_random_run();
    test_argument_errors();
    test_defaults_and_failures();
    if (failures == 0)
        printf("test_pm_fastpm: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
