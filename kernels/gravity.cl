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

    int index[3] = {i0, i1, i2};
    float k[3], kd[3];
    for (int d = 0; d < 3; d++) {
        k[d] = tables[index[d]];
        kd[d] = tables[n + index[d]];
    }
    float k2 = k[0] * k[0] + k[1] * k[1] + k[2] * k[2];

    long mode = ((long)i0 * n + i1) * nh + i2;
    long modes = (long)n * n * nh;
    float re = delta_k[2 * mode];
    float im = delta_k[2 * mode + 1];
    float inv_k2 = k2 > 0.0f ? 1.0f / k2 : 0.0f;

    /* i K (re + i im) / k^2 = K (-im + i re) / k^2 */
    for (int d = 0; d < 3; d++) {
        float factor = kd[d] * inv_k2;
        accel_k[2 * (d * modes + mode)] = -im * factor;
        accel_k[2 * (d * modes + mode) + 1] = re * factor;
    }
}
