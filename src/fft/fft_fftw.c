/* fft_fftw.c - a host FFT backend for CPU devices. The device buffers are
 * mapped into host memory, which costs no copy on PoCL because its CPU
 * buffers are host memory. FFTW 3 transforms them in single precision with
 * as many threads as the device has compute units. FFTW is unnormalised
 * both ways, so the inverse is scaled by 1/N here. Plans (FFTW_ESTIMATE,
 * which needs no trial runs) are cached per shape and direction. */
#include <fftw3.h>
#include <stdlib.h>

#include "fft.h"

typedef struct fftw_plan_entry {
    d3m_fft_shape shape;
    int forward;
    fftwf_plan plan;
    int alignment;   /* alignments of the real and complex arrays it was made for */
    struct fftw_plan_entry *next;
} fftw_plan_entry;

static fftw_plan_entry *plans;   /* host plans serve every CPU device */
static int threads_ready;


static int same_shape(const d3m_fft_shape *a, const d3m_fft_shape *b)
{
    return a->batch == b->batch && a->n1 == b->n1 && a->n2 == b->n2 && a->n3 == b->n3;
}


static fftwf_plan make_plan(const d3m_fft_shape *s, int forward, float *real, fftwf_complex *cplx)
{
    int dims[3] = {(int)s->n1, (int)s->n2, (int)s->n3};
    int real_distance = (int)(s->n1 * s->n2 * s->n3);
    int complex_distance = (int)(s->n1 * s->n2 * (s->n3 / 2 + 1));
    unsigned flags = FFTW_ESTIMATE | (forward ? 0 : FFTW_DESTROY_INPUT);
    if (forward)
        return fftwf_plan_many_dft_r2c(3, dims, (int)s->batch, real, NULL, 1, real_distance, cplx,
                                       NULL, 1, complex_distance, flags);
    return fftwf_plan_many_dft_c2r(3, dims, (int)s->batch, cplx, NULL, 1, complex_distance, real,
                                   NULL, 1, real_distance, flags);
}


/* A plan for this shape, direction and alignment of the arrays. */
static int get_plan(d3m_runtime *rt, const d3m_fft_shape *s, int forward, float *real,
                    fftwf_complex *cplx, fftwf_plan *out)
{
    /* FFTW's new-array execute needs each array aligned as when planned, so
     * the key keeps the two alignments apart (each is below 64 bytes). */
    int alignment = fftwf_alignment_of(real) * 64 + fftwf_alignment_of((float *)cplx);
    for (fftw_plan_entry *p = plans; p != NULL; p = p->next) {
        if (p->forward == forward && p->alignment == alignment && same_shape(&p->shape, s)) {
            *out = p->plan;
            return D3M_OK;
        }
    }
    if (!threads_ready) {
        fftwf_init_threads();
        threads_ready = 1;
    }
    fftwf_plan_with_nthreads(rt->info.compute_units > 0 ? (int)rt->info.compute_units : 1);

    fftw_plan_entry *p = calloc(1, sizeof *p);
    if (p == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory for an FFT plan");
    p->plan = make_plan(s, forward, real, cplx);
    if (p->plan == NULL) {
        free(p);
        return d3m_fail(D3M_ERR_FFT, "FFTW could not plan a %zu x %zu x %zu transform (batch "
                        "%zu); set D3M_FFT=vkfft or clfft", s->n1, s->n2, s->n3, s->batch);
    }
    p->shape = *s;
    p->forward = forward;
    p->alignment = alignment;
    p->next = plans;
    plans = p;
    *out = p->plan;
    return D3M_OK;
}


/* Map a buffer of `bytes` for the host; blocking, so earlier kernels that
 * write it have finished. */
static int map(d3m_runtime *rt, cl_mem buffer, size_t bytes, cl_map_flags flags, void **host)
{
    cl_int code = CL_SUCCESS;
    *host = clEnqueueMapBuffer(rt->queue, buffer, CL_TRUE, flags, 0, bytes, 0, NULL, NULL, &code);
    if (code != CL_SUCCESS)
        return d3m_fail_cl("clEnqueueMapBuffer", code, "FFTW transform", NULL);
    return D3M_OK;
}


static int unmap(d3m_runtime *rt, cl_mem buffer, void *host)
{
    D3M_CL_CHECK(clEnqueueUnmapMemObject(rt->queue, buffer, host, 0, NULL, NULL), "FFTW transform");
    return D3M_OK;
}


static int transform(d3m_runtime *rt, const d3m_fft_shape *s, int forward, cl_mem real_buffer,
                     cl_mem complex_buffer)
{
    size_t cells = s->batch * s->n1 * s->n2 * s->n3;
    size_t modes = s->batch * s->n1 * s->n2 * (s->n3 / 2 + 1);
    void *real = NULL, *cplx = NULL;
    D3M_TRY(map(rt, real_buffer, cells * sizeof(float), forward ? CL_MAP_READ : CL_MAP_WRITE, &real));
    int status = map(rt, complex_buffer, modes * 2 * sizeof(float),
                     forward ? CL_MAP_WRITE : CL_MAP_READ | CL_MAP_WRITE, &cplx);

    fftwf_plan plan = NULL;
    if (status == D3M_OK)
        status = get_plan(rt, s, forward, real, cplx, &plan);
    if (status == D3M_OK && forward)
        fftwf_execute_dft_r2c(plan, real, cplx);
    if (status == D3M_OK && !forward) {
        fftwf_execute_dft_c2r(plan, cplx, real);
        float scale = 1.0f / (float)(s->n1 * s->n2 * s->n3);
        float *values = real;
        for (size_t i = 0; i < cells; i++)
            values[i] *= scale;
    }

    if (cplx != NULL) {
        int unmapped = unmap(rt, complex_buffer, cplx);
        if (status == D3M_OK)
            status = unmapped;
    }
    int unmapped = unmap(rt, real_buffer, real);
    return status == D3M_OK ? unmapped : status;
}


static int fftw_r2c(d3m_runtime *rt, const d3m_fft_shape *s, cl_mem real, cl_mem complex_out)
{
    return transform(rt, s, 1, real, complex_out);
}


/* complex_in is the caller's scratch copy: FFTW's c2r destroys its input. */
static int fftw_c2r(d3m_runtime *rt, const d3m_fft_shape *s, cl_mem complex_in, cl_mem real_out)
{
    return transform(rt, s, 0, real_out, complex_in);
}


/* FFTW transforms any size; the radices below are its fast ones. */
static int fftw_supports(size_t n)
{
    static const size_t primes[] = {2, 3, 5, 7, 11, 13};
    for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++)
        while (n % primes[i] == 0)
            n /= primes[i];
    return n == 1;
}


static void fftw_release(d3m_runtime *rt)
{
    (void)rt;
}


void d3m_fft_fftw_cleanup(void);
void d3m_fft_fftw_cleanup(void)
{
    while (plans != NULL) {
        fftw_plan_entry *p = plans;
        plans = p->next;
        fftwf_destroy_plan(p->plan);
        free(p);
    }
    if (threads_ready) {
        fftwf_cleanup_threads();
        threads_ready = 0;
    }
}


const d3m_fft_backend_ops d3m_fft_fftw = {
    "fftw", "2, 3, 5, 7, 11 and 13", fftw_supports, fftw_r2c, fftw_c2r, fftw_release,
};
