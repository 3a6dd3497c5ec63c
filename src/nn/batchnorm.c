/* batchnorm.c - BatchNorm3d forward and backward (kernels in
 * kernels/nn_batchnorm.cl and kernels/nn_reduce.cl). */
#include "nn_internal.h"


static int check_vector(const d3m_tensor *t, const char *what, size_t channels)
{
    if (t == NULL)
        return d3m_fail(D3M_ERR_ARG, "%s is missing (NULL)", what);
    return nn_check_numel(t, what, channels);
}


/* Scratch for two [C, groups] partial arrays. */
static int new_partials(size_t channels, int groups, d3m_tensor **a, d3m_tensor **b)
{
    size_t shape[1] = {channels * (size_t)groups};
    D3M_TRY(d3m_tensor_new(1, shape, a));
    int status = d3m_tensor_new(1, shape, b);
    if (status != D3M_OK) {
        d3m_tensor_free(*a);
        *a = NULL;
    }
    return status;
}


/* Batch mean into save_mean, then 1/sqrt(var + eps) into save_invstd and
 * the running statistics, by two passes over the input. */
static int batch_statistics(const d3m_tensor *input, const nn_layout *layout,
                            d3m_tensor *running_mean, d3m_tensor *running_var, double momentum,
                            double eps, d3m_tensor *save_mean, d3m_tensor *save_invstd)
{
    size_t count = layout->n * layout->s;
    int groups = nn_reduce_groups(count);
    d3m_tensor *partial_a = NULL, *partial_b = NULL;
    D3M_TRY(new_partials(layout->c, groups, &partial_a, &partial_b));

    size_t local = NN_LOCAL_SIZE, global = d3m_round_up(layout->c, local);
    int status = nn_channel_partials(input, NULL, NULL, layout, groups, NN_MODE_SUM, partial_a,
                                     partial_b);
    if (status == D3M_OK)
        status = d3m_launch("nn_batchnorm.cl", "bn_mean", NULL, 1, &global, &local, "tiilt",
                            partial_a, groups, (int)layout->c, (long long)count, save_mean);
    if (status == D3M_OK)
        status = nn_channel_partials(input, NULL, save_mean, layout, groups, NN_MODE_CENTERED,
                                     partial_a, partial_b);
    if (status == D3M_OK)
        status = d3m_launch("nn_batchnorm.cl", "bn_finalize", NULL, 1, &global, &local,
                            "ttiilfftttt", partial_a, partial_b, groups, (int)layout->c,
                            (long long)count, momentum, eps, save_mean, save_invstd,
                            running_mean, running_var);
    d3m_tensor_free(partial_a);
    d3m_tensor_free(partial_b);
    return status;
}


int d3m_batchnorm_forward(const d3m_tensor *input, const d3m_tensor *weight,
                          const d3m_tensor *bias, d3m_tensor *running_mean,
                          d3m_tensor *running_var, int training, double momentum, double eps,
                          d3m_tensor *output, d3m_tensor *save_mean, d3m_tensor *save_invstd)
{
    nn_layout layout;
    D3M_TRY(nn_layout_of(input, "batchnorm input", &layout));
    D3M_TRY(check_vector(weight, "batchnorm weight", layout.c));
    D3M_TRY(check_vector(bias, "batchnorm bias", layout.c));
    D3M_TRY(check_vector(running_mean, "batchnorm running_mean", layout.c));
    D3M_TRY(check_vector(running_var, "batchnorm running_var", layout.c));
    D3M_TRY(check_vector(save_mean, "batchnorm save_mean", layout.c));
    D3M_TRY(check_vector(save_invstd, "batchnorm save_invstd", layout.c));
    D3M_TRY(nn_check_layout(output, "batchnorm output", &layout, layout.c));
    if (!(eps > 0.0) || !(momentum >= 0.0 && momentum <= 1.0))
        return d3m_fail(D3M_ERR_ARG, "batchnorm: eps = %g must be positive and momentum = %g "
                        "within [0, 1]", eps, momentum);

    size_t local = NN_LOCAL_SIZE;
    if (training) {
        if (layout.n * layout.s < 2)
            return d3m_fail(D3M_ERR_SHAPE, "batchnorm in training mode needs at least 2 values "
                            "per channel, got 1 (batch 1 of one voxel); use evaluation mode");
        D3M_TRY(batch_statistics(input, &layout, running_mean, running_var, momentum, eps,
                                 save_mean, save_invstd));
    } else {
        size_t global = d3m_round_up(layout.c, local);
        D3M_TRY(d3m_launch("nn_batchnorm.cl", "bn_eval_stats", NULL, 1, &global, &local, "ttiftt",
                           running_mean, running_var, (int)layout.c, eps, save_mean, save_invstd));
    }

    size_t rows_local[3] = {NN_LOCAL_SIZE, 1, 1};
    size_t rows_global[3] = {d3m_round_up(layout.s, NN_LOCAL_SIZE), layout.c, layout.n};
    return d3m_launch("nn_batchnorm.cl", "bn_normalize", NULL, 3, rows_global, rows_local,
                      "ttttttil", input, output, save_mean, save_invstd, weight, bias,
                      (int)layout.c, (long long)layout.s);
}


