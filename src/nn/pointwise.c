/* pointwise.c - the 1x1x1 transposed convolution that ends the D3M network
 * (kernels in kernels/nn_pointwise.cl and kernels/nn_reduce.cl). */
#include "nn_internal.h"


/* Input layout, and Ci and Co from the weight's first two axes. */
static int pointwise_sizes(const d3m_tensor *input, const d3m_tensor *weight, nn_layout *layout,
                           size_t *cout)
{
    D3M_TRY(nn_layout_of(input, "pointwise input", layout));
    if (weight->ndim < 2 || weight->shape[0] != layout->c ||
        weight->numel != weight->shape[0] * weight->shape[1]) {
        char text[128];
        d3m_format_shape(text, sizeof text, weight->ndim, weight->shape);
        return d3m_fail(D3M_ERR_SHAPE, "pointwise weight: expected [%zu, Co, 1, 1, 1] (input "
                        "channels first, as ConvTranspose3d), got %s", layout->c, text);
    }
    *cout = weight->shape[1];
    return D3M_OK;
}


int d3m_pointwise_forward(const d3m_tensor *input, const d3m_tensor *weight,
                          const d3m_tensor *bias, d3m_tensor *output)
{
    nn_layout layout;
    size_t cout = 0;
    D3M_TRY(pointwise_sizes(input, weight, &layout, &cout));
    if (bias != NULL)
        D3M_TRY(nn_check_numel(bias, "pointwise bias", cout));
    D3M_TRY(nn_check_layout(output, "pointwise output", &layout, cout));
    if (output->buffer == input->buffer)
        return d3m_fail(D3M_ERR_ARG, "pointwise forward: output must not share input's buffer");

    size_t local[2] = {NN_LOCAL_SIZE, 1};
    size_t global[2] = {d3m_round_up(layout.s, NN_LOCAL_SIZE), layout.n};
    return d3m_launch("nn_pointwise.cl", "pointwise_forward", NULL, 2, global, local, "tttiiilt",
                      input, weight, bias ? bias : weight, bias != NULL, (int)layout.c, (int)cout,
                      (long long)layout.s, output);
}


int d3m_pointwise_backward_input(const d3m_tensor *grad_output, const d3m_tensor *weight,
                                 d3m_tensor *grad_input)
{
    nn_layout layout;
    size_t cout = 0;
    D3M_TRY(pointwise_sizes(grad_input, weight, &layout, &cout));
    D3M_TRY(nn_check_layout(grad_output, "pointwise grad_output", &layout, cout));
    if (grad_output->buffer == grad_input->buffer)
        return d3m_fail(D3M_ERR_ARG, "pointwise backward: grad_input must not share "
                        "grad_output's buffer");

    size_t local[2] = {NN_LOCAL_SIZE, 1};
    size_t global[2] = {d3m_round_up(layout.s, NN_LOCAL_SIZE), layout.n};
    return d3m_launch("nn_pointwise.cl", "pointwise_backward_input", NULL, 2, global, local,
                      "ttiilt", grad_output, weight, (int)layout.c, (int)cout, (long long)layout.s,
                      grad_input);
}


int d3m_pointwise_backward_weight(const d3m_tensor *grad_output, const d3m_tensor *input,
                                  d3m_tensor *grad_weight, d3m_tensor *grad_bias)
{
    nn_layout layout;
    size_t cout = 0;
    D3M_TRY(pointwise_sizes(input, grad_weight, &layout, &cout));
    D3M_TRY(nn_check_layout(grad_output, "pointwise grad_output", &layout, cout));
    if (grad_bias != NULL)
        D3M_TRY(nn_check_numel(grad_bias, "pointwise grad_bias", cout));

    size_t count = layout.n * layout.s;
    int groups = nn_reduce_groups(count);
    size_t pairs = layout.c * cout;
    size_t shape[1] = {(pairs > cout ? pairs : cout) * (size_t)groups};
    d3m_tensor *partial = NULL, *partial_b = NULL;
    D3M_TRY(d3m_tensor_new(1, shape, &partial));
    int status = d3m_tensor_new(1, shape, &partial_b);

    size_t local[2] = {NN_LOCAL_SIZE, 1};
    size_t global[2] = {(size_t)groups * NN_LOCAL_SIZE, pairs};
    if (status == D3M_OK)
        status = d3m_launch("nn_reduce.cl", "pair_partials", NULL, 2, global, local, "ttiillit",
                            input, grad_output, (int)layout.c, (int)cout, (long long)layout.s,
                            (long long)layout.n, groups, partial);
    if (status == D3M_OK)
        status = nn_partials_accumulate(partial, groups, pairs, grad_weight);
    if (status == D3M_OK && grad_bias != NULL) {
        nn_layout out_layout = {layout.n, cout, layout.s};
        status = nn_channel_partials(grad_output, NULL, NULL, &out_layout, groups, NN_MODE_SUM,
                                     partial, partial_b);
        if (status == D3M_OK)
            status = nn_partials_accumulate(partial, groups, cout, grad_bias);
    }
    d3m_tensor_free(partial);
    d3m_tensor_free(partial_b);
    return status;
}
