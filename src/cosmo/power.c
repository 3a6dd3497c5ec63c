/* power.c - the linear matter power spectrum at z = 0: the Eisenstein & Hu
 * (1998, ApJ 496, 605) transfer function with and without baryon
 * oscillations, times the massive-neutrino suppression of Eisenstein & Hu
 * (1999, ApJ 511, 5), or a tabulated P(k); normalisation by A_s or sigma8. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosmo/cosmo_private.h"
#include "cosmo/cosmology.h"
#include "runtime/runtime.h"

/* c/H0 in Mpc/h. */
#define HUBBLE_DISTANCE 2997.92458

/* Limits of the sigma(R) integral for EH98, in h/Mpc: the integrand falls
 * as k^(3+n_s) below and as ln^2(k)/k^4 above. */
#define SIGMA_K_MIN 1e-7
#define SIGMA_KR_MAX 2e4


void d3m_cosmo_eh98_setup(d3m_cosmology *c)
{
    d3m_eh98 *e = &c->eh;
    double theta = D3M_COSMO_T_CMB / 2.7;
    double theta4 = pow(theta, 4);
    double omhh = c->omega_m * c->h * c->h;
    double obhh = c->omega_b * c->h * c->h;
    double f_b = c->omega_b / c->omega_m;

    e->theta = theta;
    e->omhh = omhh;
    e->obhh = obhh;
    e->f_b = f_b;

    /* Equality (eqs. 2-3); z_eq is 1 + z in the paper's use. */
    double z_eq = 2.50e4 * omhh / theta4;
    e->z_eq = z_eq;
    e->k_eq = 0.0746 * omhh / (theta * theta);

    /* Drag epoch (eq. 4) and baryon-to-photon momentum ratio (eq. 5). */
    double b1 = 0.313 * pow(omhh, -0.419) * (1.0 + 0.607 * pow(omhh, 0.674));
    double b2 = 0.238 * pow(omhh, 0.223);
    double z_d = 1291.0 * pow(omhh, 0.251) / (1.0 + 0.659 * pow(omhh, 0.828)) *
                 (1.0 + b1 * pow(obhh, b2));
    e->z_drag = z_d;
    double r_d = 31.5 * obhh / theta4 * (1000.0 / (1.0 + z_d));
    double r_eq = 31.5 * obhh / theta4 * (1000.0 / z_eq);

    /* Sound horizon (eq. 6) and Silk scale (eq. 7). */
    e->s = 2.0 / (3.0 * e->k_eq) * sqrt(6.0 / r_eq) *
           log((sqrt(1.0 + r_d) + sqrt(r_d + r_eq)) / (1.0 + sqrt(r_eq)));
    e->k_silk = 1.6 * pow(obhh, 0.52) * pow(omhh, 0.73) * (1.0 + pow(10.4 * omhh, -0.95));

    /* CDM suppression and shift (eqs. 11-12). */
    double a1 = pow(46.9 * omhh, 0.670) * (1.0 + pow(32.1 * omhh, -0.532));
    double a2 = pow(12.0 * omhh, 0.424) * (1.0 + pow(45.0 * omhh, -0.582));
    e->alpha_c = pow(a1, -f_b) * pow(a2, -f_b * f_b * f_b);
    double bb1 = 0.944 / (1.0 + pow(458.0 * omhh, -0.708));
    double bb2 = pow(0.395 * omhh, -0.0266);
    e->beta_c = 1.0 / (1.0 + bb1 * (pow(1.0 - f_b, bb2) - 1.0));

    /* Baryon amplitude (eqs. 14-15), node shift and envelope (eqs. 23-24). */
    double y = z_eq / (1.0 + z_d);
    double sy = sqrt(1.0 + y);
    double g = y * (-6.0 * sy + (2.0 + 3.0 * y) * log((sy + 1.0) / (sy - 1.0)));
    e->alpha_b = 2.07 * e->k_eq * e->s * pow(1.0 + r_d, -0.75) * g;
    e->beta_node = 8.41 * pow(omhh, 0.435);
    e->beta_b = 0.5 + f_b + (3.0 - 2.0 * f_b) * sqrt(pow(17.2 * omhh, 2) + 1.0);

    /* No-wiggle fit (eqs. 26 and 31). */
    e->s_fit = 44.5 * log(9.83 / omhh) / sqrt(1.0 + 10.0 * pow(obhh, 0.75));
    e->alpha_gamma = 1.0 - 0.328 * log(431.0 * omhh) * f_b + 0.38 * log(22.3 * omhh) * f_b * f_b;
}


