/* nn_adam.cl - the fused Adam / AdamW element update (Kingma & Ba 2015,
 * Algorithm 1, in the form torch.optim.Adam and AdamW use: eps is added to
 * the bias-corrected sqrt(v), and L2 decay is either added to the gradient
 * or applied to the parameter, Loshchilov & Hutter 2019). */

/* step_size = lr / (1 - beta1^t); correction2_sqrt = sqrt(1 - beta2^t). */
__kernel void adam_step(__global float *param, __global const float *grad,
                        __global float *exp_avg, __global float *exp_avg_sq, const long n,
                        const float lr, const float beta1, const float beta2, const float eps,
                        const float weight_decay, const int decoupled, const float step_size,
                        const float correction2_sqrt)
{
    long i = get_global_id(0);
    if (i >= n)
        return;
    float p = param[i];
    float g = grad[i];
    if (decoupled)
        p *= 1.0f - lr * weight_decay;
    else
        g += weight_decay * p;

    float m = beta1 * exp_avg[i] + (1.0f - beta1) * g;
    float v = beta2 * exp_avg_sq[i] + (1.0f - beta2) * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = p - step_size * m / (sqrt(v) / correction2_sqrt + eps);
}
