/*
 * cosmology.h - background expansion, linear growth (first and second order)
 * and the linear matter power spectrum at z = 0 of a Lambda-CDM universe.
 *
 * Units: lengths in Mpc/h, wavenumbers k in h/Mpc, power P(k) in (Mpc/h)^3,
 * time as the scale factor a (a = 1 today). E(a) = H(a)/H0 is dimensionless.
 * The background contains matter, curvature and a cosmological constant:
 *   E^2(a) = Omega_m a^-3 + Omega_k a^-2 + Omega_Lambda,
 *   Omega_Lambda = 1 - Omega_m - Omega_k.
 * Radiation is left out of the background, as in FastPM's own growth
 * functions, so D1 = a exactly at early times.
 *
 * Growth: with ' = d/dln a, D1 and D2 solve
 *   D'' + (2 + dlnE/dlna) D' = 1.5 Omega_m(a) D              (first order)
 *   D2'' + (2 + dlnE/dlna) D2' = 1.5 Omega_m(a) (D2 - D1^2)  (second order)
 * started deep in matter domination at D1 = a, D2 = -3/7 a^2, then divided
 * by D1(1) and D1(1)^2 so that D1(1) = 1. D2 is therefore negative, and
 * D2/D1^2 -> -3/7 at early times (about -3/7 Omega_m(a)^(-1/143) later).
 * f1 = dlnD1/dlna and f2 = dlnD2/dlna (f2 -> 2 at early times).
 * The growth functions accept 0 < a <= D3M_COSMO_A_MAX. Below the table
 * (a < D3M_COSMO_A_MIN) they use the matter-dominated limits D1 ~ a and
 * D2 ~ a^2. Outside that range they return NaN and record a message
 * (d3m_last_error()). E(a) and Omega_m(a) accept any a > 0.
 */
#ifndef D3M_COSMOLOGY_H
#define D3M_COSMOLOGY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Range of the growth table in a, and its number of nodes (uniform in ln a). */
#define D3M_COSMO_A_MIN 1e-5
#define D3M_COSMO_A_MAX 20.0
#define D3M_COSMO_GROWTH_NODES 512

/* CMB temperature (K) of the Eisenstein & Hu transfer function. */
#define D3M_COSMO_T_CMB 2.7255

/* Pivot scale of A_s: 0.05 per Mpc (not h/Mpc). */
#define D3M_COSMO_K_PIVOT 0.05

/* Omega_nu h^2 = sum of neutrino masses / D3M_COSMO_NU_EV_PER_OMEGA_HH (eV),
 * for relic neutrinos at (4/11)^(1/3) T_CMB (Lesgourgues & Pastor 2006,
 * Phys. Rep. 429, 307, eq. 32; the value CAMB uses). */
#define D3M_COSMO_NU_EV_PER_OMEGA_HH 93.14

/* Largest Omega_nu / Omega_m accepted: the range over which Eisenstein & Hu
 * (1999) calibrated their fit. */
#define D3M_COSMO_F_NU_MAX 0.3

/* Planck 2015 parameters used as defaults (the D3M paper's fiducial model). */
#define D3M_PLANCK15_OMEGA_M 0.3089
#define D3M_PLANCK15_OMEGA_B 0.0486
#define D3M_PLANCK15_H 0.6774
#define D3M_PLANCK15_N_S 0.9667
#define D3M_PLANCK15_A_S 2.142e-9
/* Planck 2015's baseline neutrino mass: 0.06 eV in one massive species. */
#define D3M_PLANCK15_M_NU 0.06
#define D3M_PLANCK15_N_NU 1

/* Source of the linear power spectrum. */
typedef enum d3m_power_kind {
    D3M_POWER_EH98 = 0,          /* Eisenstein & Hu (1998) with baryon wiggles */
    D3M_POWER_EH98_NOWIGGLE = 1, /* their zero-baryon-oscillation fit (section 4.2) */
    D3M_POWER_TABLE = 2          /* a tabulated P(k), log-log interpolated */
} d3m_power_kind;

/* Derived quantities of the Eisenstein & Hu (1998) fit (ApJ 496, 605);
 * wavenumbers in 1/Mpc and lengths in Mpc, as in the paper. */
typedef struct d3m_eh98 {
    double theta;       /* T_CMB / 2.7 K */
    double omhh, obhh;  /* Omega_m h^2, Omega_b h^2 */
    double f_b;         /* Omega_b / Omega_m */
    double z_eq;        /* 1 + z at matter-radiation equality (eq. 2) */
    double z_drag;      /* drag epoch redshift (eq. 4) */
    double k_eq;        /* k at matter-radiation equality (eq. 3) */
    double s;           /* sound horizon at the drag epoch (eq. 6) */
    double k_silk;      /* Silk damping scale (eq. 7) */
    double alpha_c, beta_c, alpha_b, beta_b, beta_node;   /* eqs. 11-14, 23-24 */
    double alpha_gamma; /* no-wiggle shape suppression (eq. 31) */
    double s_fit;       /* no-wiggle sound horizon fit (eq. 26) */
} d3m_eh98;

