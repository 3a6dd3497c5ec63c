/* test_pm_gravity.c - the particle-mesh force: plane waves against the
 * analytic acceleration for both gradient kernels, the force between two
 * particles against Newton's 1/r^2 law (an Ewald sum over the periodic images),
 * and momentum conservation. */
#include <string.h>

#include "pm_testing.h"

static const double two_pi = 6.283185307179586;


/* Density 1 + A cos(k.x) with k = 2 pi m / box has phi = -A cos(k.x) / k^2
 * and g = -grad phi = -A k sin(k.x) / k^2; the four-point gradient scales
 * component d by (8 sin(k_d H) - sin(2 k_d H)) / (6 H k_d). */
static void test_plane_wave(d3m_pm_gradient gradient, const int m[3])
{
    const int n = 16;
    const double box = 100.0, amplitude = 0.3, cell = box / n;
    size_t mshape[3] = {(size_t)n, (size_t)n, (size_t)n}, ashape[4] = {3, (size_t)n, (size_t)n, (size_t)n};
    size_t cells = (size_t)n * n * n;
    float *density = malloc(cells * sizeof *density);
    double k[3], k2 = 0.0;
    for (int d = 0; d < 3; d++) {
        k[d] = two_pi * m[d] / box;
        k2 += k[d] * k[d];
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int l = 0; l < n; l++) {
                double phase = (k[0] * i + k[1] * j + k[2] * l) * cell;
                density[(i * n + j) * n + l] = (float)(1.0 + amplitude * cos(phase));
            }
    d3m_tensor *mesh = tensor_from(3, mshape, density);
    d3m_tensor *accel = new_tensor(4, ashape);
    REQUIRE_OK(d3m_pm_acceleration_mesh(mesh, box, gradient, accel));
    float *got = tensor_to_host(accel);

    double worst = 0.0, scale = 0.0;
    for (int d = 0; d < 3; d++) {
        double kd = abs(m[d]) == n / 2 ? 0.0 : k[d];   /* Nyquist plane: zero */
        if (gradient == D3M_PM_GRADIENT_FOUR_POINT)
            kd = (8.0 * sin(k[d] * cell) - sin(2.0 * k[d] * cell)) / (6.0 * cell);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int l = 0; l < n; l++) {
                    double phase = (k[0] * i + k[1] * j + k[2] * l) * cell;
                    double expected = -amplitude * kd * sin(phase) / k2;
                    double value = got[d * cells + (size_t)(i * n + j) * n + l];
                    worst = fmax(worst, fabs(value - expected));
                    scale = fmax(scale, fabs(expected));
                }
    }
    /* Float FFTs of 16^3 keep ~1e-6 of the largest amplitude (~1 here, the
     * mean 1 of the density is part of the input). */
    CHECK(worst <= 1e-5 * fmax(scale, 1.0), "plane wave m = (%d %d %d), gradient %d: max "
          "error %g for amplitude %g", m[0], m[1], m[2], (int)gradient, worst, scale);

    free(density);
    free(got);
    d3m_tensor_free(mesh);
    d3m_tensor_free(accel);
}


/* Acceleration of both particles of a pair separated by r (in cells along
 * the unit vector dir) on an n^3 mesh with unit cells. */
static void pair_acceleration(int n, const double origin[3], const double dir[3], double r,
                              d3m_pm_gradient gradient, double accel[2][3])
{
    size_t pshape[2] = {3, 2};
    float pos[6];
    for (int d = 0; d < 3; d++) {
        pos[d * 2] = (float)origin[d];
        pos[d * 2 + 1] = (float)(origin[d] + r * dir[d]);
    }
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *out = new_tensor(2, pshape);
    REQUIRE_OK(d3m_pm_gravity(particles, D3M_PM_POSITIONS, (double)n, (size_t)n, gradient, out));
    float host[6];
    REQUIRE_OK(d3m_tensor_read(out, host));
    for (int d = 0; d < 3; d++) {
        accel[0][d] = host[d * 2];
        accel[1][d] = host[d * 2 + 1];
    }
    d3m_tensor_free(particles);
    d3m_tensor_free(out);
}


/* Acceleration g = -grad phi at x (relative to the mass) of a point mass M
 * in a periodic cube of side box, laplacian(phi) = M (delta_D - 1 / V), by
 * Ewald summation in double precision: real-space images with erfc
 * screening plus the Fourier sum of the smooth part (the k = 0 term is the
 * uniform background and drops out). alpha = 2 / box with images within 3
 * boxes and |m| <= 8 Fourier modes per axis converges to ~1e-12. */
