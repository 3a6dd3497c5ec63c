/* gravity.cl - the particle-mesh force in Fourier space.
 *
 * Input: the r2c transform delta_k [n, n, n/2+1, 2] of a density mesh of
 * side box (Mpc/h). Output: the three components of the acceleration
 * g = -grad phi with laplacian(phi) = delta, i.e. phi_k = -delta_k / k^2 and
 * g_k(d) = -i K_d(k) phi_k = i K_d(k) delta_k / k^2, stacked as
 * [3, n, n, n/2+1, 2]. k = 0 is set to zero. k^2 is the exact |k|^2 and K_d
 * is either the exact derivative k_d with the Nyquist plane of axis d set
 * to zero (gradient = 0) or FastPM's four-point finite difference
 * K(k) = (8 sin(k H) - sin(2 k H)) / (6 H) with H = box / n (gradient = 1;
 * Feng et al. 2016, arXiv:1603.00476), which is zero at the Nyquist
 * frequency by itself. */

#define GRADIENT_EXACT 0
#define GRADIENT_FOUR_POINT 1

/* tables[m] is the wavenumber k of mesh index m along any axis (h/Mpc) and
 * tables[n + m] the gradient's K(k), both computed on the host in double:
 * a sine per mode and axis here cost more than the FFTs on PoCL. */
__kernel void gravity_acceleration_k(__global float *accel_k, __global const float *delta_k,
                                     const int n, __global const float *tables)
{
    int i2 = get_global_id(0);
    int i1 = get_global_id(1);
    int i0 = get_global_id(2);
    int nh = n / 2 + 1;
    if (i2 >= nh || i1 >= n || i0 >= n)
        return;

    float k0 = tables[i0], k1 = tables[i1], k2 = tables[i2];
    float k_squared = k0 * k0 + k1 * k1 + k2 * k2;
    float inv_k2 = k_squared > 0.0f ? 1.0f / k_squared : 0.0f;

    long mode = ((long)i0 * n + i1) * nh + i2;
    long modes = (long)n * n * nh;
    float2 delta = vload2(mode, delta_k);

    /* i K (re + i im) / k^2 = K (-im + i re) / k^2, with K / k^2 formed first
     * so that the rounding is that of the scalar form. */
    float2 rotated = (float2)(-delta.y, delta.x);
    vstore2(rotated * (tables[n + i0] * inv_k2), mode, accel_k);
    vstore2(rotated * (tables[n + i1] * inv_k2), modes + mode, accel_k);
    vstore2(rotated * (tables[n + i2] * inv_k2), 2 * modes + mode, accel_k);
}