int d3m_batchnorm_backward(const d3m_tensor *grad_output, const d3m_tensor *input,
                           const d3m_tensor *weight, const d3m_tensor *save_mean,
                           const d3m_tensor *save_invstd, int training, d3m_tensor *grad_input,
                           d3m_tensor *grad_weight, d3m_tensor *grad_bias)
{
    nn_layout layout;
    D3M_TRY(nn_layout_of(input, "batchnorm input", &layout));
    D3M_TRY(nn_check_layout(grad_output, "batchnorm grad_output", &layout, layout.c));
    if (grad_input != NULL)
        D3M_TRY(nn_check_layout(grad_input, "batchnorm grad_input", &layout, layout.c));
    D3M_TRY(check_vector(weight, "batchnorm weight", layout.c));
    D3M_TRY(check_vector(save_mean, "batchnorm save_mean", layout.c));
    D3M_TRY(check_vector(save_invstd, "batchnorm save_invstd", layout.c));
    D3M_TRY(check_vector(grad_weight, "batchnorm grad_weight", layout.c));
    D3M_TRY(check_vector(grad_bias, "batchnorm grad_bias", layout.c));

    size_t count = layout.n * layout.s;
    int groups = nn_reduce_groups(count);
    d3m_tensor *partial_a = NULL, *partial_b = NULL, *sums = NULL;
    size_t sums_shape[1] = {2 * layout.c};
    D3M_TRY(new_partials(layout.c, groups, &partial_a, &partial_b));
    int status = d3m_tensor_new(1, sums_shape, &sums);

    size_t local = NN_LOCAL_SIZE, global = d3m_round_up(layout.c, local);
    if (status == D3M_OK)
        status = nn_channel_partials(input, grad_output, save_mean, &layout, groups, NN_MODE_GRAD,
                                     partial_a, partial_b);
    if (status == D3M_OK)
        status = d3m_launch("nn_batchnorm.cl", "bn_backward_params", NULL, 1, &global, &local,
                            "ttiitttt", partial_a, partial_b, groups, (int)layout.c, save_invstd,
                            sums, grad_weight, grad_bias);
    if (status == D3M_OK && grad_input != NULL) {
        size_t rows_local[3] = {NN_LOCAL_SIZE, 1, 1};
        size_t rows_global[3] = {d3m_round_up(layout.s, NN_LOCAL_SIZE), layout.c, layout.n};
        status = d3m_launch("nn_batchnorm.cl", "bn_backward_input", NULL, 3, rows_global,
                            rows_local, "ttttttillit", grad_output, input, save_mean, save_invstd,
                            weight, sums, (int)layout.c, (long long)layout.s, (long long)count,
                            training != 0, grad_input);
    }
    d3m_tensor_free(partial_a);
    d3m_tensor_free(partial_b);
    d3m_tensor_free(sums);
    return status;
}