static void ewald_acceleration(double mass, double box, const double x[3], double g[3])
{
    const double alpha = 2.0 / box, volume = box * box * box;
    g[0] = g[1] = g[2] = 0.0;
    for (int i = -3; i <= 3; i++)
        for (int j = -3; j <= 3; j++)
            for (int l = -3; l <= 3; l++) {
                double r[3] = {x[0] + i * box, x[1] + j * box, x[2] + l * box};
                double r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2], rn = sqrt(r2);
                double radial = erfc(alpha * rn) +
                                2.0 * alpha * rn / sqrt(M_PI) * exp(-alpha * alpha * r2);
                for (int d = 0; d < 3; d++)
                    g[d] -= mass / (4.0 * M_PI) * radial * r[d] / (r2 * rn);
            }
    for (int i = -8; i <= 8; i++)
        for (int j = -8; j <= 8; j++)
            for (int l = -8; l <= 8; l++) {
                if (i == 0 && j == 0 && l == 0)
                    continue;
                double k[3] = {two_pi * i / box, two_pi * j / box, two_pi * l / box};
                double k2 = k[0] * k[0] + k[1] * k[1] + k[2] * k[2];
                double weight = mass / volume * exp(-k2 / (4.0 * alpha * alpha)) / k2 *
                                sin(k[0] * x[0] + k[1] * x[1] + k[2] * x[2]);
                for (int d = 0; d < 3; d++)
                    g[d] -= weight * k[d];
            }
}


/*
 * Two particles in a periodic box of V = n^3 unit cells. Each carries mass
 * V/2 in units of the mean density, so particle B feels the periodic
 * (Ewald) field of a point mass V/2 at A. The mesh force is smoothed by CIC
 * twice and is anisotropic on the mesh, so it is compared from 4 cells up,
 * along an axis, a face diagonal and a body diagonal. The reference
 * includes the periodic images, so the comparison holds up to r = n/3.
 */
static void test_two_particle_force(d3m_pm_gradient gradient)
{
    const int n = 32, origins = 8;
    const double volume = (double)n * n * n;
    const double s2 = sqrt(0.5), s3 = sqrt(1.0 / 3.0);
    const double dirs[3][3] = {{0, 0, 1}, {s2, s2, 0}, {s3, -s3, s3}};
    double worst_near = 0.0, worst_far = 0.0, worst_net = 0.0;

    for (int trial = 0; trial < origins; trial++) {
        /* random sub-cell position of A: the PM force depends on it */
        double origin[3];
        for (int d = 0; d < 3; d++)
            origin[d] = 10.0 + rng_uniform();
        for (int id = 0; id < 3; id++) {
            for (double r = 4.0; r <= 10.0; r += 2.0) {
                double accel[2][3];
                pair_acceleration(n, origin, dirs[id], r, gradient, accel);
                double offset[3], reference[3];
                for (int d = 0; d < 3; d++)
                    offset[d] = r * dirs[id][d];
                ewald_acceleration(0.5 * volume, (double)n, offset, reference);

                /* deviation of B's acceleration from the reference, and
                 * the net force of the pair, relative to the reference */
                double size2 = 0.0, deviation2 = 0.0, net2 = 0.0;
                for (int d = 0; d < 3; d++) {
                    size2 += reference[d] * reference[d];
                    deviation2 += (accel[1][d] - reference[d]) * (accel[1][d] - reference[d]);
                    net2 += (accel[0][d] + accel[1][d]) * (accel[0][d] + accel[1][d]);
                }
                double deviation = sqrt(deviation2 / size2), net = sqrt(net2 / size2);
                if (r < 5.0)
                    worst_near = fmax(worst_near, deviation);
                else
                    worst_far = fmax(worst_far, deviation);
                worst_net = fmax(worst_net, net);
            }
        }
    }
    printf("two particles, gradient %d: |g - g_Ewald| / |g_Ewald| up to %.3f at 4 cells, %.3f "
           "at 6 to 10 cells; |g_A + g_B| / |g_B| up to %.2g\n", (int)gradient, worst_near,
           worst_far, worst_net);

    /* Readout is the transpose of painting and the kernel is odd, so the
     * pair forces cancel up to float rounding of the FFTs (~1e-6 of the
     * largest mesh value). With the exact gradient's ringing that value is a
     * few times the reference force: measured 9e-6 of the reference. */
    CHECK(worst_net <= 3e-5, "gradient %d: pair forces do not cancel, |g_A + g_B| / |g_B| = "
          "%.3g", (int)gradient, worst_net);
    if (gradient != D3M_PM_GRADIENT_FOUR_POINT)
        return;
    /* With the four-point gradient, CIC smoothing and the mesh anisotropy
     * leave at most 6 percent (measured 3.7) at 4 cells and 3 percent
     * (measured 2.4) from 6 cells on. The exact gradient is not held to
     * 1/r^2: its cut at the Nyquist frequency rings, and the error
     * depends on the sub-cell positions (measured up to 400 percent). */
    CHECK(worst_near <= 0.06, "four-point gradient: force at 4 cells is %.3f off", worst_near);
    CHECK(worst_far <= 0.03, "four-point gradient: force at 6 to 10 cells is %.3f off",
          worst_far);
}


