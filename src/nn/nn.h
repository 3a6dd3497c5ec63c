/*
 * nn.h - neural-network kernels other than convolutions: batch
 * normalisation, ReLU, channel concatenation, MSE loss, a pointwise
 * (1x1x1) transposed convolution and the Adam update.
 *
 * Activations are float32 tensors [N, C, D, H, W] (any rank >= 2 works: the
 * axes after C are flattened into S voxels). Functions that produce
 * parameter gradients add to them (grad += ...), so the caller zeroes them
 * once per step; grad_input outputs are overwritten. Formulas follow
 * PyTorch 1.x (torch.nn.BatchNorm3d, torch.nn.MSELoss, torch.optim.Adam and
 * AdamW) so that checkpoints and hyperparameters carry over.
 */
#ifndef D3M_NN_H
#define D3M_NN_H

#include "d3m.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- batch normalisation ------------------------------------------------ */

/* y = (x - mean_c) invstd_c weight_c + bias_c per channel c.
 * training != 0: mean_c and the biased variance come from the batch (all of
 * N and the voxels, computed in two passes with compensated sums), and
 *   running_mean = (1 - momentum) running_mean + momentum mean_c
 *   running_var  = (1 - momentum) running_var  + momentum var_c M / (M - 1)
 * with M = N S values per channel (PyTorch's unbiased running variance);
 * M must be at least 2. training == 0: the running statistics are used and
 * not changed. save_mean and save_invstd ([C]) receive the mean and
 * 1/sqrt(var + eps) that were applied, for the backward pass.
 * weight, bias, running_mean, running_var: [C]. output may alias input. */
int d3m_batchnorm_forward(const d3m_tensor *input, const d3m_tensor *weight,
                          const d3m_tensor *bias, d3m_tensor *running_mean,
                          d3m_tensor *running_var, int training, double momentum, double eps,
                          d3m_tensor *output, d3m_tensor *save_mean, d3m_tensor *save_invstd);

/* Gradients of d3m_batchnorm_forward with the same training flag and the
 * saved statistics. grad_input (may be NULL to skip) is overwritten;
 * grad_weight and grad_bias ([C]) are accumulated. In training mode the
 * gradient includes the dependence of the batch mean and variance on x. */
int d3m_batchnorm_backward(const d3m_tensor *grad_output, const d3m_tensor *input,
                           const d3m_tensor *weight, const d3m_tensor *save_mean,
                           const d3m_tensor *save_invstd, int training, d3m_tensor *grad_input,
                           d3m_tensor *grad_weight, d3m_tensor *grad_bias);

/* ---- ReLU and channel concatenation -------------------------------------- */

/* output = max(input, 0); output may alias input. */
int d3m_relu_forward(const d3m_tensor *input, d3m_tensor *output);

/* grad_input = grad_output where input > 0, else 0. input may be the
 * forward output instead (the sign is the same); grad_input may alias
 * grad_output. */
int d3m_relu_backward(const d3m_tensor *grad_output, const d3m_tensor *input,
                      d3m_tensor *grad_input);

/* output [N, C1 + ... + Ck, ...] = the inputs [N, Ci, ...] stacked along
 * the channel axis (torch.cat(dim=1)). All other extents must agree. */
int d3m_concat_channels(int count, const d3m_tensor *const *inputs, d3m_tensor *output);

/* The inverse of d3m_concat_channels: outputs[i] receives its block of
 * channels of input, in order. The outputs' channel counts must sum to
 * input's. */
int d3m_split_channels(const d3m_tensor *input, int count, d3m_tensor *const *outputs);

/* ---- pointwise transposed convolution ------------------------------------ */

/* A ConvTranspose3d with kernel size 1 and stride 1 (ML-Recon's output
 * layer): y[n, o, s] = sum_i weight[i, o] x[n, i, s] + bias[o].
 * weight has PyTorch's transposed-convolution layout [Ci, Co, 1, 1, 1]
 * (any shape with Ci Co elements is accepted); bias [Co] may be NULL. */
int d3m_pointwise_forward(const d3m_tensor *input, const d3m_tensor *weight,
                          const d3m_tensor *bias, d3m_tensor *output);

/* grad_input[n, i, s] = sum_o weight[i, o] grad_output[n, o, s]. */
int d3m_pointwise_backward_input(const d3m_tensor *grad_output, const d3m_tensor *weight,
                                 d3m_tensor *grad_input);

/* grad_weight[i, o] += sum_{n,s} input[n, i, s] grad_output[n, o, s] and
 * grad_bias[o] += sum_{n,s} grad_output[n, o, s] (grad_bias may be NULL). */
int d3m_pointwise_backward_weight(const d3m_tensor *grad_output, const d3m_tensor *input,
                                  d3m_tensor *grad_weight, d3m_tensor *grad_bias);

/* ---- loss ------------------------------------------------------------------ */

/* *loss = mean over all elements of (prediction - target)^2, summed with
 * compensation on the device and in double on the host. */
int d3m_mse_loss(const d3m_tensor *prediction, const d3m_tensor *target, double *loss);

/* grad_input = scale 2 (prediction - target) / numel, the gradient of
 * scale * d3m_mse_loss with respect to prediction. */
int d3m_mse_backward(const d3m_tensor *prediction, const d3m_tensor *target, double scale,
                     d3m_tensor *grad_input);

/* ---- Adam ----------------------------------------------------------------- */

typedef struct d3m_adam_options {
    double lr;             /* learning rate */
    double beta1, beta2;   /* decay rates of the first and second moments */
    double eps;            /* added to sqrt(v_hat) */
    double weight_decay;   /* L2 coefficient, see decoupled */
    int decoupled;         /* 0: g += weight_decay p (torch.optim.Adam);
                              1: p *= 1 - lr weight_decay (torch.optim.AdamW) */
} d3m_adam_options;

/* One Adam update of count parameter tensors, with step the number of this
 * update (1 for the first), which sets the bias corrections
 * 1 - beta1^step and 1 - beta2^step:
 *   m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2,
 *   p -= lr / (1 - beta1^step) m / (sqrt(v) / sqrt(1 - beta2^step) + eps).
 * exp_avg (m) and exp_avg_sq (v) start at zero and have the parameters'
 * sizes. The element update is one fused kernel, launched once per tensor. */
int d3m_adam_step(int count, d3m_tensor *const *params, const d3m_tensor *const *grads,
                  d3m_tensor *const *exp_avg, d3m_tensor *const *exp_avg_sq, long step,
                  const d3m_adam_options *options);

#ifdef __cplusplus
}
#endif
#endif
