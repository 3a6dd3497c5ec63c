/* adam.c - the Adam / AdamW update over a list of parameter tensors
 * (kernel in kernels/nn_adam.cl). */
#include <math.h>

#include "nn_internal.h"


static int check_options(const d3m_adam_options *o, long step)
{
    if (step < 1)
        return d3m_fail(D3M_ERR_ARG, "adam: step = %ld must be at least 1 (the number of this "
                        "update)", step);
    if (!(o->lr >= 0.0) || !(o->eps > 0.0) || !(o->weight_decay >= 0.0))
        return d3m_fail(D3M_ERR_ARG, "adam: expected lr >= 0, eps > 0 and weight_decay >= 0, "
                        "got lr = %g, eps = %g, weight_decay = %g", o->lr, o->eps, o->weight_decay);
    if (!(o->beta1 >= 0.0 && o->beta1 < 1.0) || !(o->beta2 >= 0.0 && o->beta2 < 1.0))
        return d3m_fail(D3M_ERR_ARG, "adam: betas must lie in [0, 1), got %g and %g", o->beta1,
                        o->beta2);
    return D3M_OK;
}


int d3m_adam_step(int count, d3m_tensor *const *params, const d3m_tensor *const *grads,
                  d3m_tensor *const *exp_avg, d3m_tensor *const *exp_avg_sq, long step,
                  const d3m_adam_options *options)
{
    D3M_TRY(check_options(options, step));
    for (int i = 0; i < count; i++) {
        D3M_TRY(d3m_check_same_numel(params[i], grads[i], "adam (parameter and gradient)"));
        D3M_TRY(d3m_check_same_numel(params[i], exp_avg[i], "adam (parameter and exp_avg)"));
        D3M_TRY(d3m_check_same_numel(params[i], exp_avg_sq[i], "adam (parameter and exp_avg_sq)"));
    }

    /* Bias corrections in double: 1 - beta2^t is about 1e-3 t for beta2
     * = 0.999, so forming it in float would lose digits early on. */
    double correction1 = 1.0 - pow(options->beta1, (double)step);
    double correction2 = 1.0 - pow(options->beta2, (double)step);
    double step_size = options->lr / correction1;

    size_t local = NN_LOCAL_SIZE;
    for (int i = 0; i < count; i++) {
        size_t n = params[i]->numel, global = d3m_round_up(n, local);
        D3M_TRY(d3m_launch("nn_adam.cl", "adam_step", NULL, 1, &global, &local, "ttttlfffffiff",
                           params[i], grads[i], exp_avg[i], exp_avg_sq[i], (long long)n,
                           options->lr, options->beta1, options->beta2, options->eps,
                           options->weight_decay, options->decoupled != 0, step_size,
                           sqrt(correction2)));
    }
    return D3M_OK;
}
