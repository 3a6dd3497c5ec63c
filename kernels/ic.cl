/* ic.cl - Fourier-space filters and real-space products of the ZA and 2LPT
 * displacements (host side in src/pm/ic.c). Complex meshes are
 * [n, n, n/2+1] pairs (re, im); batches of three components follow each
 * other in memory. Signs and conventions are documented in src/pm/ic.h. */

#define IC_GRADIENT_EXACT 0
#define IC_GRADIENT_FD4 1

#define IC_MODE_PSI1 0       /* out_c = i D_c / k^2 in        (psi1 from delta) */
#define IC_MODE_HESSIAN_DIAG 1 /* out_c = D_c D_c / k^2 in    (phi1_cc from delta) */
#define IC_MODE_HESSIAN_OFF 2  /* out_c = D_a D_b / k^2 in, (a, b) = (0,1), (0,2), (1,2) */
#define IC_MODE_PSI2 3       /* out_c = -i D_c / k^2 in       (psi2 from S) */

/* Signed integer wavenumber of index i on a full axis of n points. */
int ic_wavenumber(int i, int n)
{
    return i < n / 2 ? i : i - n;
}

/* Derivative factor D along one axis for the integer wavenumber m (the
 * derivative of exp(i k x) is i D exp(i k x)); 0 on the Nyquist index,
 * where i k would break the Hermitian symmetry of a real field. */
float ic_derivative(int m, int n, float box, int gradient)
{
    if (2 * m == n || 2 * m == -n)
        return 0.0f;
    float k = 2.0f * M_PI_F * (float)m / box;
    if (gradient == IC_GRADIENT_EXACT)
        return k;
    /* FastPM's 4-point difference: (8 sin(kH) - sin(2kH)) / (6H), kH = 2 pi m / n. */
    float h = box / (float)n;
    float x = 2.0f * (float)m / (float)n;
    return (8.0f * sinpi(x) - sinpi(2.0f * x)) / (6.0f * h);
}

/* One work-item per complex mode (axis 0 of the range) and component
 * (axis 1, 0..2). in is one complex mesh, out three. */
__kernel void ic_filter(__global const float *in, __global float *out, const int n,
                        const float box, const int gradient, const int mode)
{
    long nh = n / 2 + 1;
    long modes = (long)n * n * nh;
    long idx = get_global_id(0);
    int c = (int)get_global_id(1);
    if (idx >= modes || c > 2)
        return;

    int i2 = (int)(idx % nh);
    int i1 = (int)((idx / nh) % n);
    int i0 = (int)(idx / (nh * n));
    int m[3] = {ic_wavenumber(i0, n), ic_wavenumber(i1, n), i2};

    float kf = 2.0f * M_PI_F / box;
    float k2 = kf * kf * (float)(m[0] * m[0] + m[1] * m[1] + m[2] * m[2]);
    float re = in[2 * idx], im = in[2 * idx + 1];
    float out_re = 0.0f, out_im = 0.0f;

    if (k2 > 0.0f) {
        float factor;
        if (mode == IC_MODE_PSI1 || mode == IC_MODE_PSI2) {
            factor = ic_derivative(m[c], n, box, gradient) / k2;
            if (mode == IC_MODE_PSI2)
                factor = -factor;
            /* i factor (re + i im) */
            out_re = -factor * im;
            out_im = factor * re;
        } else {
            int a = c, b = c;
            if (mode == IC_MODE_HESSIAN_OFF) {
                a = c == 2 ? 1 : 0;
                b = c == 0 ? 1 : 2;
            }
            factor = ic_derivative(m[a], n, box, gradient) * ic_derivative(m[b], n, box, gradient) / k2;
            out_re = factor * re;
            out_im = factor * im;
        }
    }
    long o = (long)c * modes + idx;
    out[2 * o] = out_re;
    out[2 * o + 1] = out_im;
}

/* S = sum of the principal 2x2 minors of the Hessian:
 * d0 d1 + d0 d2 + d1 d2 - o01^2 - o02^2 - o12^2, with diag = (phi_00,
 * phi_11, phi_22) and off = (phi_01, phi_02, phi_12), each n^3 long. */
__kernel void ic_second_order_source(__global const float *diag, __global const float *off,
                                     __global float *source, const long cells)
{
    long i = get_global_id(0);
    if (i >= cells)
        return;
    float d0 = diag[i], d1 = diag[cells + i], d2 = diag[2 * cells + i];
    float o0 = off[i], o1 = off[cells + i], o2 = off[2 * cells + i];
    source[i] = d0 * d1 + d0 * d2 + d1 * d2 - o0 * o0 - o1 * o1 - o2 * o2;
}

/* out = c1 psi1 + c2 psi2 elementwise (out may alias an input). */
__kernel void ic_combine(__global float *out, __global const float *psi1, const float c1,
                         __global const float *psi2, const float c2, const long count)
{
    long i = get_global_id(0);
    if (i >= count)
        return;
    out[i] = c1 * psi1[i] + c2 * psi2[i];
}