/* T~0(k, alpha, beta) of eqs. 19-20; q = k / (13.41 k_eq) (eq. 10). */
static double t_tilde(double q, double alpha, double beta)
{
    double l = log(M_E + 1.8 * beta * q);
    double c = 14.2 / alpha + 386.0 / (1.0 + 69.9 * pow(q, 1.08));
    return l / (l + c * q * q);
}


/* Full fit, eqs. 16-24; k in 1/Mpc. */
static double transfer_wiggle(const d3m_eh98 *e, double k)
{
    double q = k / (13.41 * e->k_eq);
    double ks = k * e->s;

    double f = 1.0 / (1.0 + pow(ks / 5.4, 4));
    double t_c = f * t_tilde(q, 1.0, e->beta_c) + (1.0 - f) * t_tilde(q, e->alpha_c, e->beta_c);

    double s_tilde = e->s / cbrt(1.0 + pow(e->beta_node / ks, 3));
    double x = k * s_tilde;
    double j0 = fabs(x) < 1e-4 ? 1.0 - x * x / 6.0 : sin(x) / x;
    double t_b = (t_tilde(q, 1.0, 1.0) / (1.0 + pow(ks / 5.2, 2)) +
                  e->alpha_b / (1.0 + pow(e->beta_b / ks, 3)) * exp(-pow(k / e->k_silk, 1.4))) *
                 j0;

    return e->f_b * t_b + (1.0 - e->f_b) * t_c;
}


/* Zero-oscillation fit, eqs. 26-31; k in 1/Mpc, h the Hubble parameter. */
static double transfer_nowiggle(const d3m_eh98 *e, double k, double h)
{
    double gamma = e->omhh / h * (e->alpha_gamma + (1.0 - e->alpha_gamma) /
                                                   (1.0 + pow(0.43 * k * e->s_fit, 4)));
    double q = k / h * e->theta * e->theta / gamma;
    double l0 = log(2.0 * M_E + 1.8 * q);
    double c0 = 14.2 + 731.0 / (1.0 + 62.5 * q);
    return l0 / (l0 + c0 * q * q);
}


void d3m_cosmo_eh99_setup(const d3m_cosmology *c, double f_nu, d3m_eh99 *fit)
{
    const d3m_eh98 *e = &c->eh;
    double f_c = 1.0 - e->f_b - f_nu;
    double f_cb = 1.0 - f_nu;
    double f_nub = f_nu + e->f_b;

    /* Growth exponents below the free-streaming scale (eq. 11), and the
     * redshift ratio y_d = (1 + z_eq) / (1 + z_drag) of EH98. */
    double p_c = 0.25 * (5.0 - sqrt(1.0 + 24.0 * f_c));
    double p_cb = 0.25 * (5.0 - sqrt(1.0 + 24.0 * f_cb));
    double y_d = e->z_eq / (1.0 + e->z_drag);

    /* Eq. 15 in the form of the authors' Fortran code, without the N_nu
     * factors of their C code. With those factors 0.06 eV in three species
     * is suppressed 1.4 % where CAMB gives 3.5 %; without them the small-scale
     * suppression matches CAMB to 0.5 % for one and for three species. */
    double alpha = f_c / f_cb * (5.0 - 2.0 * (p_c + p_cb)) / (5.0 - 4.0 * p_cb);
    alpha *= (1.0 - 0.553 * f_nub + 0.126 * f_nub * f_nub * f_nub);
    alpha /= 1.0 - 0.193 * sqrt(f_nu) + 0.169 * f_nu;
    alpha *= pow(1.0 + y_d, p_cb - p_c);
    alpha *= 1.0 + 0.5 * (p_c - p_cb) * (1.0 + 1.0 / ((3.0 - 4.0 * p_c) * (7.0 - 4.0 * p_cb))) /
                       (1.0 + y_d);

    fit->f_nu = f_nu;
    fit->p_cb = p_cb;
    fit->alpha_nu = alpha;
    fit->beta_c = 1.0 / (1.0 - 0.949 * f_nub);
}


/* EH99's transfer function of the total matter at a = 1, k in 1/Mpc:
 * T_master (eqs. 16-24, with the exponent 1.11 and the fitted sound horizon
 * of the authors' published code) times D_cbnu / D1 (eq. 12). Their D1 is 1 + z early,
 * which is (1 + z_eq) times our unnormalised growth D1u (= a early). */
