/* tensor.c - float32 device tensors: allocation, views, host transfers,
 * elementwise operations and reductions (kernels in kernels/tensor.cl). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define LOCAL_SIZE 64      /* work-group size of the simple kernels */
#define REDUCE_GROUPS 256  /* partial sums per reduction */

static uint64_t device_bytes;
static long live_tensors;


uint64_t d3m_device_bytes(void)
{
    return device_bytes;
}


long d3m_live_tensors(void)
{
    return live_tensors;
}


void d3m_format_shape(char *buf, size_t size, int ndim, const size_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? ", " : "", shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}


static int check_extents(int ndim, const size_t *shape, size_t *numel)
{
    if (ndim < 1 || ndim > D3M_MAX_DIMS)
        return d3m_fail(D3M_ERR_SHAPE, "a tensor has 1 to %d dimensions, got %d", D3M_MAX_DIMS, ndim);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0) {
            char text[128];
            d3m_format_shape(text, sizeof text, ndim, shape);
            return d3m_fail(D3M_ERR_SHAPE, "shape %s has an extent of 0 at dimension %d; every "
                            "extent must be at least 1", text, i + 1);
        }
        n *= shape[i];
    }
    *numel = n;
    return D3M_OK;
}


static int wrap_buffer(d3m_runtime *rt, cl_mem buffer, long *views, int ndim, const size_t *shape,
                       size_t numel, d3m_tensor **out)
{
    d3m_tensor *t = calloc(1, sizeof *t);
    if (t == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for a tensor header");
    if (views == NULL) {
        views = calloc(1, sizeof *views);
        if (views == NULL) {
            free(t);
            return d3m_fail(D3M_ERR_MEMORY, "out of host memory for a tensor header");
        }
    }
    *views += 1;
    t->views = views;
    t->buffer = buffer;
    t->runtime = rt;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = numel;
    live_tensors++;
    *out = t;
    return D3M_OK;
}


int d3m_tensor_new(int ndim, const size_t *shape, d3m_tensor **out)
{
    size_t numel = 0;
    D3M_TRY(check_extents(ndim, shape, &numel));
    d3m_runtime *rt = d3m_runtime_current();
    if (rt == NULL)
        return D3M_ERR_DEVICE;

    size_t bytes = numel * sizeof(float);
    if (bytes > rt->info.max_allocation) {
        char text[128];
        d3m_format_shape(text, sizeof text, ndim, shape);
        return d3m_fail(D3M_ERR_MEMORY, "a tensor of shape %s needs %.1f MiB, more than the "
                        "%.1f MiB one buffer may have on %s; use smaller batches or meshes",
                        text, (double)bytes / 1048576.0, (double)rt->info.max_allocation / 1048576.0,
                        rt->info.name);
    }

    cl_int code = CL_SUCCESS;
    cl_mem buffer = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, bytes, NULL, &code);
    if (code != CL_SUCCESS) {
        char detail[400];
        snprintf(detail, sizeof detail, "allocating %.1f MiB with %.1f MiB already in use on %s",
                 (double)bytes / 1048576.0, (double)device_bytes / 1048576.0, rt->info.name);
        return d3m_fail_cl("clCreateBuffer", code, NULL, detail);
    }
    int status = wrap_buffer(rt, buffer, NULL, ndim, shape, numel, out);
    if (status != D3M_OK) {
        clReleaseMemObject(buffer);
        return status;
    }
    device_bytes += bytes;
    return D3M_OK;
}


int d3m_tensor_zeros(int ndim, const size_t *shape, d3m_tensor **out)
{
    D3M_TRY(d3m_tensor_new(ndim, shape, out));
    int status = d3m_tensor_fill(*out, 0.0f);
    if (status != D3M_OK) {
        d3m_tensor_free(*out);
        *out = NULL;
    }
    return status;
}


void d3m_tensor_free(d3m_tensor *t)
{
    if (t == NULL)
        return;
    /* The last view of a buffer gives its bytes back. */
    *t->views -= 1;
    if (*t->views == 0) {
        device_bytes -= t->numel * sizeof(float);
        free(t->views);
    }
    clReleaseMemObject(t->buffer);
    live_tensors--;
    free(t);
}


int d3m_tensor_reshape(const d3m_tensor *t, int ndim, const size_t *shape, d3m_tensor **out)
{
    size_t numel = 0;
    D3M_TRY(check_extents(ndim, shape, &numel));
    if (numel != t->numel) {
        char from[128], to[128];
        d3m_format_shape(from, sizeof from, t->ndim, t->shape);
        d3m_format_shape(to, sizeof to, ndim, shape);
        return d3m_fail(D3M_ERR_SHAPE, "cannot reshape %s (%zu elements) to %s (%zu elements)",
                        from, t->numel, to, numel);
    }
    D3M_CL_CHECK(clRetainMemObject(t->buffer), NULL);
    int status = wrap_buffer(t->runtime, t->buffer, t->views, ndim, shape, numel, out);
    if (status != D3M_OK)
        clReleaseMemObject(t->buffer);
    return status;
}