/* Two particles falling toward each other under the PM force, integrated
 * with kick-drift steps on the host side of the API: the total momentum
 * stays zero because each force evaluation cancels between the pair. */
static void test_pair_run_momentum(void)
{
    const int n = 32, steps = 40;
    const double dt = 0.01;
    size_t pshape[2] = {3, 2};
    float pos[6] = {10.2f, 16.9f, 12.1f, 15.7f, 11.3f, 14.8f};   /* [3, 2] */
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *velocity = new_tensor(2, pshape), *accel = new_tensor(2, pshape);
    REQUIRE_OK(d3m_tensor_fill(velocity, 0.0f));

    for (int step = 0; step < steps; step++) {
        REQUIRE_OK(d3m_pm_gravity(particles, D3M_PM_POSITIONS, (double)n, (size_t)n,
                                  D3M_PM_GRADIENT_EXACT, accel));
        REQUIRE_OK(d3m_tensor_axpy(velocity, (float)dt, accel));
        REQUIRE_OK(d3m_tensor_axpy(particles, (float)dt, velocity));
    }
    float v[6], x[6];
    REQUIRE_OK(d3m_tensor_read(velocity, v));
    REQUIRE_OK(d3m_tensor_read(particles, x));
    double total2 = 0.0, speed2 = 0.0, gap0 = 0.0, gap = 0.0;
    for (int d = 0; d < 3; d++) {
        total2 += (v[2 * d] + v[2 * d + 1]) * (v[2 * d] + v[2 * d + 1]);
        speed2 += v[2 * d + 1] * v[2 * d + 1];
        gap0 += (pos[2 * d] - pos[2 * d + 1]) * (pos[2 * d] - pos[2 * d + 1]);
        gap += (x[2 * d] - x[2 * d + 1]) * (x[2 * d] - x[2 * d + 1]);
    }
    CHECK(sqrt(gap) < sqrt(gap0) - 1.0, "the pair did not fall together: separation %.3g -> %.3g",
          sqrt(gap0), sqrt(gap));
    /* 40 steps, each cancelling to ~1e-6 of the force: 1e-5 of the speed. */
    CHECK(sqrt(total2) <= 1e-5 * sqrt(speed2), "total momentum %.3g for speeds %.3g after %d "
          "steps", sqrt(total2), sqrt(speed2), steps);

    d3m_tensor_free(particles);
    d3m_tensor_free(velocity);
    d3m_tensor_free(accel);
}


/* Random particles: the accelerations sum to zero (momentum conservation)
 * for both gradient kernels. */
static void test_random_net_force(d3m_pm_gradient gradient)
{
    const size_t np = 4000;
    const double box = 50.0;
    size_t pshape[2] = {3, np};
    float *pos = malloc(3 * np * sizeof *pos);
    for (size_t i = 0; i < 3 * np; i++)
        pos[i] = (float)(box * rng_uniform());
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *accel = new_tensor(2, pshape);
    REQUIRE_OK(d3m_pm_gravity(particles, D3M_PM_POSITIONS, box, 32, gradient, accel));
    float *g = tensor_to_host(accel);

    for (int d = 0; d < 3; d++) {
        double sum = 0.0, sum_abs = 0.0;
        for (size_t p = 0; p < np; p++) {
            sum += g[d * np + p];
            sum_abs += fabs(g[d * np + p]);
        }
        /* float rounding of each particle's value, ~1e-6 relative, adds up
         * like a random walk over np = 4000 terms: 1e-5 of the sum of |g|. */
        CHECK(fabs(sum) <= 1e-5 * sum_abs, "gradient %d axis %d: net acceleration %.3g, sum of "
              "|g| %.3g", (int)gradient, d, sum, sum_abs);
    }
    free(pos);
    free(g);
    d3m_tensor_free(particles);
    d3m_tensor_free(accel);
}


int main(void)
{
    REQUIRE_OK(d3m_use_device(NULL));
    rng_seed(4242);
    /* low modes, and high ones with the Nyquist index on each axis */
    const int waves[5][3] = {{1, 2, 3}, {7, -5, 8}, {8, 3, 1}, {-6, 8, 5}, {7, 7, 7}};
    for (int w = 0; w < 5; w++) {
        test_plane_wave(D3M_PM_GRADIENT_EXACT, waves[w]);
        test_plane_wave(D3M_PM_GRADIENT_FOUR_POINT, waves[w]);
    }
    test_two_particle_force(D3M_PM_GRADIENT_EXACT);
    test_two_particle_force(D3M_PM_GRADIENT_FOUR_POINT);
    test_pair_run_momentum();
    test_random_net_force(D3M_PM_GRADIENT_EXACT);
    test_random_net_force(D3M_PM_GRADIENT_FOUR_POINT);
    if (failures == 0)
        printf("test_pm_gravity: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
