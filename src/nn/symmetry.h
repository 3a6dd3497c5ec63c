/* symmetry.h - the 48 symmetries of the periodic cube, for training-data
 * augmentation (He et al. 2019 augment with all of them).
 *
 * Index k in 0..47: k / 8 selects the axis permutation p (0: identity, in
 * lexicographic order of (p(0), p(1), p(2))), bit a of k % 8 reflects
 * output axis a through the origin (s_a = -1). A position maps as
 * y_a = s_a x_{p(a)} (mod n); a vector field also maps its components,
 * v'_a(y) = s_a v_{p(a)}(x). Index 0 is the identity. */
#ifndef D3M_SYMMETRY_H
#define D3M_SYMMETRY_H

#include "d3m.h"

#define D3M_CUBE_SYMMETRIES 48

/* The permutation (perm[a] = p(a)) and signs of symmetry k. */
int d3m_cube_symmetry_parts(int k, int perm[3], int sign[3]);

/* The index of the inverse of symmetry k. */
int d3m_cube_symmetry_inverse(int k);

/* output = symmetry k applied to input [N, C, n, n, n] or [C, n, n, n];
 * vector != 0 rotates the components of a C = 3 vector field. output has
 * the shape of input and must not alias it. */
int d3m_cube_symmetry(const d3m_tensor *input, int k, int vector, d3m_tensor *output);

#endif
