/* nn_internal.h - helpers shared by the nn host files: activation layout
 * and the per-channel partial reductions of kernels/nn_reduce.cl. */
#ifndef D3M_NN_INTERNAL_H
#define D3M_NN_INTERNAL_H

#include "nn.h"
#include "runtime/runtime.h"

#define NN_LOCAL_SIZE 64   /* LOCAL_SIZE of the nn kernels */
#define NN_MAX_GROUPS 64   /* work-groups per channel in a reduction */

/* Sizes of an activation [N, C, ...]: S is the product of the axes after C
 * (1 for a 2-D tensor). */
typedef struct nn_layout {
    size_t n, c, s;
} nn_layout;

/* The layout of t, or D3M_ERR_SHAPE (naming `what`) when t has fewer than
 * two dimensions. */
int nn_layout_of(const d3m_tensor *t, const char *what, nn_layout *layout);

/* Check that t has the layout's N and S and `channels` channels. */
int nn_check_layout(const d3m_tensor *t, const char *what, const nn_layout *layout,
                    size_t channels);

/* Check that t has exactly `count` elements (a per-channel vector). */
int nn_check_numel(const d3m_tensor *t, const char *what, size_t count);

/* Work-groups per channel for a reduction over `count` values: enough that
 * each item sums a few hundred values, at most NN_MAX_GROUPS. */
int nn_reduce_groups(size_t count);

/* Run channel_partials (mode as in nn_reduce.cl) on x, y and m with the
 * layout, writing [C, groups] partials into partial_a and partial_b, which
 * must hold at least C * groups floats. */
int nn_channel_partials(const d3m_tensor *x, const d3m_tensor *y, const d3m_tensor *m,
                        const nn_layout *layout, int groups, int mode, d3m_tensor *partial_a,
                        d3m_tensor *partial_b);

/* out[k] += sum of partial[k * groups .. k * groups + groups) for k < count. */
int nn_partials_accumulate(const d3m_tensor *partial, int groups, size_t count, d3m_tensor *out);

enum { NN_MODE_SUM = 0, NN_MODE_CENTERED = 1, NN_MODE_GRAD = 2 };

#endif
