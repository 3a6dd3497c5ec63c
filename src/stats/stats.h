/*
 * stats.h - summary statistics of fields and particle sets in a periodic
 * cubic box: power spectra, the two-point correlation function xi(r) and
 * the three-point multipoles zeta_l(r1, r2) of Slepian & Eisenstein (2015,
 * MNRAS 454, 4142).
 *
 * Units: lengths in Mpc/h, wavenumbers in h/Mpc, power in (Mpc/h)^3.
 * Meshes are float32 tensors [n, n, n] (or [C, n, n, n] for C components)
 * covering a box of side `box`. Cell (i, j, k) sits at (i, j, k) * box / n.
 * Particle positions are tensors [3, N] (row d is coordinate d, and
 * [3, n, n, n] counts as [3, n^3]) or [N, 3] (one particle per row; [3, 3]
 * reads as [3, N]), in Mpc/h. Any values are accepted and wrapped into
 * [0, box). Weights, where taken, are a tensor [N] or NULL for unit
 * weights.
 *
 * Bin edges are ascending arrays of nbins + 1 values; bin b is
 * [edges[b], edges[b + 1]).
 */
#ifndef D3M_STATS_H
#define D3M_STATS_H

#include "d3m.h"

/* Mass-assignment window compensation applied to delta_k before squaring. */
typedef enum d3m_window {
    D3M_WINDOW_NONE = 0,
    /* Divide P(k) by prod_i [1 - 2/3 sin^2(k_i H / 2)], the CIC window summed
     * over aliases (Jing 2005, ApJ 620, 559), H = box / n. */
    D3M_WINDOW_CIC = 1,
    /* Divide delta_k by prod_i sinc^2(k_i H / 2) (no alias correction). */
    D3M_WINDOW_CIC_SINC2 = 2
} d3m_window;

/* A binned power spectrum or correlation function; arrays of nbins values
 * owned by the caller. x is the weighted mean |k| (or separation r) in the
 * bin, value the bin average, count the number of modes (or of mesh
 * separations, or of ordered pairs). Empty bins hold x = value = 0. */
typedef struct d3m_binned {
    int nbins;
    double *x;
    double *value;
    double *count;
} d3m_binned;

/* ---- power spectra ------------------------------------------------------ */

/* Default k edges i k_f, i = 1 .. n/2, with k_f = 2 pi / box: n/2 - 1 bins
 * from the fundamental to the Nyquist frequency. edges receives n/2 values;
 * returns the number of bins. */
int d3m_stats_default_k_edges(double box, int n, double *edges);

/*
 * Auto (b == NULL) or cross power of meshes a and b of shape [n, n, n] or
 * [C, n, n, n]: P(k) = V Re(delta_a(k) delta_b(k)^*) with delta(k) =
 * (1/n^3) sum_x delta(x) e^{-i k.x}, summed over the C components (the
 * displacement power is the sum over its three components). Modes are
 * counted over the full grid; k = 0 is left out. The window compensation
 * is applied to both fields. Mode sums run in double on the host.
 */
int d3m_stats_power(const d3m_tensor *a, const d3m_tensor *b, double box, d3m_window window,
                    const double *edges, d3m_binned *out);

/*
 * xi(r) of mesh a [n, n, n] by the inverse FFT of its window-compensated
 * power |delta_k|^2 (k = 0 set to zero), averaged over the mesh separation
 * vectors (minimum image) with |r| in each bin; out->count is the number
 * of separation vectors. shot_noise (in (Mpc/h)^3, 0 for none) is
 * subtracted from every mode first.
 */
int d3m_stats_xi_mesh(const d3m_tensor *a, double box, d3m_window window, double shot_noise,
                      const double *edges, d3m_binned *out);

/* ---- particles ---------------------------------------------------------- */

/*
 * Positions of particles on the grid q = (i, j, k) * box / n moved by a
 * displacement [3, n, n, n] (component d along array axis d), wrapped into
 * [0, box). out has shape [3, n^3]; particle (i, j, k) is column
 * (i n + j) n + k.
 */
int d3m_stats_positions(const d3m_tensor *displacement, double box, d3m_tensor *out);

