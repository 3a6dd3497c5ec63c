/*
 * ic.h - initial conditions: Gaussian white noise, the linear density field
 * and Lagrangian perturbation theory (ZA and 2LPT) displacements on a
 * periodic n^3 mesh of side box (Mpc/h).
 *
 * Mesh and Fourier conventions are those of d3m.h. A real mesh is
 * [n, n, n] with array axis 0 slowest, and its r2c transform is complex
 * [n, n, n/2+1, 2]. On axes 0 and 1, index i is the integer wavenumber
 * m = i for i < n/2 and m = i - n otherwise, so the Nyquist index n/2 is
 * m = -n/2. On the halved axis 2, index i is m = i (0 to n/2). The physical
 * wavenumber is k_d = 2 pi m_d / box in h/Mpc.
 *
 * Displacements: psi [3, n, n, n] in Mpc/h, component d along array axis d,
 * for the particle at grid node q = (i0, i1, i2) box/n. They are at unit
 * growth: the particle position at scale factor a is
 *   x = q + D1(a) psi1(q) + D2(a) psi2(q)
 * with D1, D2 of cosmology.h (D1(1) = 1, D2 ~ -3/7 D1^2 < 0).
 *   psi1(k) = i k / k^2 delta(k)              so div psi1 = -delta
 *   psi2(k) = i k phi2(k) = -i k / k^2 S(k)   so div psi2 = S
 *   S(q) = sum over a < b of (phi1_aa phi1_bb - phi1_ab^2)
 * where phi1 is the first-order potential, phi1(k) = -delta(k)/k^2 and
 * phi1_ab its Hessian: S is the sum of the principal 2x2 minors of the
 * Hessian (the usual 2LPT form with the sign choice D2 < 0). The k = 0
 * mode of every field is zero.
 */
#ifndef D3M_IC_H
#define D3M_IC_H

#include <stdint.h>

#include "cosmo/cosmology.h"
#include "d3m.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Gradient used for psi1, psi2 and the Hessian. */
#define D3M_GRADIENT_EXACT 0   /* i k_d, zeroed on the Nyquist index of axis d */
#define D3M_GRADIENT_FD4 1     /* FastPM's 4-point finite difference:
                                  i (8 sin(k_d H) - sin(2 k_d H)) / (6 H),
                                  H = box/n; the inverse Laplacian stays -1/k^2 */

/*
 * Fourier transform W(k) = sum_x w(x) exp(-i k.x) of a real white-noise
 * field w(x) with unit variance per cell, written into noise_k, complex
 * [n, n, n/2+1, 2]: E|W(k)|^2 = n^3, real and imaginary parts independent
 * with variance n^3/2 each, W(-k) = conj W(k), W(0) = 0, and the modes equal
 * to their own conjugate partner (every m_d in {0, -n/2}) are real.
 *
 * The draw for a mode depends only on (seed, m0, m1, m2): each (m0, m1)
 * column gets the key of a counter-based generator (Philox4x32-10) from the
 * seed and its signed wavenumbers, and m2 is the counter.
 * So W/n^{3/2} at a wavenumber present in two meshes (|m_d| < n/2 in the
 * smaller one) is the same in both, and the field is the same on every
 * device (it is made on the host in double and rounded once to float).
 * n is even, 2 <= n <= 4096.
 */
int d3m_white_noise(int n, uint64_t seed, d3m_tensor *noise_k);

/*
 * The linear density contrast at a = 1 in Fourier space, with the FFT
 * convention of d3m.h: delta_k = sum_x delta(x) exp(-i k.x), so
 * d3m_fft_c2r(delta_k) is the real-space field delta(x). delta_k is complex
 * [n, n, n/2+1, 2] on the device:
 *   delta_k(k) = W(k) sqrt(P(|k|) n^3 / box^3)
 * with W of d3m_white_noise and P = d3m_cosmo_linear_power in (Mpc/h)^3.
 * In the normalised convention delta_hat = delta_k / n^3 this is
 * E|delta_hat|^2 = P(k)/V, V = box^3, and delta_hat of a mode does not
 * depend on n. box in Mpc/h, n even.
 */
int d3m_linear_field(const d3m_cosmology *c, double box, int n, uint64_t seed,
                     d3m_tensor *delta_k);

/*
 * ZA and 2LPT displacements at unit growth (see the header comment) from
 * delta_k of d3m_linear_field (or any complex [n, n, n/2+1, 2] in the same
 * convention). box in Mpc/h; gradient D3M_GRADIENT_EXACT or
 * D3M_GRADIENT_FD4. psi1 and psi2 are [3, n, n, n], allocated by the caller;
 * psi2 may be NULL for the ZA only. Takes about 13 FFTs of the mesh for
 * 2LPT (3 for ZA) and about 8 n^3 floats of temporary device memory.
 */
int d3m_lpt_displacements(const d3m_tensor *delta_k, double box, int gradient, d3m_tensor *psi1,
                          d3m_tensor *psi2);

/*
 * out = c1 psi1 + c2 psi2 elementwise, for the displacement D1 psi1 + D2 psi2
 * or the velocity dD1/da psi1 + dD2/da psi2 at some a. psi2 may be NULL
 * (ZA); out may alias psi1 or psi2; all have the same numel.
 */
int d3m_lpt_combine(const d3m_tensor *psi1, double c1, const d3m_tensor *psi2, double c2,
                    d3m_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
