/* elementwise.c - ReLU, channel concatenation and the MSE loss (kernels in
 * kernels/nn_elementwise.cl). */
#include <stdlib.h>

#include "nn_internal.h"

#define MSE_GROUPS 256   /* partial sums per loss evaluation */


static int launch_elementwise(const char *kernel, size_t n, const d3m_tensor *a,
                              const d3m_tensor *b, const d3m_tensor *c)
{
    size_t local = NN_LOCAL_SIZE, global = d3m_round_up(n, local);
    if (c == NULL)
        return d3m_launch("nn_elementwise.cl", kernel, NULL, 1, &global, &local, "ttl", a, b,
                          (long long)n);
    return d3m_launch("nn_elementwise.cl", kernel, NULL, 1, &global, &local, "tttl", a, b, c,
                      (long long)n);
}


int d3m_relu_forward(const d3m_tensor *input, d3m_tensor *output)
{
    D3M_TRY(d3m_check_same_numel(input, output, "relu forward"));
    return launch_elementwise("relu_forward", input->numel, input, output, NULL);
}


int d3m_relu_backward(const d3m_tensor *grad_output, const d3m_tensor *input,
                      d3m_tensor *grad_input)
{
    D3M_TRY(d3m_check_same_numel(grad_output, input, "relu backward (grad_output and input)"));
    D3M_TRY(d3m_check_same_numel(grad_output, grad_input, "relu backward (grad_input)"));
    return launch_elementwise("relu_backward", input->numel, grad_output, input, grad_input);
}


/* ---- concatenation along channels ------------------------------------------ */

/* Copy `block` channels between two activations of the same N and S. */
static int copy_channels(const d3m_tensor *src, const nn_layout *src_layout, size_t src_first,
                         d3m_tensor *dst, const nn_layout *dst_layout, size_t dst_first,
                         size_t block)
{
    size_t local[3] = {NN_LOCAL_SIZE, 1, 1};
    size_t global[3] = {d3m_round_up(src_layout->s, NN_LOCAL_SIZE), block, src_layout->n};
    return d3m_launch("nn_elementwise.cl", "channel_copy", NULL, 3, global, local, "tiitiiil",
                      src, (int)src_layout->c, (int)src_first, dst, (int)dst_layout->c,
                      (int)dst_first, (int)block, (long long)src_layout->s);
}


/* Check that the parts match whole along every axis but the channels,
 * which must sum to whole's. */
static int check_parts(const d3m_tensor *whole, const char *whole_name, int count,
                       const d3m_tensor *const *parts, const char *part_name, nn_layout *layout)
{
    if (count < 1)
        return d3m_fail(D3M_ERR_ARG, "%s: expected at least one %s, got %d", whole_name,
                        part_name, count);
    D3M_TRY(nn_layout_of(whole, whole_name, layout));
    size_t channels = 0;
    for (int i = 0; i < count; i++) {
        const d3m_tensor *part = parts[i];
        int same = part->ndim == whole->ndim && part->shape[0] == whole->shape[0];
        for (int d = 2; same && d < whole->ndim; d++)
            same = part->shape[d] == whole->shape[d];
        if (!same) {
            char a[128], b[128];
            d3m_format_shape(a, sizeof a, part->ndim, part->shape);
            d3m_format_shape(b, sizeof b, whole->ndim, whole->shape);
            return d3m_fail(D3M_ERR_SHAPE, "%s: %s %d has shape %s, which differs from %s "
                            "in an axis other than the channels (axis 2)", whole_name, part_name,
                            i + 1, a, b);
        }
        channels += part->shape[1];
    }
    if (channels != layout->c)
        return d3m_fail(D3M_ERR_SHAPE, "%s: the %ss have %zu channels together, but the "
                        "concatenation has %zu", whole_name, part_name, channels, layout->c);
    return D3M_OK;
}


int d3m_concat_channels(int count, const d3m_tensor *const *inputs, d3m_tensor *output)
{
    nn_layout layout;
    D3M_TRY(check_parts(output, "concat output", count, inputs, "input", &layout));
    size_t first = 0;
    for (int i = 0; i < count; i++) {
        nn_layout part;
        D3M_TRY(nn_layout_of(inputs[i], "concat input", &part));
        D3M_TRY(copy_channels(inputs[i], &part, 0, output, &layout, first, part.c));
        first += part.c;
    }
    return D3M_OK;
}


int d3m_split_channels(const d3m_tensor *input, int count, d3m_tensor *const *outputs)
{
    nn_layout layout;
    D3M_TRY(check_parts(input, "split input", count, (const d3m_tensor *const *)outputs,
                        "output", &layout));
    size_t first = 0;
    for (int i = 0; i < count; i++) {
        nn_layout part;
        D3M_TRY(nn_layout_of(outputs[i], "split output", &part));
        D3M_TRY(copy_channels(input, &layout, first, outputs[i], &part, 0, part.c));
        first += part.c;
    }
    return D3M_OK;
}


/* ---- MSE loss ---------------------------------------------------------------- */

int d3m_mse_loss(const d3m_tensor *prediction, const d3m_tensor *target, double *loss)
{
    D3M_TRY(d3m_check_same_numel(prediction, target, "mse loss (prediction and target)"));
    size_t n = prediction->numel;
    size_t groups = (n + NN_LOCAL_SIZE - 1) / NN_LOCAL_SIZE;
    if (groups > MSE_GROUPS)
        groups = MSE_GROUPS;

    size_t shape[1] = {groups};
    d3m_tensor *partials = NULL;
    D3M_TRY(d3m_tensor_new(1, shape, &partials));
    size_t local = NN_LOCAL_SIZE, global = groups * local;
    float host[MSE_GROUPS];
    int status = d3m_launch("nn_elementwise.cl", "mse_partials", NULL, 1, &global, &local, "ttlt",
                            prediction, target, (long long)n, partials);
    if (status == D3M_OK)
        status = d3m_tensor_read(partials, host);
    d3m_tensor_free(partials);
    D3M_TRY(status);

    double total = 0.0;
    for (size_t g = 0; g < groups; g++)
        total += (double)host[g];
    *loss = total / (double)n;
    return D3M_OK;
}


int d3m_mse_backward(const d3m_tensor *prediction, const d3m_tensor *target, double scale,
                     d3m_tensor *grad_input)
{
    D3M_TRY(d3m_check_same_numel(prediction, target, "mse backward (prediction and target)"));
    D3M_TRY(d3m_check_same_numel(prediction, grad_input, "mse backward (grad_input)"));
    size_t n = prediction->numel;
    size_t local = NN_LOCAL_SIZE, global = d3m_round_up(n, local);
    return d3m_launch("nn_elementwise.cl", "mse_backward", NULL, 1, &global, &local, "ttftl",
                      prediction, target, 2.0 * scale / (double)n, grad_input, (long long)n);
}