/*
 * Point-wise relative displacement error |pred - true| / |true| per
 * particle for displacements of shape [3, ...] (or [S, 3, ...] for S
 * simulations): the mean and the maximum over all particles. Particles
 * with |true| = 0 are skipped and counted in *skipped (may be NULL).
 */
int d3m_stats_pointwise_error(const d3m_tensor *pred, const d3m_tensor *truth, double *mean,
                              double *max, long *skipped);

/*
 * xi(r) by pair counting with the natural estimator DD / RR - 1 in a
 * periodic box: DD counts ordered pairs i != j at minimum-image separation
 * in each bin, RR = N (N - 1) V_bin / V. The last edge must not exceed
 * box / 2. out->count is DD.
 */
int d3m_stats_xi_pairs(const d3m_tensor *positions, double box, const double *edges,
                       d3m_binned *out);

/* ---- three-point multipoles --------------------------------------------- */

#define D3M_ZETA_MAX_L 10
#define D3M_ZETA_MAX_BINS 64   /* radial bins of d3m_stats_zeta_counts */

/*
 * Triplet multipole sums of Slepian & Eisenstein (2015) in a periodic box:
 *   N_l(b1, b2) = sum_p w_p sum_{a in b1, b in b2} w_a w_b P_l(cos angle(r_pa, r_pb))
 * over secondaries a, b != p at minimum-image separations r != 0 in the
 * radial bins. It is computed as (4 pi / (2l + 1)) sum_p w_p sum_m
 * a_lm(b1) a_lm(b2)^*, a_lm(b) = sum_{a in b} w_a Y_lm(r_hat_pa). The
 * device accumulates a_lm for m >= 0 in float (the real and imaginary
 * parts are the real harmonics up to a factor sqrt 2); the host sums over
 * m and p in double. Terms with a == b (diagonal bins only) are included
 * when self_terms is non-zero and removed otherwise.
 * nl is lmax + 1 with lmax <= D3M_ZETA_MAX_L, and nbins <= D3M_ZETA_MAX_BINS.
 * The last edge must not exceed box / 2. multipoles receives
 * nl * nbins * nbins values, N_l(b1, b2) at (l * nbins + b1) * nbins + b2,
 * symmetric in b1, b2. weights may be NULL (unit weights).
 */
int d3m_stats_zeta_counts(const d3m_tensor *positions, const d3m_tensor *weights, double box,
                          int nbins, const double *edges, int lmax, int self_terms,
                          double *multipoles);

/*
 * Normalise N_l in place to the periodic-box multipoles
 *   zeta_l(b1, b2) = (2l + 1) N_l / (W nbar^2 V_1 V_2) - delta_l0,
 * with W = sum of weights (N for unit weights), nbar = W / box^3 and V_b
 * the analytic volume of shell b. With this convention a Poisson set has
 * zeta_l = O(1/N) (the -delta_l0 uses N^2, not (N-1)(N-2)); zeta_0
 * includes the two-point terms xi(r1) + xi(r2) + xi(r12) besides the
 * connected part.
 */
void d3m_stats_zeta_normalise(double *multipoles, int nbins, const double *edges, int lmax,
                              double weight_sum, double box);

/*
 * zeta_l(b1, b2) of a density mesh rho [n, n, n] given as rho / mean
 * (1 + delta), with the convention of d3m_stats_zeta_normalise:
 *   zeta_l = 4 pi / (V V'_1 V'_2) dV sum_x rho(x) sum_m a_lm(b1, x) a_lm(b2, x)^* - delta_l0,
 *   a_lm(b, x) = dV sum_{r in b} rho(x + r) Y_lm(r_hat),
 * where r runs over mesh separations (minimum image, r != 0), dV = (box/n)^3
 * and V'_b = dV (number of separations in bin b). These discrete shell
 * volumes make rho = 1 give zeta = 0 up to float round-off. Each a_lm(b, x) is one
 * FFT convolution with a shell kernel: (lmax + 1)^2 real fields per bin.
 * volumes (may be NULL) receives V'_b; zeta receives nl * nbins * nbins
 * values in the layout of d3m_stats_zeta_counts.
 */
int d3m_stats_zeta_mesh(const d3m_tensor *rho, double box, int nbins, const double *edges,
                        int lmax, double *zeta, double *volumes);

/* Analytic volume of the shell [lo, hi). */
double d3m_stats_shell_volume(double lo, double hi);

#endif
