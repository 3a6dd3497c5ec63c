/* l_nn.c - d3m.ops: the stateless nn kernels other than convolutions
 * (batch norm, ReLU, channel concat/split, MSE, pointwise transposed
 * convolution, Adam). Optional output tensors come last so that training
 * loops reuse memory; the Lua modules in lua/d3m/nn/ keep the state. */
#include <stdlib.h>

#include "lbind.h"
#include "nn/nn.h"

int d3m_open_nn(lua_State *L);

#define MAX_LIST 1024   /* tensors per concat/split/adam list */


/* ---- batch normalisation ------------------------------------------------------ */

/* ops.batchnorm_forward(input, weight, bias, running_mean, running_var,
 *   training, momentum, eps [, out, save_mean, save_invstd])
 *   -> out, save_mean, save_invstd */
static int l_batchnorm_forward(lua_State *L)
{
    d3m_tensor *input = d3m_lua_check_tensor(L, 1);
    d3m_tensor *weight = d3m_lua_check_tensor(L, 2);
    d3m_tensor *bias = d3m_lua_check_tensor(L, 3);
    d3m_tensor *running_mean = d3m_lua_check_tensor(L, 4);
    d3m_tensor *running_var = d3m_lua_check_tensor(L, 5);
    luaL_checktype(L, 6, LUA_TBOOLEAN);
    int training = lua_toboolean(L, 6);
    double momentum = luaL_checknumber(L, 7);
    double eps = luaL_checknumber(L, 8);
    if (input->ndim < 2)
        luaL_argerror(L, 1, "an activation [N, C, ...] expected");
    size_t vec[1] = {input->shape[1]};

    d3m_tensor *out = d3m_lua_output_tensor(L, 9, input->ndim, input->shape,
                                            "output of batchnorm_forward");
    d3m_tensor *mean = d3m_lua_output_tensor(L, 10, 1, vec, "save_mean of batchnorm_forward");
    d3m_tensor *invstd = d3m_lua_output_tensor(L, 11, 1, vec, "save_invstd of batchnorm_forward");
    d3m_lua_check(L, d3m_batchnorm_forward(input, weight, bias, running_mean, running_var,
                                           training, momentum, eps, out, mean, invstd));
    return 3;
}


/* ops.batchnorm_backward(grad_out, input, weight, save_mean, save_invstd,
 *   training, grad_weight, grad_bias [, grad_in | false]) -> grad_in
 * grad_weight and grad_bias accumulate; false skips grad_in (returns nil). */
static int l_batchnorm_backward(lua_State *L)
{
    d3m_tensor *grad_out = d3m_lua_check_tensor(L, 1);
    d3m_tensor *input = d3m_lua_check_tensor(L, 2);
    d3m_tensor *weight = d3m_lua_check_tensor(L, 3);
    d3m_tensor *mean = d3m_lua_check_tensor(L, 4);
    d3m_tensor *invstd = d3m_lua_check_tensor(L, 5);
    luaL_checktype(L, 6, LUA_TBOOLEAN);
    int training = lua_toboolean(L, 6);
    d3m_tensor *grad_weight = d3m_lua_check_tensor(L, 7);
    d3m_tensor *grad_bias = d3m_lua_check_tensor(L, 8);

    d3m_tensor *grad_in = NULL;
    if (lua_isboolean(L, 9) && !lua_toboolean(L, 9))
        lua_pushnil(L);
    else
        grad_in = d3m_lua_output_tensor(L, 9, input->ndim, input->shape,
                                        "grad_in of batchnorm_backward");
    d3m_lua_check(L, d3m_batchnorm_backward(grad_out, input, weight, mean, invstd, training,
                                            grad_in, grad_weight, grad_bias));
    return 1;
}


/* ---- ReLU ---------------------------------------------------------------------- */

/* ops.relu_forward(input [, out]) -> out (out may be input: in place) */
static int l_relu_forward(lua_State *L)
{
    d3m_tensor *input = d3m_lua_check_tensor(L, 1);
    d3m_tensor *out = d3m_lua_output_tensor(L, 2, input->ndim, input->shape,
                                            "output of relu_forward");
    d3m_lua_check(L, d3m_relu_forward(input, out));
    return 1;
}


/* ops.relu_backward(grad_out, input_or_output [, grad_in]) -> grad_in */
static int l_relu_backward(lua_State *L)
{
    d3m_tensor *grad_out = d3m_lua_check_tensor(L, 1);
    d3m_tensor *input = d3m_lua_check_tensor(L, 2);
    d3m_tensor *grad_in = d3m_lua_output_tensor(L, 3, input->ndim, input->shape,
                                                "grad_in of relu_backward");
    d3m_lua_check(L, d3m_relu_backward(grad_out, input, grad_in));
    return 1;
}


/* ---- concatenation -------------------------------------------------------------- */

