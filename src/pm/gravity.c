/* gravity.c - the particle-mesh force: paint, r2c, the Fourier-space force
 * kernel of kernels/gravity.cl, three c2r transforms and CIC readout, with
 * the meshes and tables kept in a d3m_pm_force between calls. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pm/pm.h"
#include "pm/pm_internal.h"
#include "runtime/runtime.h"


/* The wavenumber k (h/Mpc) of each mesh index m and the gradient kernel
 * K(k): ik exactly (zero on the Nyquist index of an even mesh) or FastPM's
 * four-point difference (8 sin(kH) - sin(2kH)) / (6H), H the cell size.
 * Returned as a device tensor [2, n]: k first, then K. */
static int wavenumber_tables(size_t n, double box, d3m_pm_gradient gradient, d3m_tensor **out)
{
    float *host = malloc(2 * n * sizeof *host);
    if (host == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for the force tables");
    const double kf = 2.0 * M_PI / box, cell = box / (double)n;
    for (size_t m = 0; m < n; m++) {
        long signed_m = m <= n / 2 ? (long)m : (long)m - (long)n;
        double k = kf * (double)signed_m;
        double kd = k;
        if (gradient == D3M_PM_GRADIENT_FOUR_POINT)
            kd = (8.0 * sin(k * cell) - sin(2.0 * k * cell)) / (6.0 * cell);
        else if (n % 2 == 0 && m == n / 2)
            kd = 0.0;
        host[m] = (float)k;
        host[n + m] = (float)kd;
    }
    size_t shape[2] = {2, n};
    int status = d3m_tensor_new(2, shape, out);
    if (status == D3M_OK)
        status = d3m_tensor_write(*out, host);
    free(host);
    return status;
}


int d3m_pm_force_init(d3m_pm_force *force, size_t mesh_n, double box, d3m_pm_gradient gradient)
{
    memset(force, 0, sizeof *force);
    if (mesh_n < 2 || mesh_n > 4096)
        return d3m_fail(D3M_ERR_ARG, "pm gravity: mesh_n = %zu is out of range; use 2 to 4096 "
                        "cells per side", mesh_n);
    if (!(box > 0.0) || !isfinite(box))
        return d3m_fail(D3M_ERR_ARG, "pm gravity: box = %g Mpc/h is invalid; the box side must "
                        "be positive and finite", box);
    if (gradient != D3M_PM_GRADIENT_EXACT && gradient != D3M_PM_GRADIENT_FOUR_POINT)
        return d3m_fail(D3M_ERR_ARG, "pm gravity: gradient %d is neither D3M_PM_GRADIENT_EXACT "
                        "(0) nor D3M_PM_GRADIENT_FOUR_POINT (1)", (int)gradient);
    force->mesh_n = mesh_n;
    force->box = box;

    size_t n = mesh_n;
    size_t delta_shape[4] = {n, n, n / 2 + 1, 2};
    size_t accel_k_shape[5] = {3, n, n, n / 2 + 1, 2};
    int status = d3m_tensor_new(4, delta_shape, &force->delta_k);
    if (status == D3M_OK)
        status = d3m_tensor_new(5, accel_k_shape, &force->accel_k);
    if (status == D3M_OK)
        status = wavenumber_tables(n, box, gradient, &force->tables);
    if (status != D3M_OK)
        d3m_pm_force_clear(force);
    return status;
}


void d3m_pm_force_clear(d3m_pm_force *force)
{
    d3m_tensor_free(force->density);
    d3m_tensor_free(force->accel_mesh);
    d3m_tensor_free(force->accumulator);
    d3m_tensor_free(force->delta_k);
    d3m_tensor_free(force->accel_k);
    d3m_tensor_free(force->tables);
    memset(force, 0, sizeof *force);
}


/* r2c of the density, the force kernel in Fourier space and the c2r of
 * the three components into acceleration [3, n, n, n]. */
static int acceleration_from_density(d3m_pm_force *force, const d3m_tensor *density,
                                     d3m_tensor *acceleration)
{
    size_t n = force->mesh_n;
    D3M_TRY(d3m_fft_r2c(density, force->delta_k));

    size_t global[3] = {n / 2 + 1, n, n}, local[3] = {8, 8, 1};
    D3M_TRY(d3m_launch("gravity.cl", "gravity_acceleration_k", NULL, 3, global, local, "ttit",
                       force->accel_k, force->delta_k, (int)n, force->tables));

    /* accel_k is a temporary, so the transform may overwrite it. */
    return d3m_fft_c2r_overwrite(force->accel_k, acceleration);
}


int d3m_pm_acceleration_mesh(const d3m_tensor *density, double box, d3m_pm_gradient gradient,
                             d3m_tensor *acceleration)
{
    size_t n = density->ndim == 3 ? density->shape[0] : 0;
    size_t mesh_shape[3] = {n, n, n};
    if (n == 0)
        return d3m_check_shape(density, "pm acceleration mesh input", 3, mesh_shape);
    D3M_TRY(d3m_check_shape(density, "pm acceleration mesh input", 3, mesh_shape));
    size_t accel_shape[4] = {3, n, n, n};
    D3M_TRY(d3m_check_shape(acceleration, "pm acceleration mesh output", 4, accel_shape));

    d3m_pm_force force;
    D3M_TRY(d3m_pm_force_init(&force, n, box, gradient));
    int status = acceleration_from_density(&force, density, acceleration);
    d3m_pm_force_clear(&force);
    return status;
}


int d3m_pm_force_compute(d3m_pm_force *force, const d3m_tensor *particles,
                         d3m_pm_coordinates kind, double shift, d3m_tensor *acceleration)
{
    if (particles->ndim != acceleration->ndim || particles->numel != acceleration->numel) {
        char have[128], want[128];
        d3m_format_shape(have, sizeof have, acceleration->ndim, acceleration->shape);
        d3m_format_shape(want, sizeof want, particles->ndim, particles->shape);
        return d3m_fail(D3M_ERR_SHAPE, "pm gravity output: expected the particles' shape %s, "
                        "got %s", want, have);
    }
    size_t np = particles->numel / 3;
    if (np == 0)
        return d3m_fail(D3M_ERR_SHAPE, "pm gravity: no particles");

    /* The real-space meshes are made on first use: d3m_pm_acceleration_mesh
     * needs only the Fourier-space ones. */
    size_t n = force->mesh_n;
    size_t mesh_shape[3] = {n, n, n};
    size_t accel_shape[4] = {3, n, n, n};
    if (force->density == NULL)
        D3M_TRY(d3m_tensor_new(3, mesh_shape, &force->density));
    if (force->accel_mesh == NULL)
        D3M_TRY(d3m_tensor_new(4, accel_shape, &force->accel_mesh));
    size_t words[1] = {2 * n * n * n};
    if (force->accumulator == NULL)
        D3M_TRY(d3m_tensor_new(1, words, &force->accumulator));

    /* mass n^3 / np makes the mean cell value 1 */
    double cells = (double)n * (double)n * (double)n;
    D3M_TRY(d3m_pm_paint_accumulate(particles, kind, force->box, shift,
                                    (float)(cells / (double)np), NULL, force->accumulator,
                                    force->density));
    D3M_TRY(acceleration_from_density(force, force->density, force->accel_mesh));
    return d3m_pm_readout_shifted(force->accel_mesh, particles, kind, force->box, shift,
                                  acceleration);
}


int d3m_pm_gravity(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                   size_t mesh_n, d3m_pm_gradient gradient, d3m_tensor *acceleration)
{
    return d3m_pm_gravity_shifted(particles, kind, box, mesh_n, gradient, 0.0, acceleration);
}


int d3m_pm_gravity_shifted(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                           size_t mesh_n, d3m_pm_gradient gradient, double shift,
                           d3m_tensor *acceleration)
{
    d3m_pm_force force;
    D3M_TRY(d3m_pm_force_init(&force, mesh_n, box, gradient));
    int status = d3m_pm_force_compute(&force, particles, kind, shift, acceleration);
    d3m_pm_force_clear(&force);
    return status;
}
