/* test_tensor.c - device tensors against plain host loops: elementwise
 * operations, transfers with canaries, views, and reductions on 10^7
 * elements against double-precision host sums. */
#include <stdlib.h>

#include "check.h"
#include "runtime/runtime.h"

static int test_elementwise(void)
{
    enum { N = 100003 };   /* not a multiple of the work-group size */
    size_t shape[1] = {N};
    float *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *r = malloc(N * sizeof *r);
    unsigned long long seed = 1;
    for (int i = 0; i < N; i++) {
        a[i] = (float)test_random(&seed);
        b[i] = (float)test_random(&seed);
    }
    d3m_tensor *ta, *tb, *tout;
    REQUIRE_OK(d3m_tensor_new(1, shape, &ta));
    REQUIRE_OK(d3m_tensor_new(1, shape, &tb));
    REQUIRE_OK(d3m_tensor_new(1, shape, &tout));
    REQUIRE_OK(d3m_tensor_write(ta, a));
    REQUIRE_OK(d3m_tensor_write(tb, b));

    /* One float operation per element: results must be bit-identical to the
     * host's IEEE single-precision arithmetic (no tolerance). */
    REQUIRE_OK(d3m_tensor_add(tout, ta, tb));
    REQUIRE_OK(d3m_tensor_read(tout, r));
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += r[i] != a[i] + b[i];
    CHECK(bad == 0, "add: %d of %d elements differ", bad, N);

    REQUIRE_OK(d3m_tensor_sub(tout, ta, tb));
    REQUIRE_OK(d3m_tensor_read(tout, r));
    bad = 0;
    for (int i = 0; i < N; i++)
        bad += r[i] != a[i] - b[i];
    CHECK(bad == 0, "sub: %d elements differ", bad);

    REQUIRE_OK(d3m_tensor_mul(tout, ta, tb));
    REQUIRE_OK(d3m_tensor_read(tout, r));
    bad = 0;
    for (int i = 0; i < N; i++)
        bad += r[i] != a[i] * b[i];
    CHECK(bad == 0, "mul: %d elements differ", bad);

    REQUIRE_OK(d3m_tensor_scale(tout, ta, 3.0f));
    REQUIRE_OK(d3m_tensor_read(tout, r));
    bad = 0;
    for (int i = 0; i < N; i++)
        bad += r[i] != 3.0f * a[i];
    CHECK(bad == 0, "scale: %d elements differ", bad);

    /* axpy may be contracted to an FMA on the device: allow one rounding. */
    REQUIRE_OK(d3m_tensor_copy(tout, tb));
    REQUIRE_OK(d3m_tensor_axpy(tout, -0.5f, ta));
    REQUIRE_OK(d3m_tensor_read(tout, r));
    bad = 0;
    for (int i = 0; i < N; i++)
        bad += !close_to(r[i], b[i] - 0.5f * a[i], 1e-7, 1.2e-7);
    CHECK(bad == 0, "axpy: %d elements differ", bad);

    /* In place: out aliases an input. */
    REQUIRE_OK(d3m_tensor_add(ta, ta, ta));
    REQUIRE_OK(d3m_tensor_read(ta, r));
    CHECK(r[7] == 2.0f * a[7], "in-place add gave %g, expected %g", r[7], 2.0f * a[7]);

    d3m_tensor_free(ta);
    d3m_tensor_free(tb);
    d3m_tensor_free(tout);
    free(a);
    free(b);
    free(r);
    return 0;
}


static int test_ranges_and_views(void)
{
    size_t shape[2] = {4, 5};
    d3m_tensor *t, *view;
    REQUIRE_OK(d3m_tensor_new(2, shape, &t));
    REQUIRE_OK(d3m_tensor_fill(t, -1.0f));

    /* Canaries: a range write leaves the neighbours untouched. */
    float values[3] = {1, 2, 3}, back[20];
    REQUIRE_OK(d3m_tensor_write_range(t, 7, 3, values));
    REQUIRE_OK(d3m_tensor_read(t, back));
    CHECK(back[6] == -1.0f, "canary before the range changed to %g", back[6]);
    CHECK(back[10] == -1.0f, "canary after the range changed to %g", back[10]);
    CHECK(back[7] == 1.0f, "first written element is %g, expected 1", back[7]);
    CHECK(back[9] == 3.0f, "last written element is %g, expected 3", back[9]);
    CHECK(d3m_tensor_write_range(t, 19, 2, values) == D3M_ERR_ARG, "write past the end accepted");
    CHECK(contains(d3m_last_error(), "outside the tensor"), "message: %s", d3m_last_error());

    /* A view shares the buffer and the device-byte count. */
    uint64_t bytes = d3m_device_bytes();
    size_t flat[1] = {20};
    REQUIRE_OK(d3m_tensor_reshape(t, 1, flat, &view));
    CHECK(d3m_device_bytes() == bytes, "a view allocated %llu bytes",
          (unsigned long long)(d3m_device_bytes() - bytes));
    REQUIRE_OK(d3m_tensor_fill(view, 4.0f));
    REQUIRE_OK(d3m_tensor_read(t, back));
    CHECK(back[0] == 4.0f, "the view does not share the buffer");

    size_t wrong[1] = {21};
    d3m_tensor *bad = NULL;
    CHECK(d3m_tensor_reshape(t, 1, wrong, &bad) == D3M_ERR_SHAPE, "reshape to 21 accepted");
    CHECK(contains(d3m_last_error(), "[4, 5]"), "message: %s", d3m_last_error());
    CHECK(contains(d3m_last_error(), "[21]"), "message: %s", d3m_last_error());

    d3m_tensor_free(t);
    CHECK(d3m_device_bytes() == bytes, "freeing one of two views returned the bytes");
    d3m_tensor_free(view);
    CHECK(d3m_device_bytes() == bytes - 80, "the last view did not return 80 bytes");
    return 0;
}


