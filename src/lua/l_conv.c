/* l_conv.c - d3m.ops convolution functions: periodic conv3d and
 * conv_transpose3d, forward and backward (conventions in src/nn/conv.h). */
#include <string.h>

#include "lbind.h"
#include "nn/conv.h"

int d3m_open_conv(lua_State *L);

/* Run a conv call; when the device is out of memory (the fast path makes
 * temporary copies), collect Lua garbage to free unreachable tensors and
 * try once more. The weight-gradient calls allocate every temporary before
 * they add anything to grad_weight, so a retry does not add twice.
 * NOTE: no test runs out of device memory, so the retry is untested. A
 * driver that allocates buffers lazily at launch could fail after the
 * weight gradient was added and before the bias gradient; then the retry
 * adds the weight gradient twice. */
#define CONV_CALL(L, call)                     \
    do {                                       \
        int conv_status_ = (call);             \
        if (conv_status_ == D3M_ERR_MEMORY) {  \
            lua_gc((L), LUA_GCCOLLECT);        \
            conv_status_ = (call);             \
        }                                      \
        d3m_lua_check((L), conv_status_);      \
    } while (0)


static int check_stride(lua_State *L, int idx)
{
    lua_Integer stride = luaL_checkinteger(L, idx);
    if (stride != 1 && stride != 2)
        luaL_argerror(L, idx, lua_pushfstring(L, "stride must be 1 or 2, got %d", (int)stride));
    return (int)stride;
}


/* ops.conv3d_forward(input, weight, bias|nil, stride, out|nil) -> out */
static int l_conv3d_forward(lua_State *L)
{
    d3m_tensor *input = d3m_lua_check_tensor(L, 1);
    d3m_tensor *weight = d3m_lua_check_tensor(L, 2);
    d3m_tensor *bias = d3m_lua_opt_tensor(L, 3);
    int stride = check_stride(L, 4);
    size_t shape[5];
    d3m_lua_check(L, d3m_conv3d_output_shape(input, weight, stride, shape));
    d3m_tensor *out = d3m_lua_output_tensor(L, 5, 5, shape, "conv3d output");
    CONV_CALL(L, d3m_conv3d_forward(input, weight, bias, stride, out));
    return 1;
}


/* The input shape [N, Ci, D, H, W] that a conv3d with this stride maps to
 * grad_out's shape. */
static void conv3d_input_shape(const d3m_tensor *grad_out, const d3m_tensor *weight, int stride,
                               size_t *shape)
{
    shape[0] = grad_out->shape[0];
    shape[1] = weight->ndim == 5 ? weight->shape[1] : 0;
    for (int axis = 2; axis < 5; axis++)
        shape[axis] = grad_out->ndim == 5 ? grad_out->shape[axis] * (size_t)stride : 0;
}


/* Check that the input_shape argument at idx, when given, equals shape. */
static void check_input_shape(lua_State *L, int idx, const size_t *shape, const char *op)
{
    if (lua_isnoneornil(L, idx))
        return;
    size_t given[D3M_MAX_DIMS];
    int ndim = d3m_lua_check_shape(L, idx, given);
    if (ndim == 5 && memcmp(given, shape, 5 * sizeof *shape) == 0)
        return;
    char expected[128], received[128];
    d3m_format_shape(expected, sizeof expected, 5, shape);
    d3m_format_shape(received, sizeof received, ndim, given);
    luaL_error(L, "%s: input_shape %s does not match grad_out and weight, which give the input "
               "shape %s", op, received, expected);
}


/* ops.conv3d_backward_input(grad_out, weight, stride, grad_in|nil, input_shape|nil)
 * -> grad_in (overwritten) */
static int l_conv3d_backward_input(lua_State *L)
{
    d3m_tensor *grad_out = d3m_lua_check_tensor(L, 1);
    d3m_tensor *weight = d3m_lua_check_tensor(L, 2);
    int stride = check_stride(L, 3);
    if (grad_out->ndim != 5 || weight->ndim != 5) {
        char g[128], w[128];
        d3m_format_shape(g, sizeof g, grad_out->ndim, grad_out->shape);
        d3m_format_shape(w, sizeof w, weight->ndim, weight->shape);
        luaL_error(L, "conv3d_backward_input: expected grad_out [N, Co, D, H, W] and weight "
                   "[Co, Ci, k, k, k], got %s and %s", g, w);
    }
    size_t shape[5];
    conv3d_input_shape(grad_out, weight, stride, shape);
    check_input_shape(L, 5, shape, "conv3d_backward_input");
    d3m_tensor *grad_in = d3m_lua_output_tensor(L, 4, 5, shape, "conv3d grad_in");
    CONV_CALL(L, d3m_conv3d_backward_input(grad_out, weight, stride, grad_in));
    return 1;
}


/* ops.conv3d_backward_weight(grad_out, input, stride, grad_weight, grad_bias|nil)
 * -> grad_weight, grad_bias (both accumulated) */
