/* fastpm_cosmology.c - the FastPM background of a d3m_cosmology
 * (src/cosmo/cosmology.h). */
#include <math.h>

#include "cosmo/cosmology.h"
#include "pm/pm.h"


/* The cosmology functions return NaN outside their range and record the
 * message, so a NaN here is passed on as a failure. */
static int cosmology_growth(const void *context, double a, d3m_pm_growth *g)
{
    const d3m_cosmology *c = context;
    g->E = d3m_cosmo_E(c, a);
    g->D1 = d3m_cosmo_D1(c, a);
    g->D2 = d3m_cosmo_D2(c, a);
    g->f1 = d3m_cosmo_f1(c, a);
    g->f2 = d3m_cosmo_f2(c, a);
    g->dD1da = d3m_cosmo_dD1da(c, a);
    if (isnan(g->E) || isnan(g->D1) || isnan(g->D2) || isnan(g->f1) || isnan(g->f2) ||
        isnan(g->dD1da))
        return D3M_ERR_VALUE;
    return D3M_OK;
}


d3m_pm_background d3m_pm_background_of(const struct d3m_cosmology *c)
{
    d3m_pm_background background = {c->omega_m, cosmology_growth, c};
    return background;
}