static int test_reductions(void)
{
    enum { N = 10000000 };
    size_t shape[1] = {N};
    float *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    unsigned long long seed = 7;
    double sum = 0.0, dot = 0.0, max_abs = 0.0, abs_sum = 0.0, abs_dot = 0.0;
    for (int i = 0; i < N; i++) {
        /* A positive offset makes the sum large, where naive float
         * accumulation would lose about 3 digits over 10^7 terms. */
        a[i] = (float)(0.5 + test_random(&seed));
        b[i] = (float)test_random(&seed);
        sum += a[i];
        abs_sum += fabs(a[i]);
        dot += (double)a[i] * b[i];
        abs_dot += fabs((double)a[i] * b[i]);
        max_abs = fmax(max_abs, fabs(a[i]));
    }
    d3m_tensor *ta, *tb;
    REQUIRE_OK(d3m_tensor_new(1, shape, &ta));
    REQUIRE_OK(d3m_tensor_new(1, shape, &tb));
    REQUIRE_OK(d3m_tensor_write(ta, a));
    REQUIRE_OK(d3m_tensor_write(tb, b));

    double result;
    /* Kahan per work-item, a pairwise tree per group, and double on the
     * host: the error bound is a few float epsilons (6e-8) times the sum of
     * absolute values. 1e-6 leaves room and still fails a naive float sum. */
    REQUIRE_OK(d3m_tensor_sum(ta, &result));
    CHECK(fabs(result - sum) <= 1e-6 * abs_sum, "sum %.9g, host %.9g", result, sum);
    REQUIRE_OK(d3m_tensor_mean(ta, &result));
    CHECK(fabs(result - sum / N) <= 1e-6 * abs_sum / N, "mean %.9g, host %.9g", result, sum / N);
    REQUIRE_OK(d3m_tensor_dot(ta, tb, &result));
    CHECK(fabs(result - dot) <= 1e-6 * abs_dot, "dot %.9g, host %.9g", result, dot);
    REQUIRE_OK(d3m_tensor_max_abs(ta, &result));
    CHECK(result == max_abs, "max_abs %.9g, host %.9g", result, max_abs);

    int nonfinite = 1;
    REQUIRE_OK(d3m_tensor_has_nonfinite(ta, &nonfinite));
    CHECK(nonfinite == 0, "finite data reported as non-finite");
    float nan_value = NAN;
    REQUIRE_OK(d3m_tensor_write_range(ta, N - 1, 1, &nan_value));
    REQUIRE_OK(d3m_tensor_has_nonfinite(ta, &nonfinite));
    CHECK(nonfinite == 1, "a NaN in the last element was missed");

    d3m_tensor_free(ta);
    d3m_tensor_free(tb);
    free(a);
    free(b);
    return 0;
}


static int test_errors(void)
{
    size_t shape[2] = {3, 4}, other[1] = {13};
    d3m_tensor *a, *b;
    REQUIRE_OK(d3m_tensor_new(2, shape, &a));
    REQUIRE_OK(d3m_tensor_new(1, other, &b));
    CHECK(d3m_tensor_add(a, a, b) == D3M_ERR_SHAPE, "add of 12 and 13 elements accepted");
    CHECK(contains(d3m_last_error(), "[3, 4]"), "message: %s", d3m_last_error());
    CHECK(contains(d3m_last_error(), "[13]"), "message: %s", d3m_last_error());

    size_t zero[2] = {3, 0};
    d3m_tensor *c = NULL;
    CHECK(d3m_tensor_new(2, zero, &c) == D3M_ERR_SHAPE, "an extent of 0 accepted");
    CHECK(contains(d3m_last_error(), "extent of 0"), "message: %s", d3m_last_error());

    CHECK(d3m_use_device("no-such-device-xyz") == D3M_ERR_DEVICE, "unknown device accepted");
    CHECK(contains(d3m_last_error(), "no-such-device-xyz"), "message: %s", d3m_last_error());
    CHECK(contains(d3m_last_error(), "0:0"), "message does not list the devices: %s",
          d3m_last_error());

    /* A program that cannot compile: the message carries the CL error, the
     * kernel file and the compiler's log. */
    d3m_runtime *rt = d3m_runtime_current();
    cl_kernel k;
    CHECK(d3m_kernel_get(rt, "tensor.cl", "tensor_fill", "-D float=undefined_type_x", &k) ==
              D3M_ERR_BUILD, "a broken build succeeded");
    CHECK(contains(d3m_last_error(), "CL_BUILD_PROGRAM_FAILURE"), "message: %s", d3m_last_error());
    CHECK(contains(d3m_last_error(), "kernels/tensor.cl"), "message: %s", d3m_last_error());
    CHECK(contains(d3m_last_error(), "undefined_type_x"), "no build log: %s", d3m_last_error());
    CHECK(d3m_kernel_get(rt, "tensor.cl", "no_such_kernel", NULL, &k) == D3M_ERR_CL,
          "a missing kernel was found");
    CHECK(contains(d3m_last_error(), "CL_INVALID_KERNEL_NAME"), "message: %s", d3m_last_error());

    d3m_tensor_free(a);
    d3m_tensor_free(b);
    return 0;
}


int main(void)
{
    if (d3m_use_device(NULL) != D3M_OK) {
        fprintf(stderr, "no device: %s\n", d3m_last_error());
        return 1;
    }
    long live = d3m_live_tensors();
    if (test_elementwise() || test_ranges_and_views() || test_reductions() || test_errors())
        return 1;
    CHECK(d3m_live_tensors() == live, "%ld tensors leaked", d3m_live_tensors() - live);
    return check_report("test_tensor");
}