static double transfer_eh99(const d3m_cosmology *c, const d3m_eh99 *fit, double k)
{
    const d3m_eh98 *e = &c->eh;
    double q = k * e->theta * e->theta / e->omhh;
    double sqrt_alpha = sqrt(fit->alpha_nu);
    double gamma = sqrt_alpha + (1.0 - sqrt_alpha) / (1.0 + pow(0.43 * k * e->s_fit, 4));
    double q_eff = q / gamma;
    double l = log(M_E + 1.84 * fit->beta_c * sqrt_alpha * q_eff);
    double t = l / (l + q_eff * q_eff * (14.4 + 325.0 / (1.0 + 60.5 * pow(q_eff, 1.11))));
    double f_nu = fit->f_nu;
    if (f_nu == 0.0)
        return t;

    /* Correction around the free-streaming scale (eqs. 22-23). */
    double n = c->n_nu;
    double q_nu = 3.92 * q * sqrt(n / f_nu);
    t *= 1.0 + 1.2 * pow(f_nu, 0.64) * pow(n, 0.3 + 0.6 * f_nu) /
                   (pow(q_nu, -1.6) + pow(q_nu, 0.8));

    /* Scale-dependent growth (eqs. 12 and 14). */
    double nq = n * q / f_nu;
    double y_fs = 17.2 * f_nu * (1.0 + 0.488 * pow(f_nu, -7.0 / 6.0)) * nq * nq;
    double d = e->z_eq * c->growth_d1_today;
    double p = fit->p_cb;
    double growth = pow(pow(1.0 - f_nu, 0.7 / p) + pow(d / (1.0 + y_fs), 0.7), p / 0.7) *
                    pow(d, -p);
    return t * growth;
}


double d3m_cosmo_transfer(const d3m_cosmology *c, double k)
{
    if (!(k > 0.0))
        return k == 0.0 ? 1.0 : NAN;
    double k_mpc = k * c->h;
    double t = c->power_kind == D3M_POWER_EH98_NOWIGGLE ? transfer_nowiggle(&c->eh, k_mpc, c->h)
                                                         : transfer_wiggle(&c->eh, k_mpc);
    if (c->f_nu > 0.0)
        t *= transfer_eh99(c, &c->eh_nu, k_mpc) / transfer_eh99(c, &c->eh_massless, k_mpc);
    return t;
}


/* P(k) without range checks, for k inside the valid range. */
static double power_unchecked(const d3m_cosmology *c, double k)
{
    if (c->power_kind == D3M_POWER_TABLE) {
        double x = log(k);
        size_t lo = 0, hi = c->table_size - 1;
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (c->table_ln_k[mid] <= x)
                lo = mid;
            else
                hi = mid;
        }
        double t = (x - c->table_ln_k[lo]) / (c->table_ln_k[hi] - c->table_ln_k[lo]);
        return c->power_norm * exp(c->table_ln_p[lo] + t * (c->table_ln_p[hi] - c->table_ln_p[lo]));
    }
    double t = d3m_cosmo_transfer(c, k);
    return c->power_norm * pow(k, c->n_s) * t * t;
}


int d3m_cosmo_check_k_range(const d3m_cosmology *c, double k_min, double k_max)
{
    if (c->power_kind != D3M_POWER_TABLE)
        return D3M_OK;
    double lo = exp(c->table_ln_k[0]);
    double hi = exp(c->table_ln_k[c->table_size - 1]);
    /* Allow for the rounding of exp(log(k)). */
    if (k_min < lo * (1.0 - 1e-12) || k_max > hi * (1.0 + 1e-12))
        return d3m_fail(D3M_ERR_VALUE, "P(k) is needed for %g <= k <= %g h/Mpc, but the power "
                        "table covers only %g to %g h/Mpc; extend the table", k_min, k_max, lo,
                        hi);
    return D3M_OK;
}


double d3m_cosmo_linear_power(const d3m_cosmology *c, double k)
{
    if (!(k >= 0.0)) {
        d3m_fail(D3M_ERR_VALUE, "invalid k = %g for P(k): expected k >= 0 (h/Mpc)", k);
        return NAN;
    }
    if (k == 0.0)
        return 0.0;
    if (d3m_cosmo_check_k_range(c, k, k) != D3M_OK)
        return NAN;
    if (c->power_kind == D3M_POWER_TABLE) {
        /* Clamp into the table after the tolerant range check. */
        double lo = exp(c->table_ln_k[0]), hi = exp(c->table_ln_k[c->table_size - 1]);
        k = fmin(fmax(k, lo), hi);
    }
    return power_unchecked(c, k);
}


