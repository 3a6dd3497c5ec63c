/* pm_internal.h - CIC painting and readout on a mesh shifted against the
 * particles, shared by the gravity solver; not part of the public API. */
#ifndef D3M_PM_INTERNAL_H
#define D3M_PM_INTERNAL_H

#include "pm/pm.h"

/* d3m_pm_paint and d3m_pm_readout with the mesh nodes at (j - shift) box / n
 * instead of j box / n, shift in cells. */
int d3m_pm_paint_shifted(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                         double shift, float mass, const d3m_tensor *masses, d3m_tensor *mesh);
int d3m_pm_readout_shifted(const d3m_tensor *mesh, const d3m_tensor *particles,
                           d3m_pm_coordinates kind, double box, double shift,
                           d3m_tensor *values);

#endif