/* ---- transfers ------------------------------------------------------------ */

static int check_range(const d3m_tensor *t, size_t offset, size_t count, const char *what)
{
    if (offset > t->numel || count > t->numel - offset)
        return d3m_fail(D3M_ERR_ARG, "%s of %zu elements at offset %zu is outside the tensor of "
                        "%zu elements", what, count, offset, t->numel);
    return D3M_OK;
}


int d3m_tensor_write_range(d3m_tensor *t, size_t offset, size_t count, const float *host)
{
    D3M_TRY(check_range(t, offset, count, "write"));
    if (count == 0)
        return D3M_OK;
    D3M_CL_CHECK(clEnqueueWriteBuffer(t->runtime->queue, t->buffer, CL_TRUE, offset * sizeof(float),
                                      count * sizeof(float), host, 0, NULL, NULL), NULL);
    return D3M_OK;
}


int d3m_tensor_read_range(const d3m_tensor *t, size_t offset, size_t count, float *host)
{
    D3M_TRY(check_range(t, offset, count, "read"));
    if (count == 0)
        return D3M_OK;
    D3M_CL_CHECK(clEnqueueReadBuffer(t->runtime->queue, t->buffer, CL_TRUE, offset * sizeof(float),
                                     count * sizeof(float), host, 0, NULL, NULL), NULL);
    return D3M_OK;
}


int d3m_tensor_write(d3m_tensor *t, const float *host)
{
    return d3m_tensor_write_range(t, 0, t->numel, host);
}


int d3m_tensor_read(const d3m_tensor *t, float *host)
{
    return d3m_tensor_read_range(t, 0, t->numel, host);
}


int d3m_tensor_copy_range(d3m_tensor *dst, size_t dst_offset, const d3m_tensor *src,
                          size_t src_offset, size_t count)
{
    D3M_TRY(check_range(dst, dst_offset, count, "copy destination"));
    D3M_TRY(check_range(src, src_offset, count, "copy source"));
    if (count == 0)
        return D3M_OK;
    if (src->buffer == dst->buffer && src_offset < dst_offset + count && dst_offset < src_offset + count) {
        if (src_offset == dst_offset)
            return D3M_OK;
        return d3m_fail(D3M_ERR_ARG, "copy ranges overlap within one buffer");
    }
    D3M_CL_CHECK(clEnqueueCopyBuffer(dst->runtime->queue, src->buffer, dst->buffer,
                                     src_offset * sizeof(float), dst_offset * sizeof(float),
                                     count * sizeof(float), 0, NULL, NULL), NULL);
    return D3M_OK;
}


int d3m_check_same_numel(const d3m_tensor *a, const d3m_tensor *b, const char *what)
{
    if (a->numel == b->numel)
        return D3M_OK;
    char sa[128], sb[128];
    d3m_format_shape(sa, sizeof sa, a->ndim, a->shape);
    d3m_format_shape(sb, sizeof sb, b->ndim, b->shape);
    return d3m_fail(D3M_ERR_SHAPE, "%s: sizes differ, %s (%zu elements) and %s (%zu elements)", what,
                    sa, a->numel, sb, b->numel);
}


int d3m_check_shape(const d3m_tensor *t, const char *what, int ndim, const size_t *shape)
{
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = shape[i] == 0 || shape[i] == t->shape[i];
    if (ok)
        return D3M_OK;

    char expected[160] = "[", received[128];
    size_t used = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0)
            used += (size_t)snprintf(expected + used, sizeof expected - used, "%s*", i ? ", " : "");
        else
            used += (size_t)snprintf(expected + used, sizeof expected - used, "%s%zu", i ? ", " : "",
                                     shape[i]);
        if (used >= sizeof expected)
            break;
    }
    if (used < sizeof expected)
        snprintf(expected + used, sizeof expected - used, "]");
    d3m_format_shape(received, sizeof received, t->ndim, t->shape);
    return d3m_fail(D3M_ERR_SHAPE, "%s: expected shape %s, got %s", what, expected, received);
}


int d3m_tensor_copy(d3m_tensor *dst, const d3m_tensor *src)
{
    D3M_TRY(d3m_check_same_numel(dst, src, "copy"));
    return d3m_tensor_copy_range(dst, 0, src, 0, src->numel);
}


/* ---- elementwise ---------------------------------------------------------- */

