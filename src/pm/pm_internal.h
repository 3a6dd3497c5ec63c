/* pm_internal.h - CIC painting and readout on a mesh shifted against the
 * particles, shared by the gravity solver; not part of the public API. */
#ifndef D3M_PM_INTERNAL_H
#define D3M_PM_INTERNAL_H

#include "pm/pm.h"

/* d3m_pm_paint and d3m_pm_readout with the mesh nodes at (j - shift) box / n
 * instead of j box / n, shift in cells. */
int d3m_pm_paint_shifted(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                         double shift, float mass, const d3m_tensor *masses, d3m_tensor *mesh);
/* d3m_pm_paint_shifted into the fixed-point accumulator [2 n^3] given, or a
 * temporary one when accumulator is NULL; either way it is zeroed first. */
int d3m_pm_paint_accumulate(const d3m_tensor *particles, d3m_pm_coordinates kind, double box,
                            double shift, float mass, const d3m_tensor *masses,
                            d3m_tensor *accumulator, d3m_tensor *mesh);
int d3m_pm_readout_shifted(const d3m_tensor *mesh, const d3m_tensor *particles,
                           d3m_pm_coordinates kind, double box, double shift,
                           d3m_tensor *values);

/* The buffers of the PM force on one mesh, made once and reused by every
 * force computation of a simulation: the density and acceleration meshes,
 * their Fourier transforms and the wavenumber table of the gradient. */
typedef struct d3m_pm_force {
    size_t mesh_n;
    double box;              /* Mpc/h */
    d3m_tensor *density;     /* [n, n, n], made on first use */
    d3m_tensor *accel_mesh;  /* [3, n, n, n], made on first use */
    d3m_tensor *accumulator; /* [2 n^3] fixed-point paint words, made on first use */
    d3m_tensor *delta_k;     /* [n, n, n/2+1, 2] */
    d3m_tensor *accel_k;     /* [3, n, n, n/2+1, 2] */
    d3m_tensor *tables;      /* [2, n]: k and the gradient's K(k), h/Mpc */
} d3m_pm_force;

/* Check the arguments and make the buffers; on error *force is zeroed. */
int d3m_pm_force_init(d3m_pm_force *force, size_t mesh_n, double box, d3m_pm_gradient gradient);

/* Free the buffers and zero *force (a zeroed one is accepted). */
void d3m_pm_force_clear(d3m_pm_force *force);

/* d3m_pm_gravity_shifted with the buffers of force. */
int d3m_pm_force_compute(d3m_pm_force *force, const d3m_tensor *particles,
                         d3m_pm_coordinates kind, double shift, d3m_tensor *acceleration);

#endif
