/* cosmo_private.h - functions shared between the files of src/cosmo/. */
#ifndef D3M_COSMO_PRIVATE_H
#define D3M_COSMO_PRIVATE_H

#include "cosmo/cosmology.h"

/* Unnormalised growth state (D1, dD1/dlna, D2, dD2/dlna) at a, with
 * D1 = a and D2 = -3/7 a^2 at early times. */
int d3m_cosmo_growth_state(const d3m_cosmology *c, double a, double *state);

/* Fill c->eh from the parameters. */
void d3m_cosmo_eh98_setup(d3m_cosmology *c);

/* Fill *fit with the EH99 shape parameters for neutrino fraction f_nu
 * (c->eh and c->n_nu set). */
void d3m_cosmo_eh99_setup(const d3m_cosmology *c, double f_nu, d3m_eh99 *fit);

/* Raise D3M_ERR_ARG when f_nu is beyond the range of the EH99 fit and the
 * power kind uses it (every kind but a table). */
int d3m_cosmo_check_eh99_range(d3m_power_kind kind, double m_nu, double f_nu, double omega_m);

/* Set power_norm (and sigma8 or A_s, whichever was not given) for the
 * current power kind and growth table. */
int d3m_cosmo_normalise_power(d3m_cosmology *c);

#endif