static int l_conv3d_backward_weight(lua_State *L)
{
    lua_settop(L, 5);
    d3m_tensor *grad_out = d3m_lua_check_tensor(L, 1);
    d3m_tensor *input = d3m_lua_check_tensor(L, 2);
    int stride = check_stride(L, 3);
    d3m_tensor *grad_weight = d3m_lua_check_tensor(L, 4);
    d3m_tensor *grad_bias = d3m_lua_opt_tensor(L, 5);
    CONV_CALL(L, d3m_conv3d_backward_weight(grad_out, input, stride, grad_weight, grad_bias));
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 5);
    return 2;
}


/* ops.conv_transpose3d_forward(input, weight, bias|nil, out|nil) -> out */
static int l_conv_transpose3d_forward(lua_State *L)
{
    d3m_tensor *input = d3m_lua_check_tensor(L, 1);
    d3m_tensor *weight = d3m_lua_check_tensor(L, 2);
    d3m_tensor *bias = d3m_lua_opt_tensor(L, 3);
    size_t shape[5];
    d3m_lua_check(L, d3m_conv_transpose3d_output_shape(input, weight, shape));
    d3m_tensor *out = d3m_lua_output_tensor(L, 4, 5, shape, "conv_transpose3d output");
    CONV_CALL(L, d3m_conv_transpose3d_forward(input, weight, bias, out));
    return 1;
}


/* ops.conv_transpose3d_backward_input(grad_out, weight, grad_in|nil) -> grad_in */
static int l_conv_transpose3d_backward_input(lua_State *L)
{
    d3m_tensor *grad_out = d3m_lua_check_tensor(L, 1);
    d3m_tensor *weight = d3m_lua_check_tensor(L, 2);
    if (grad_out->ndim != 5 || weight->ndim != 5) {
        char g[128], w[128];
        d3m_format_shape(g, sizeof g, grad_out->ndim, grad_out->shape);
        d3m_format_shape(w, sizeof w, weight->ndim, weight->shape);
        luaL_error(L, "conv_transpose3d_backward_input: expected grad_out [N, Co, D, H, W] and "
                   "weight [Ci, Co, 3, 3, 3], got %s and %s", g, w);
    }
    size_t shape[5] = {grad_out->shape[0], weight->shape[0], grad_out->shape[2] / 2,
                       grad_out->shape[3] / 2, grad_out->shape[4] / 2};
    d3m_tensor *grad_in = d3m_lua_output_tensor(L, 3, 5, shape, "conv_transpose3d grad_in");
    CONV_CALL(L, d3m_conv_transpose3d_backward_input(grad_out, weight, grad_in));
    return 1;
}


/* ops.conv_transpose3d_backward_weight(grad_out, input, grad_weight, grad_bias|nil)
 * -> grad_weight, grad_bias (both accumulated) */
static int l_conv_transpose3d_backward_weight(lua_State *L)
{
    lua_settop(L, 4);
    d3m_tensor *grad_out = d3m_lua_check_tensor(L, 1);
    d3m_tensor *input = d3m_lua_check_tensor(L, 2);
    d3m_tensor *grad_weight = d3m_lua_check_tensor(L, 3);
    d3m_tensor *grad_bias = d3m_lua_opt_tensor(L, 4);
    CONV_CALL(L, d3m_conv_transpose3d_backward_weight(grad_out, input, grad_weight, grad_bias));
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 4);
    return 2;
}


/* ops.conv_path([name]) -> previous name. name is "fast" or "reference";
 * without it the current path is returned and nothing changes. */
static int l_conv_path(lua_State *L)
{
    static const char *const names[] = {"fast", "reference", NULL};
    d3m_conv_path current = d3m_conv_get_path();
    lua_pushstring(L, names[current]);
    if (!lua_isnoneornil(L, 1))
        d3m_conv_set_path((d3m_conv_path)luaL_checkoption(L, 1, NULL, names));
    return 1;
}


/* ops.conv_fma_peak([work_items]) -> GFLOP/s of a plain FMA kernel */
static int l_conv_fma_peak(lua_State *L)
{
    lua_Integer items = luaL_optinteger(L, 1, 4096);
    if (items < 1)
        luaL_argerror(L, 1, "work_items must be positive");
    double gflops = 0.0;
    d3m_lua_check(L, d3m_conv_measure_fma_peak((size_t)items, &gflops));
    lua_pushnumber(L, gflops);
    return 1;
}


static const luaL_Reg functions[] = {
    {"conv3d_forward", l_conv3d_forward},
    {"conv3d_backward_input", l_conv3d_backward_input},
    {"conv3d_backward_weight", l_conv3d_backward_weight},
    {"conv_transpose3d_forward", l_conv_transpose3d_forward},
    {"conv_transpose3d_backward_input", l_conv_transpose3d_backward_input},
    {"conv_transpose3d_backward_weight", l_conv_transpose3d_backward_weight},
    {"conv_path", l_conv_path},
    {"conv_fma_peak", l_conv_fma_peak},
    {NULL, NULL}};


int d3m_open_conv(lua_State *L)
{
    d3m_lua_subtable(L, -1, "ops");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