/* Fourier transform of the top-hat sphere, W(x) = 3 (sin x - x cos x) / x^3. */
static double top_hat(double x)
{
    if (x < 0.1) {
        double x2 = x * x;
        return 1.0 - x2 / 10.0 + x2 * x2 / 280.0 - x2 * x2 * x2 / 15120.0;
    }
    return 3.0 * (sin(x) - x * cos(x)) / (x * x * x);
}


static double sigma_integrand(const d3m_cosmology *c, double ln_k, double R)
{
    double k = exp(ln_k);
    double w = top_hat(k * R);
    return k * k * k * power_unchecked(c, k) * w * w / (2.0 * M_PI * M_PI);
}


static double simpson(const d3m_cosmology *c, double lo, double hi, double R, int intervals)
{
    double step = (hi - lo) / intervals;
    double sum = sigma_integrand(c, lo, R) + sigma_integrand(c, hi, R);
    for (int i = 1; i < intervals; i++)
        sum += (i % 2 ? 4.0 : 2.0) * sigma_integrand(c, lo + i * step, R);
    return sum * step / 3.0;
}


/* sigma^2(R) = int dln k  k^3 P(k) / (2 pi^2) W^2(kR), by Simpson's rule in
 * ln k with the number of intervals doubled until two results agree to
 * 1e-10 relative (or 2^22 intervals). */
double d3m_cosmo_sigma_r(const d3m_cosmology *c, double R)
{
    double lo = log(SIGMA_K_MIN), hi = log(SIGMA_KR_MAX / R);
    if (c->power_kind == D3M_POWER_TABLE) {
        lo = c->table_ln_k[0];
        hi = c->table_ln_k[c->table_size - 1];
    }
    int intervals = 1024;
    double previous = simpson(c, lo, hi, R, intervals);
    for (;;) {
        intervals *= 2;
        double current = simpson(c, lo, hi, R, intervals);
        if (fabs(current - previous) <= 1e-10 * fabs(current) || intervals >= (1 << 22))
            return sqrt(current);
        previous = current;
    }
}


double d3m_cosmo_sigma8(const d3m_cosmology *c)
{
    return c->sigma8;
}


int d3m_cosmo_normalise_power(d3m_cosmology *c)
{
    if (c->power_kind == D3M_POWER_TABLE) {
        c->power_norm = 1.0;
        double sigma = d3m_cosmo_sigma_r(c, 8.0);
        if (c->normalise_by_sigma8)
            c->power_norm = pow(c->sigma8 / sigma, 2);
        else
            c->sigma8 = sigma;
        return D3M_OK;
    }

    /* P(k) = (8 pi^2/25) A_s (k h/k_pivot)^(n_s-1) (c/H0)^4 (D1u(1)/Omega_m)^2 k T^2
     * with k in h/Mpc; see d3m_cosmo_linear_power in cosmology.h. */
    double growth = c->growth_d1_today / c->omega_m;
    double unit = 8.0 * M_PI * M_PI / 25.0 * pow(c->h / D3M_COSMO_K_PIVOT, c->n_s - 1.0) *
                  pow(HUBBLE_DISTANCE, 4) * growth * growth;
    if (c->normalise_by_sigma8) {
        c->power_norm = unit;
        double sigma_unit = d3m_cosmo_sigma_r(c, 8.0);
        c->A_s = pow(c->sigma8 / sigma_unit, 2);
        c->power_norm = unit * c->A_s;
    } else {
        c->power_norm = unit * c->A_s;
        c->sigma8 = d3m_cosmo_sigma_r(c, 8.0);
    }
    if (!isfinite(c->power_norm) || !(c->power_norm > 0.0))
        return d3m_fail(D3M_ERR_VALUE, "the normalisation of P(k) came out as %g; check the "
                        "cosmological parameters", c->power_norm);
    return D3M_OK;
}


int d3m_cosmology_set_transfer(d3m_cosmology *c, d3m_power_kind kind)
{
    if (kind != D3M_POWER_EH98 && kind != D3M_POWER_EH98_NOWIGGLE)
        return d3m_fail(D3M_ERR_ARG, "invalid transfer kind %d: expected D3M_POWER_EH98 (%d) or "
                        "D3M_POWER_EH98_NOWIGGLE (%d); use d3m_cosmology_set_power_table for "
                        "tables", (int)kind, D3M_POWER_EH98, D3M_POWER_EH98_NOWIGGLE);
    D3M_TRY(d3m_cosmo_check_eh99_range(kind, c->m_nu, c->f_nu, c->omega_m));
    c->power_kind = kind;
    return d3m_cosmo_normalise_power(c);
}