/* Shape parameters of the Eisenstein & Hu (1999, ApJ 511, 5) fit for cold
 * dark matter, baryons and massive neutrinos, for one neutrino fraction. */
typedef struct d3m_eh99 {
    double f_nu;        /* Omega_nu / Omega_m */
    double p_cb;        /* small-scale growth exponent of CDM + baryons (eq. 11) */
    double alpha_nu;    /* small-scale suppression of the shape (eq. 15) */
    double beta_c;      /* (1 - 0.949 f_nub)^-1 (eq. 21) */
} d3m_eh99;

/* Cosmological parameters and the tabulated growth. A copy shares the
 * power table's memory, so copy only cosmologies without a table, and
 * release each with d3m_cosmology_clear(). Callers read the fields and
 * change parameters only through the functions below, which retabulate
 * and renormalise. */
typedef struct d3m_cosmology {
    double omega_m;      /* matter density today, Omega_m (CDM + baryons +
                            massive neutrinos) */
    double omega_b;      /* baryon density today, Omega_b */
    double omega_k;      /* curvature density today, Omega_k (0: flat) */
    double omega_lambda; /* 1 - Omega_m - Omega_k */
    double h;            /* H0 / (100 km/s/Mpc) */
    double n_s;          /* primordial spectral index */
    double A_s;          /* primordial amplitude at k = 0.05/Mpc: the value
                            given, or the one implied by sigma8 for EH98;
                            unused with a power table */
    double sigma8;       /* rms linear density in 8 Mpc/h top-hat spheres at
                            z = 0: the value given, or the one computed */
    int normalise_by_sigma8; /* 1 when sigma8 was given rather than A_s */

    double m_nu;         /* sum of the neutrino masses, eV (0: massless) */
    int n_nu;            /* massive species sharing m_nu equally (0 when
                            massless) */
    double f_nu;         /* Omega_nu / Omega_m */
    d3m_eh99 eh_nu, eh_massless; /* the EH99 fit with f_nu and with f_nu = 0 */

    d3m_power_kind power_kind;
    double power_norm;   /* P(k) = power_norm k^n_s T(k)^2 for EH98 (k in
                            h/Mpc), or the factor applied to the table */
    d3m_eh98 eh;

    /* Power table (D3M_POWER_TABLE): ln k and ln P, owned (malloc'ed). */
    double *table_ln_k, *table_ln_p;
    size_t table_size;

    /* Growth table, unnormalised (D1 = a early): per node, D1, dD1/dlna, D2,
     * dD2/dlna at ln a = ln(D3M_COSMO_A_MIN) + i * growth_step. */
    double growth_step;
    double growth_d1_today; /* unnormalised D1(a = 1) */
    double growth[D3M_COSMO_GROWTH_NODES][4];
} d3m_cosmology;

/* Set up a flat cosmology with the EH98 (wiggle) power spectrum. Exactly
 * one of A_s and sigma8 is > 0 and the other 0, and that one sets the
 * amplitude of P(k). Requires 0 < Omega_m <= 1, 0 < Omega_b < Omega_m,
 * 0 < h < 10 and 0 < n_s < 2. An invalid value returns D3M_ERR_ARG with a
 * message naming the parameter and leaves *c zeroed, which
 * d3m_cosmology_clear() accepts. */
int d3m_cosmology_init(d3m_cosmology *c, double omega_m, double omega_b, double h, double n_s,
                       double A_s, double sigma8);

/* Free the power table, if any, and zero *c. */
void d3m_cosmology_clear(d3m_cosmology *c);

/* Set Omega_k (default 0) and retabulate growth and the normalisation.
 * Requires Omega_m + Omega_k <= 1 and |Omega_k| < 1. */
int d3m_cosmology_set_curvature(d3m_cosmology *c, double omega_k);

/* Give the neutrinos a total mass m_nu (eV), shared by n_nu degenerate
 * massive species (Planck 2015: 0.06 eV in one species); m_nu = 0 makes
 * them massless again. Omega_m stays the total matter density and now
 * includes Omega_nu = m_nu / (93.14 eV h^2). EH98, with or without wiggles,
 * is multiplied by the neutrino suppression of the total matter at a = 1
 * of Eisenstein & Hu (1999, ApJ 511, 5): their transfer function with
 * f_nu times their scale-dependent growth, divided by their transfer
 * function with f_nu = 0. This lowers P(k) below the free-streaming scale
 * by 3.2 % for 0.06 eV, where CAMB gives 4.0 %. The
 * background and the growth functions D1, D2 stay those of cold matter:
 * the simulations scale the z = 0 power back with D1(a), the usual
 * treatment of light neutrinos in a cold N-body run. A power table is used
 * as given: make it with the same masses. Requires m_nu >= 0, 1 <= n_nu <= 3
 * and Omega_nu < Omega_m - Omega_b, and Omega_nu <= 0.3 Omega_m, the range
 * of the fit, unless P(k) is a table. Renormalises; on error *c is
 * unchanged. */
