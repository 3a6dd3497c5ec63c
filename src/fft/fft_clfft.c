/* fft_clfft.c - the clFFT backend: one baked plan per (shape, direction),
 * cached per device. clFFT's backward transform already scales by 1/N. */
#include <clFFT.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"

typedef struct clfft_plan {
    d3m_fft_shape shape;
    int forward;
    clfftPlanHandle handle;
    struct clfft_plan *next;
} clfft_plan;

static int setup_count;   /* runtimes using clFFT; clfftTeardown at zero */


static int clfft_fail(const char *call, clfftStatus code, const d3m_fft_shape *s)
{
    const char *name = (int)code >= CLFFT_BUGCHECK ? "clFFT internal error"
                                                   : d3m_cl_error_name((cl_int)code);
    return d3m_fail(D3M_ERR_FFT, "%s failed with %s (%d) for a %zu x %zu x %zu mesh (batch %zu)",
                    call, name, (int)code, s->n1, s->n2, s->n3, s->batch);
}

#define CLFFT_CHECK(expr, shape)                                  \
    do {                                                          \
        clfftStatus clfft_code_ = (expr);                         \
        if (clfft_code_ != CLFFT_SUCCESS)                         \
            return clfft_fail(#expr, clfft_code_, (shape));       \
    } while (0)


static int ensure_setup(d3m_runtime *rt)
{
    if (rt->fft_state != NULL)
        return D3M_OK;
    if (setup_count == 0) {
        /* Filled by hand: clfftInitSetupData is a C99 inline function in
         * clFFT.h that unoptimised builds do not emit. */
        clfftSetupData data;
        memset(&data, 0, sizeof data);
        data.major = clfftVersionMajor;
        data.minor = clfftVersionMinor;
        data.patch = clfftVersionPatch;
        d3m_fft_shape none = {0, 0, 0, 0};
        CLFFT_CHECK(clfftSetup(&data), &none);
        /* clFFT destroys its plan registry in a static destructor that
         * clfftSetup registers. Exit handlers run in reverse order, so ours,
         * registered after it, runs first. */
        atexit(d3m_shutdown);
    }
    setup_count++;
    /* A sentinel list head marks this runtime as set up. */
    rt->fft_state = calloc(1, sizeof(clfft_plan));
    if (rt->fft_state == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for FFT plans");
    return D3M_OK;
}


static int same_shape(const d3m_fft_shape *a, const d3m_fft_shape *b)
{
    return a->batch == b->batch && a->n1 == b->n1 && a->n2 == b->n2 && a->n3 == b->n3;
}


static int make_plan(d3m_runtime *rt, const d3m_fft_shape *s, int forward, clfftPlanHandle *out)
{
    clfftPlanHandle h;
    size_t lengths[3] = {s->n3, s->n2, s->n1};   /* clFFT lists the fastest axis first */
    size_t nh = s->n3 / 2 + 1;
    size_t real_strides[3] = {1, s->n3, s->n3 * s->n2};
    size_t complex_strides[3] = {1, nh, nh * s->n2};
    size_t real_distance = s->n1 * s->n2 * s->n3, complex_distance = s->n1 * s->n2 * nh;

    CLFFT_CHECK(clfftCreateDefaultPlan(&h, rt->context, CLFFT_3D, lengths), s);
    CLFFT_CHECK(clfftSetPlanPrecision(h, CLFFT_SINGLE), s);
    CLFFT_CHECK(clfftSetResultLocation(h, CLFFT_OUTOFPLACE), s);
    CLFFT_CHECK(clfftSetPlanBatchSize(h, s->batch), s);
    if (forward) {
        CLFFT_CHECK(clfftSetLayout(h, CLFFT_REAL, CLFFT_HERMITIAN_INTERLEAVED), s);
        CLFFT_CHECK(clfftSetPlanInStride(h, CLFFT_3D, real_strides), s);
        CLFFT_CHECK(clfftSetPlanOutStride(h, CLFFT_3D, complex_strides), s);
        CLFFT_CHECK(clfftSetPlanDistance(h, real_distance, complex_distance), s);
    } else {
        CLFFT_CHECK(clfftSetLayout(h, CLFFT_HERMITIAN_INTERLEAVED, CLFFT_REAL), s);
        CLFFT_CHECK(clfftSetPlanInStride(h, CLFFT_3D, complex_strides), s);
        CLFFT_CHECK(clfftSetPlanOutStride(h, CLFFT_3D, real_strides), s);
        CLFFT_CHECK(clfftSetPlanDistance(h, complex_distance, real_distance), s);
    }
    CLFFT_CHECK(clfftSetPlanScale(h, CLFFT_FORWARD, 1.0f), s);
    CLFFT_CHECK(clfftSetPlanScale(h, CLFFT_BACKWARD, 1.0f / (float)real_distance), s);
    CLFFT_CHECK(clfftBakePlan(h, 1, &rt->queue, NULL, NULL), s);
    *out = h;
    return D3M_OK;
}


static int get_plan(d3m_runtime *rt, const d3m_fft_shape *s, int forward, clfftPlanHandle *out)
{
    D3M_TRY(ensure_setup(rt));
    clfft_plan *head = rt->fft_state;
    for (clfft_plan *p = head->next; p != NULL; p = p->next) {
        if (p->forward == forward && same_shape(&p->shape, s)) {
            *out = p->handle;
            return D3M_OK;
        }
    }
    clfft_plan *p = calloc(1, sizeof *p);
    if (p == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for an FFT plan");
    int status = make_plan(rt, s, forward, &p->handle);
    if (status != D3M_OK) {
        free(p);
        return status;
    }
    p->shape = *s;
    p->forward = forward;
    p->next = head->next;
    head->next = p;
    *out = p->handle;
    return D3M_OK;
}


static int transform(d3m_runtime *rt, const d3m_fft_shape *s, int forward, cl_mem in, cl_mem out)
{
    clfftPlanHandle plan = 0;
    D3M_TRY(get_plan(rt, s, forward, &plan));
    CLFFT_CHECK(clfftEnqueueTransform(plan, forward ? CLFFT_FORWARD : CLFFT_BACKWARD, 1, &rt->queue,
                                      0, NULL, NULL, &in, &out, NULL), s);
    if (d3m_env_finish())
        D3M_CL_CHECK(clFinish(rt->queue), forward ? "clFFT r2c" : "clFFT c2r");
    return D3M_OK;
}


static int clfft_r2c(d3m_runtime *rt, const d3m_fft_shape *s, cl_mem real, cl_mem complex_out)
{
    return transform(rt, s, 1, real, complex_out);
}


static int clfft_c2r(d3m_runtime *rt, const d3m_fft_shape *s, cl_mem complex_in, cl_mem real_out)
{
    return transform(rt, s, 0, complex_in, real_out);
}


/* clFFT 2.12 handles lengths whose prime factors are 2, 3, 5, 7, 11 and 13. */
static int clfft_supports(size_t n)
{
    static const size_t primes[] = {2, 3, 5, 7, 11, 13};
    for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++)
        while (n % primes[i] == 0)
            n /= primes[i];
    return n == 1;
}


static void clfft_release(d3m_runtime *rt)
{
    clfft_plan *head = rt->fft_state;
    if (head == NULL)
        return;
    clFinish(rt->queue);
    while (head->next != NULL) {
        clfft_plan *p = head->next;
        head->next = p->next;
        clfftDestroyPlan(&p->handle);
        free(p);
    }
    free(head);
    rt->fft_state = NULL;
    if (--setup_count == 0)
        clfftTeardown();
}


const d3m_fft_backend_ops d3m_fft_clfft = {
    "clfft", "2, 3, 5, 7, 11 and 13", clfft_supports, clfft_r2c, clfft_c2r, clfft_release,
};