int d3m_cosmology_set_power_table(d3m_cosmology *c, const double *k, const double *P, size_t n)
{
    if (n < 2)
        return d3m_fail(D3M_ERR_ARG, "a power table needs at least 2 rows, got %zu", n);
    for (size_t i = 0; i < n; i++) {
        if (!(k[i] > 0.0) || !isfinite(k[i]))
            return d3m_fail(D3M_ERR_ARG, "power table row %zu: invalid k = %g, expected k > 0",
                            i + 1, k[i]);
        if (!(P[i] > 0.0) || !isfinite(P[i]))
            return d3m_fail(D3M_ERR_ARG, "power table row %zu: invalid P = %g, expected P > 0 "
                            "(log-log interpolation)", i + 1, P[i]);
        if (i > 0 && !(k[i] > k[i - 1]))
            return d3m_fail(D3M_ERR_ARG, "power table row %zu: k = %g does not increase (previous "
                            "k = %g); sort the table by k and remove duplicates", i + 1, k[i],
                            k[i - 1]);
    }

    double *ln_k = malloc(n * sizeof *ln_k);
    double *ln_p = malloc(n * sizeof *ln_p);
    if (ln_k == NULL || ln_p == NULL) {
        free(ln_k);
        free(ln_p);
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for a power table of %zu rows", n);
    }
    for (size_t i = 0; i < n; i++) {
        ln_k[i] = log(k[i]);
        ln_p[i] = log(P[i]);
    }
    free(c->table_ln_k);
    free(c->table_ln_p);
    c->table_ln_k = ln_k;
    c->table_ln_p = ln_p;
    c->table_size = n;
    c->power_kind = D3M_POWER_TABLE;
    return d3m_cosmo_normalise_power(c);
}


/* Append one row to growing arrays. */
static int append_row(double **k, double **p, size_t *n, size_t *capacity, double kv, double pv)
{
    if (*n == *capacity) {
        size_t grown = *capacity ? 2 * *capacity : 256;
        double *nk = realloc(*k, grown * sizeof *nk);
        if (nk == NULL)
            return D3M_ERR_MEMORY;
        *k = nk;
        double *np = realloc(*p, grown * sizeof *np);
        if (np == NULL)
            return D3M_ERR_MEMORY;
        *p = np;
        *capacity = grown;
    }
    (*k)[*n] = kv;
    (*p)[*n] = pv;
    *n += 1;
    return D3M_OK;
}


int d3m_cosmology_read_power_table(d3m_cosmology *c, const char *path)
{
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return d3m_fail(D3M_ERR_IO, "cannot open power table '%s': %s", path, strerror(errno));

    double *k = NULL, *p = NULL;
    size_t n = 0, capacity = 0;
    char line[4096];
    int line_number = 0, status = D3M_OK;
    while (status == D3M_OK && fgets(line, sizeof line, file) != NULL) {
        line_number++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '\0' || *s == '#')
            continue;

        char *end = NULL;
        double kv = strtod(s, &end);
        char *after_k = end;
        double pv = strtod(after_k, &end);
        if (after_k == s || end == after_k) {
            line[strcspn(line, "\r\n")] = '\0';
            status = d3m_fail(D3M_ERR_IO, "power table '%s' line %d: expected two numbers "
                              "(k [h/Mpc] and P [(Mpc/h)^3]), got \"%.60s\"", path, line_number,
                              line);
            break;
        }
        if (append_row(&k, &p, &n, &capacity, kv, pv) != D3M_OK)
            status = d3m_fail(D3M_ERR_MEMORY, "out of host memory reading power table '%s'",
                              path);
    }
    fclose(file);

    if (status == D3M_OK && n < 2)
        status = d3m_fail(D3M_ERR_IO, "power table '%s' has %zu data rows; at least 2 are needed",
                          path, n);
    if (status == D3M_OK) {
        status = d3m_cosmology_set_power_table(c, k, p, n);
        if (status != D3M_OK) {
            char message[512];
            snprintf(message, sizeof message, "%s", d3m_last_error());
            status = d3m_fail(status, "power table '%s': %s", path, message);
        }
    }
    free(k);
    free(p);
    return status;
}