int d3m_cosmology_set_neutrinos(d3m_cosmology *c, double m_nu, int n_nu);

/* Choose D3M_POWER_EH98 or D3M_POWER_EH98_NOWIGGLE and renormalise. With
 * A_s given, both have the same large-scale amplitude; with sigma8 given,
 * the same sigma8. Use d3m_cosmology_set_power_table for D3M_POWER_TABLE. */
int d3m_cosmology_set_transfer(d3m_cosmology *c, d3m_power_kind kind);

/* Use a tabulated P(k) at z = 0: k in h/Mpc strictly increasing, P in
 * (Mpc/h)^3 positive, n >= 2; copied. P is interpolated linearly in
 * (ln k, ln P) and is an error outside [k[0], k[n-1]]. When the cosmology
 * was normalised by sigma8, the table is rescaled to that sigma8 (computed
 * over the table's k range). Otherwise the table is used as given and
 * sigma8 is computed from it. */
int d3m_cosmology_set_power_table(d3m_cosmology *c, const double *k, const double *P, size_t n);

/* Read a power table from a text file with columns k [h/Mpc] and P
 * [(Mpc/h)^3] separated by blanks, as CLASS and CAMB write them. Blank
 * lines and lines starting with '#' are skipped and extra columns ignored.
 * The table is then set as by d3m_cosmology_set_power_table. */
int d3m_cosmology_read_power_table(d3m_cosmology *c, const char *path);

/* ---- background and growth: NaN outside 0 < a <= D3M_COSMO_A_MAX -------- */

double d3m_cosmo_E(const d3m_cosmology *c, double a);          /* H(a)/H0 */
double d3m_cosmo_omega_m_a(const d3m_cosmology *c, double a);  /* Omega_m a^-3 / E^2 */
double d3m_cosmo_D1(const d3m_cosmology *c, double a);         /* D1(1) = 1 */
double d3m_cosmo_D2(const d3m_cosmology *c, double a);         /* ~ -3/7 D1^2, see above */
double d3m_cosmo_f1(const d3m_cosmology *c, double a);         /* dlnD1/dlna */
double d3m_cosmo_f2(const d3m_cosmology *c, double a);         /* dlnD2/dlna */

/* dD1/da = f1 D1 / a. */
double d3m_cosmo_dD1da(const d3m_cosmology *c, double a);

/* d^2 D1/da^2. From the growth equation, d/da (a^3 E dD1/da) equals
 * 1.5 Omega_m D1 / (a^2 E), which is what FastPM's kick factor needs. */
double d3m_cosmo_d2D1da2(const d3m_cosmology *c, double a);

/* ---- linear power at z = 0 ------------------------------------------------ */

/* P(k) in (Mpc/h)^3 for k in h/Mpc; 0 at k = 0. For EH98 with A_s:
 *   P(k) = (2 pi^2 / k^3) (4/25) A_s (k/k_pivot)^(n_s - 1)
 *          (k c/H0)^4 T(k)^2 (D1u(1)/Omega_m)^2,
 * D1u the growth with D1u = a early, c/H0 = 2997.92458 Mpc/h (Poisson
 * equation in matter domination with Phi = -(3/5) R on super-horizon
 * scales). NaN with a message when k < 0 or outside a power table. */
double d3m_cosmo_linear_power(const d3m_cosmology *c, double k);

/* The EH98 transfer function T(k), k in h/Mpc (T -> 1 as k -> 0), of the
 * current transfer kind (wiggle or no-wiggle; the wiggle one for tables),
 * times the neutrino growth suppression when m_nu > 0. */
double d3m_cosmo_transfer(const d3m_cosmology *c, double k);

/* sigma8 of the current P(k), computed at set-up by d3m_cosmo_sigma_r. */
double d3m_cosmo_sigma8(const d3m_cosmology *c);

/* rms linear density in a top-hat sphere of radius R Mpc/h at z = 0: the
 * integral over ln k by Simpson's rule, refined until sigma^2 changes by
 * less than 1e-10 relative; over the table's k range for a power table. */
double d3m_cosmo_sigma_r(const d3m_cosmology *c, double R);

/* Check that P(k) is defined on [k_min, k_max]. Returns D3M_ERR_VALUE with
 * a message when a power table does not cover that range. */
int d3m_cosmo_check_k_range(const d3m_cosmology *c, double k_min, double k_max);

#ifdef __cplusplus
}
#endif
#endif