static int launch_1d(const char *kernel, size_t n, const char *signature, const d3m_tensor *out,
                     const d3m_tensor *a, const d3m_tensor *b, double alpha)
{
    size_t global = d3m_round_up(n, LOCAL_SIZE), local = LOCAL_SIZE;
    switch (signature[1]) {
    case 'f':   /* out, value */
        return d3m_launch("tensor.cl", kernel, NULL, 1, &global, &local, "tfl", out, alpha, (long long)n);
    case 't':
        if (signature[2] == 't')
            return d3m_launch("tensor.cl", kernel, NULL, 1, &global, &local, "tttl", out, a, b,
                              (long long)n);
        return d3m_launch("tensor.cl", kernel, NULL, 1, &global, &local, "ttfl", out, a, alpha,
                          (long long)n);
    default:
        return d3m_fail(D3M_ERR_ARG, "internal: bad signature %s", signature);
    }
}


int d3m_tensor_fill(d3m_tensor *t, float value)
{
    return launch_1d("tensor_fill", t->numel, "tf", t, NULL, NULL, value);
}


static int binary(const char *kernel, d3m_tensor *out, const d3m_tensor *a, const d3m_tensor *b)
{
    D3M_TRY(d3m_check_same_numel(a, b, kernel + 7));
    D3M_TRY(d3m_check_same_numel(out, a, kernel + 7));
    return launch_1d(kernel, a->numel, "ttt", out, a, b, 0.0);
}


int d3m_tensor_add(d3m_tensor *out, const d3m_tensor *a, const d3m_tensor *b)
{
    return binary("tensor_add", out, a, b);
}


int d3m_tensor_sub(d3m_tensor *out, const d3m_tensor *a, const d3m_tensor *b)
{
    return binary("tensor_sub", out, a, b);
}


int d3m_tensor_mul(d3m_tensor *out, const d3m_tensor *a, const d3m_tensor *b)
{
    return binary("tensor_mul", out, a, b);
}


int d3m_tensor_scale(d3m_tensor *out, const d3m_tensor *a, float alpha)
{
    D3M_TRY(d3m_check_same_numel(out, a, "scale"));
    return launch_1d("tensor_scale", a->numel, "ttf", out, a, NULL, alpha);
}


int d3m_tensor_axpy(d3m_tensor *y, float alpha, const d3m_tensor *x)
{
    D3M_TRY(d3m_check_same_numel(y, x, "axpy"));
    return launch_1d("tensor_axpy", x->numel, "ttf", y, x, NULL, alpha);
}


/* ---- reductions ----------------------------------------------------------- */

enum { REDUCE_SUM = 0, REDUCE_DOT = 1, REDUCE_MAX_ABS = 2, REDUCE_NONFINITE = 3 };

static int reduce(const d3m_tensor *x, const d3m_tensor *y, int mode, double *result)
{
    d3m_runtime *rt = x->runtime;
    size_t groups = (x->numel + LOCAL_SIZE - 1) / LOCAL_SIZE;
    if (groups > REDUCE_GROUPS)
        groups = REDUCE_GROUPS;

    size_t shape[1] = {groups};
    d3m_tensor *partials = NULL;
    D3M_TRY(d3m_tensor_new(1, shape, &partials));

    size_t global = groups * LOCAL_SIZE, local = LOCAL_SIZE;
    int status = d3m_launch("tensor.cl", "tensor_reduce", NULL, 1, &global, &local, "ttlitL", x,
                            y ? y : x, (long long)x->numel, mode, partials,
                            LOCAL_SIZE * sizeof(float));
    float host[REDUCE_GROUPS];
    if (status == D3M_OK)
        status = d3m_tensor_read(partials, host);
    d3m_tensor_free(partials);
    (void)rt;
    D3M_TRY(status);

    double total = 0.0;
    for (size_t g = 0; g < groups; g++) {
        if (mode == REDUCE_MAX_ABS || mode == REDUCE_NONFINITE)
            total = fmax(total, (double)host[g]);
        else
            total += (double)host[g];
    }
    *result = total;
    return D3M_OK;
}


int d3m_tensor_sum(const d3m_tensor *t, double *result)
{
    return reduce(t, NULL, REDUCE_SUM, result);
}


int d3m_tensor_mean(const d3m_tensor *t, double *result)
{
    D3M_TRY(reduce(t, NULL, REDUCE_SUM, result));
    *result /= (double)t->numel;
    return D3M_OK;
}


int d3m_tensor_max_abs(const d3m_tensor *t, double *result)
{
    return reduce(t, NULL, REDUCE_MAX_ABS, result);
}


int d3m_tensor_dot(const d3m_tensor *a, const d3m_tensor *b, double *result)
{
    D3M_TRY(d3m_check_same_numel(a, b, "dot"));
    return reduce(a, b, REDUCE_DOT, result);
}


int d3m_tensor_has_nonfinite(const d3m_tensor *t, int *result)
{
    double flag = 0.0;
    D3M_TRY(reduce(t, NULL, REDUCE_NONFINITE, &flag));
    *result = flag != 0.0;
    return D3M_OK;
}