/* Read a sequence of tensors at idx into list (anchored by the table). */
static int check_tensor_list(lua_State *L, int idx, const char *what, d3m_tensor **list)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer count = luaL_len(L, idx);
    if (count < 1 || count > MAX_LIST)
        luaL_error(L, "%s: expected a list of 1 to %d tensors, got %d entries", what, MAX_LIST,
                   (int)count);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, idx, i);
        d3m_tensor **slot = luaL_testudata(L, -1, D3M_TENSOR_METATABLE);
        if (slot == NULL || *slot == NULL)
            luaL_error(L, "%s: entry %d is %s, expected a live d3m.tensor", what, (int)i,
                       slot ? "a freed tensor" : luaL_typename(L, -1));
        list[i - 1] = *slot;
        lua_pop(L, 1);
    }
    return (int)count;
}


/* ops.concat({a, b, ...} [, out]) -> out, the inputs stacked along axis 2
 * (channels) as torch.cat(dim=1). */
static int l_concat(lua_State *L)
{
    lua_settop(L, 2);   /* the scratch list goes above the optional output */
    d3m_tensor **inputs = lua_newuserdatauv(L, MAX_LIST * sizeof *inputs, 0);
    int count = check_tensor_list(L, 1, "concat", inputs);
    const d3m_tensor *first = inputs[0];
    if (first->ndim < 2)
        luaL_error(L, "concat: inputs must be activations [N, C, ...]");
    size_t shape[D3M_MAX_DIMS];
    for (int d = 0; d < first->ndim; d++)
        shape[d] = first->shape[d];
    shape[1] = 0;
    for (int i = 0; i < count; i++)
        shape[1] += inputs[i]->ndim >= 2 ? inputs[i]->shape[1] : 0;
    d3m_tensor *out = d3m_lua_output_tensor(L, 2, first->ndim, shape, "output of concat");
    d3m_lua_check(L, d3m_concat_channels(count, (const d3m_tensor *const *)inputs, out));
    return 1;
}


/* ops.split(input, parts) -> {t1, t2, ...}: parts is a list of output
 * tensors to fill, or a list of channel counts for new tensors. */
static int l_split(lua_State *L)
{
    lua_settop(L, 2);
    d3m_tensor *input = d3m_lua_check_tensor(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (input->ndim < 2)
        luaL_argerror(L, 1, "an activation [N, C, ...] expected");
    lua_Integer count = luaL_len(L, 2);
    if (count < 1 || count > MAX_LIST)
        luaL_argerror(L, 2, "a list of 1 or more tensors or channel counts expected");

    d3m_tensor **outputs = lua_newuserdatauv(L, MAX_LIST * sizeof *outputs, 0);
    lua_createtable(L, (int)count, 0);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, 2, i);
        if (lua_isinteger(L, -1)) {
            lua_Integer channels = lua_tointeger(L, -1);
            if (channels < 1)
                luaL_error(L, "split: channel count %d at entry %d must be positive",
                           (int)channels, (int)i);
            lua_pop(L, 1);
            size_t shape[D3M_MAX_DIMS];
            for (int d = 0; d < input->ndim; d++)
                shape[d] = input->shape[d];
            shape[1] = (size_t)channels;
            outputs[i - 1] = d3m_lua_new_tensor(L, input->ndim, shape);
        } else {
            d3m_tensor **slot = luaL_testudata(L, -1, D3M_TENSOR_METATABLE);
            if (slot == NULL || *slot == NULL)
                luaL_error(L, "split: entry %d is %s, expected a tensor or a channel count",
                           (int)i, slot ? "a freed tensor" : luaL_typename(L, -1));
            outputs[i - 1] = *slot;
        }
        lua_seti(L, -2, i);
    }
    d3m_lua_check(L, d3m_split_channels(input, (int)count, outputs));
    return 1;
}


/* ---- MSE ------------------------------------------------------------------------ */

/* ops.mse_loss(prediction, target) -> mean squared difference (number) */
static int l_mse_loss(lua_State *L)
{
    double loss = 0.0;
    d3m_lua_check(L, d3m_mse_loss(d3m_lua_check_tensor(L, 1), d3m_lua_check_tensor(L, 2), &loss));
    lua_pushnumber(L, loss);
    return 1;
}


/* ops.mse_backward(prediction, target [, grad_in [, scale]]) -> grad_in
 * = scale 2 (prediction - target) / numel (scale defaults to 1). */
static int l_mse_backward(lua_State *L)
{
    d3m_tensor *pred = d3m_lua_check_tensor(L, 1);
    d3m_tensor *target = d3m_lua_check_tensor(L, 2);
    double scale = luaL_optnumber(L, 4, 1.0);
    d3m_tensor *grad = d3m_lua_output_tensor(L, 3, pred->ndim, pred->shape,
                                             "grad_in of mse_backward");
    d3m_lua_check(L, d3m_mse_backward(pred, target, scale, grad));
    return 1;
}


/* ---- pointwise transposed convolution ------------------------------------------ */

/* ops.pointwise_forward(input, weight [Ci, Co, 1, 1, 1], bias or nil [, out])
 *   -> out [N, Co, ...] */
