/* fft_vkfft.c - the VkFFT backend (VkFFT 1.2, OpenCL backend, header-only):
 * one application per (shape, batch), holding both directions, cached per
 * device. Its inverse is normalised by 1/N like ours. */
#define VKFFT_BACKEND 3
#include <stdlib.h>
#include <vkFFT.h>

#include "fft.h"

typedef struct vkfft_plan {
    d3m_fft_shape shape;
    VkFFTApplication app;
    cl_mem real_dummy, complex_dummy;   /* buffers the plan was made with */
    uint64_t real_bytes, complex_bytes; /* VkFFT keeps pointers to these */
    struct vkfft_plan *next;
} vkfft_plan;


static int vkfft_fail(const char *call, VkFFTResult code, const d3m_fft_shape *s)
{
    return d3m_fail(D3M_ERR_FFT, "%s failed with VkFFT error %d for a %zu x %zu x %zu mesh "
                    "(batch %zu); set D3M_FFT=clfft to use the clFFT backend",
                    call, (int)code, s->n1, s->n2, s->n3, s->batch);
}


static int same_shape(const d3m_fft_shape *a, const d3m_fft_shape *b)
{
    return a->batch == b->batch && a->n1 == b->n1 && a->n2 == b->n2 && a->n3 == b->n3;
}


/* VkFFT wants the buffers at plan time; it records their sizes, and the
 * launches pass the real ones. */
static int make_plan(d3m_runtime *rt, const d3m_fft_shape *s, vkfft_plan *p)
{
    size_t nh = s->n3 / 2 + 1;
    p->real_bytes = (uint64_t)(s->batch * s->n1 * s->n2 * s->n3 * sizeof(float));
    p->complex_bytes = (uint64_t)(s->batch * s->n1 * s->n2 * nh * 2 * sizeof(float));
    cl_int code = CL_SUCCESS;
    p->real_dummy = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, p->real_bytes, NULL, &code);
    if (code != CL_SUCCESS)
        return d3m_fail_cl("clCreateBuffer", code, "VkFFT plan", NULL);
    p->complex_dummy = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, p->complex_bytes, NULL,
                                      &code);
    if (code != CL_SUCCESS)
        return d3m_fail_cl("clCreateBuffer", code, "VkFFT plan", NULL);

    VkFFTConfiguration config = {0};
    config.FFTdim = 3;
    config.size[0] = s->n3;   /* VkFFT lists the fastest axis first */
    config.size[1] = s->n2;
    config.size[2] = s->n1;
    config.numberBatches = s->batch;
    config.performR2C = 1;
    config.normalize = 1;
    config.isInputFormatted = 1;              /* the real array is unpadded, in its own buffer */
    config.inverseReturnToInputBuffer = 1;    /* c2r writes to the real buffer */
    config.inputBufferStride[0] = s->n3;
    config.inputBufferStride[1] = s->n3 * s->n2;
    config.inputBufferStride[2] = s->n3 * s->n2 * s->n1;
    config.bufferStride[0] = nh;
    config.bufferStride[1] = nh * s->n2;
    config.bufferStride[2] = nh * s->n2 * s->n1;
    config.device = &rt->device;
    config.context = &rt->context;
    config.platform = &rt->platform;
    config.inputBuffer = &p->real_dummy;
    config.inputBufferSize = &p->real_bytes;
    config.buffer = &p->complex_dummy;
    config.bufferSize = &p->complex_bytes;

    VkFFTResult result = initializeVkFFT(&p->app, config);
    if (result != VKFFT_SUCCESS)
        return vkfft_fail("initializeVkFFT", result, s);
    return D3M_OK;
}


static void free_plan(vkfft_plan *p)
{
    deleteVkFFT(&p->app);
    if (p->real_dummy)
        clReleaseMemObject(p->real_dummy);
    if (p->complex_dummy)
        clReleaseMemObject(p->complex_dummy);
    free(p);
}


static int get_plan(d3m_runtime *rt, const d3m_fft_shape *s, vkfft_plan **out)
{
    for (vkfft_plan *p = rt->vkfft_state; p != NULL; p = p->next) {
        if (same_shape(&p->shape, s)) {
            *out = p;
            return D3M_OK;
        }
    }
    vkfft_plan *p = calloc(1, sizeof *p);
    if (p == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for an FFT plan");
    int status = make_plan(rt, s, p);
    if (status != D3M_OK) {
        free_plan(p);
        return status;
    }
    p->shape = *s;
    p->next = rt->vkfft_state;
    rt->vkfft_state = p;
    *out = p;
    return D3M_OK;
}


static int transform(d3m_runtime *rt, const d3m_fft_shape *s, int inverse, cl_mem real,
                     cl_mem complex_buffer)
{
    vkfft_plan *p = NULL;
    D3M_TRY(get_plan(rt, s, &p));
    VkFFTLaunchParams launch = {0};
    launch.commandQueue = &rt->queue;
    launch.inputBuffer = &real;
    launch.buffer = &complex_buffer;
    VkFFTResult result = VkFFTAppend(&p->app, inverse ? 1 : -1, &launch);
    if (result != VKFFT_SUCCESS)
        return vkfft_fail("VkFFTAppend", result, s);
    if (d3m_env_finish())
        D3M_CL_CHECK(clFinish(rt->queue), inverse ? "VkFFT c2r" : "VkFFT r2c");
    return D3M_OK;
}


static int vkfft_r2c(d3m_runtime *rt, const d3m_fft_shape *s, cl_mem real, cl_mem complex_out)
{
    return transform(rt, s, 0, real, complex_out);
}


static int vkfft_c2r(d3m_runtime *rt, const d3m_fft_shape *s, cl_mem complex_in, cl_mem real_out)
{
    return transform(rt, s, 1, real_out, complex_in);
}


/* VkFFT's radix kernels cover the primes 2 to 13. Other sizes would need
 * Bluestein's algorithm, whose kernels crashed PoCL 3.1's LLVM 15 compiler
 * in a test here (size 17), so they are rejected. */
static int vkfft_supports(size_t n)
{
    static const size_t primes[] = {2, 3, 5, 7, 11, 13};
    for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++)
        while (n % primes[i] == 0)
            n /= primes[i];
    return n == 1;
}


static void vkfft_release(d3m_runtime *rt)
{
    clFinish(rt->queue);
    while (rt->vkfft_state != NULL) {
        vkfft_plan *p = rt->vkfft_state;
        rt->vkfft_state = p->next;
        free_plan(p);
    }
}


const d3m_fft_backend_ops d3m_fft_vkfft = {
    "vkfft", "2, 3, 5, 7, 11 and 13", vkfft_supports,
    vkfft_r2c, vkfft_c2r, vkfft_release,
};
