/* reduce.c - shape checks and per-channel partial reductions shared by the
 * nn operations (kernels in kernels/nn_reduce.cl). */
#include "nn_internal.h"


int nn_layout_of(const d3m_tensor *t, const char *what, nn_layout *layout)
{
    if (t->ndim < 2) {
        char text[128];
        d3m_format_shape(text, sizeof text, t->ndim, t->shape);
        return d3m_fail(D3M_ERR_SHAPE, "%s: expected an activation [N, C, ...] with at least 2 "
                        "dimensions, got %s", what, text);
    }
    layout->n = t->shape[0];
    layout->c = t->shape[1];
    layout->s = 1;
    for (int d = 2; d < t->ndim; d++)
        layout->s *= t->shape[d];
    return D3M_OK;
}


int nn_check_layout(const d3m_tensor *t, const char *what, const nn_layout *layout,
                    size_t channels)
{
    nn_layout other;
    D3M_TRY(nn_layout_of(t, what, &other));
    if (other.n == layout->n && other.c == channels && other.s == layout->s)
        return D3M_OK;
    char text[128];
    d3m_format_shape(text, sizeof text, t->ndim, t->shape);
    return d3m_fail(D3M_ERR_SHAPE, "%s: expected batch %zu, %zu channels and %zu voxels per "
                    "channel, got shape %s", what, layout->n, channels, layout->s, text);
}


int nn_check_numel(const d3m_tensor *t, const char *what, size_t count)
{
    if (t->numel == count)
        return D3M_OK;
    char text[128];
    d3m_format_shape(text, sizeof text, t->ndim, t->shape);
    return d3m_fail(D3M_ERR_SHAPE, "%s: expected %zu elements (one per channel), got shape %s",
                    what, count, text);
}


int nn_reduce_groups(size_t count)
{
    size_t groups = count / (NN_LOCAL_SIZE * 256);
    if (groups < 1)
        groups = 1;
    if (groups > NN_MAX_GROUPS)
        groups = NN_MAX_GROUPS;
    return (int)groups;
}


int nn_channel_partials(const d3m_tensor *x, const d3m_tensor *y, const d3m_tensor *m,
                        const nn_layout *layout, int groups, int mode, d3m_tensor *partial_a,
                        d3m_tensor *partial_b)
{
    size_t global[2] = {(size_t)groups * NN_LOCAL_SIZE, layout->c};
    size_t local[2] = {NN_LOCAL_SIZE, 1};
    return d3m_launch("nn_reduce.cl", "channel_partials", NULL, 2, global, local, "tttilliitt", x,
                      y ? y : x, m ? m : x, (int)layout->c, (long long)layout->s,
                      (long long)layout->n, groups, mode, partial_a, partial_b);
}


int nn_partials_accumulate(const d3m_tensor *partial, int groups, size_t count, d3m_tensor *out)
{
    size_t local = NN_LOCAL_SIZE, global = d3m_round_up(count, local);
    return d3m_launch("nn_reduce.cl", "partials_accumulate", NULL, 1, &global, &local, "tiit",
                      partial, groups, (int)count, out);
}