static int l_pointwise_forward(lua_State *L)
{
    d3m_tensor *input = d3m_lua_check_tensor(L, 1);
    d3m_tensor *weight = d3m_lua_check_tensor(L, 2);
    d3m_tensor *bias = d3m_lua_opt_tensor(L, 3);
    if (input->ndim < 2 || weight->ndim < 2)
        luaL_error(L, "pointwise_forward: expected input [N, Ci, ...] and weight [Ci, Co, ...]");
    size_t shape[D3M_MAX_DIMS];
    for (int d = 0; d < input->ndim; d++)
        shape[d] = input->shape[d];
    shape[1] = weight->shape[1];
    d3m_tensor *out = d3m_lua_output_tensor(L, 4, input->ndim, shape,
                                            "output of pointwise_forward");
    d3m_lua_check(L, d3m_pointwise_forward(input, weight, bias, out));
    return 1;
}


/* ops.pointwise_backward_input(grad_out, weight [, grad_in]) -> grad_in */
static int l_pointwise_backward_input(lua_State *L)
{
    d3m_tensor *grad_out = d3m_lua_check_tensor(L, 1);
    d3m_tensor *weight = d3m_lua_check_tensor(L, 2);
    if (grad_out->ndim < 2 || weight->ndim < 2)
        luaL_error(L, "pointwise_backward_input: expected grad_out [N, Co, ...] and weight "
                   "[Ci, Co, ...]");
    size_t shape[D3M_MAX_DIMS];
    for (int d = 0; d < grad_out->ndim; d++)
        shape[d] = grad_out->shape[d];
    shape[1] = weight->shape[0];
    d3m_tensor *grad_in = d3m_lua_output_tensor(L, 3, grad_out->ndim, shape,
                                                "grad_in of pointwise_backward_input");
    d3m_lua_check(L, d3m_pointwise_backward_input(grad_out, weight, grad_in));
    return 1;
}


/* ops.pointwise_backward_weight(grad_out, input, grad_weight, grad_bias or nil)
 * accumulates into grad_weight and grad_bias. */
static int l_pointwise_backward_weight(lua_State *L)
{
    d3m_lua_check(L, d3m_pointwise_backward_weight(d3m_lua_check_tensor(L, 1),
                                                   d3m_lua_check_tensor(L, 2),
                                                   d3m_lua_check_tensor(L, 3),
                                                   d3m_lua_opt_tensor(L, 4)));
    return 0;
}


/* ---- Adam ----------------------------------------------------------------------- */

/* ops.adam_step(params, grads, exp_avg, exp_avg_sq, step, options): four
 * equally long lists of tensors; step is the number of this update (>= 1);
 * options {lr, beta1, beta2, eps, weight_decay, decoupled} with PyTorch's
 * defaults 1e-3, 0.9, 0.999, 1e-8, 0, false. */
static int l_adam_step(lua_State *L)
{
    lua_settop(L, 6);   /* the scratch lists go above the options */
    d3m_tensor **lists = lua_newuserdatauv(L, 4 * MAX_LIST * sizeof *lists, 0);
    int count = check_tensor_list(L, 1, "adam_step params", lists);
    const char *names[3] = {"adam_step grads", "adam_step exp_avg", "adam_step exp_avg_sq"};
    for (int k = 1; k < 4; k++)
        if (check_tensor_list(L, k + 1, names[k - 1], lists + k * MAX_LIST) != count)
            luaL_error(L, "%s: expected %d tensors, one per parameter", names[k - 1], count);
    lua_Integer step = luaL_checkinteger(L, 5);

    d3m_adam_options o;
    o.lr = d3m_lua_opt_number_field(L, 6, "lr", 1e-3);
    o.beta1 = d3m_lua_opt_number_field(L, 6, "beta1", 0.9);
    o.beta2 = d3m_lua_opt_number_field(L, 6, "beta2", 0.999);
    o.eps = d3m_lua_opt_number_field(L, 6, "eps", 1e-8);
    o.weight_decay = d3m_lua_opt_number_field(L, 6, "weight_decay", 0.0);
    o.decoupled = d3m_lua_opt_boolean_field(L, 6, "decoupled", 0);
    d3m_lua_check(L, d3m_adam_step(count, lists, (const d3m_tensor *const *)(lists + MAX_LIST),
                                   lists + 2 * MAX_LIST, lists + 3 * MAX_LIST, (long)step, &o));
    return 0;
}


static const luaL_Reg functions[] = {
    {"batchnorm_forward", l_batchnorm_forward},
    {"batchnorm_backward", l_batchnorm_backward},
    {"relu_forward", l_relu_forward},
    {"relu_backward", l_relu_backward},
    {"concat", l_concat},
    {"split", l_split},
    {"mse_loss", l_mse_loss},
    {"mse_backward", l_mse_backward},
    {"pointwise_forward", l_pointwise_forward},
    {"pointwise_backward_input", l_pointwise_backward_input},
    {"pointwise_backward_weight", l_pointwise_backward_weight},
    {"adam_step", l_adam_step},
    {NULL, NULL}};


int d3m_open_nn(lua_State *L)
{
    d3m_lua_subtable(L, -1, "ops");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
