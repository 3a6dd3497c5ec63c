/* fft.c - shape checks and backend dispatch for the 3D real FFTs of d3m.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"

static const d3m_fft_backend_ops *chosen;


static const d3m_fft_backend_ops *find_backend(const char *name)
{
    if (strcmp(name, "clfft") == 0)
        return &d3m_fft_clfft;
    if (strcmp(name, "vkfft") == 0)
        return &d3m_fft_vkfft;
    if (strcmp(name, "fftw") == 0)
        return &d3m_fft_fftw;
    return NULL;
}


int d3m_fft_use_backend(const char *name)
{
    const d3m_fft_backend_ops *b = find_backend(name);
    if (b == NULL)
        return d3m_fail(D3M_ERR_ARG, "unknown FFT backend '%s'; use \"fftw\" (CPU devices only), "
                        "\"vkfft\" or \"clfft\"", name);
    chosen = b;
    return D3M_OK;
}


/* The backend chosen by d3m_fft_use_backend, else $D3M_FFT, else FFTW on
 * CPU devices and VkFFT on others. In the d3m bench runs on PoCL with 2
 * cores (docs/benchmarks.md), an r2c+c2r pair at 64^3 was 2 to 3 times
 * faster with FFTW than with VkFFT or clFFT. FFTW works on the host through mapped
 * buffers, so it is used only where device memory is host memory. */
static const d3m_fft_backend_ops *backend_for(const d3m_runtime *rt)
{
    if (chosen == NULL) {
        const char *name = getenv("D3M_FFT");
        if (name && name[0] && find_backend(name))
            chosen = find_backend(name);
    }
    const d3m_fft_backend_ops *b = chosen;
    if (b == NULL)
        b = rt != NULL && rt->info.is_cpu ? &d3m_fft_fftw : &d3m_fft_vkfft;
    if (b == &d3m_fft_fftw && rt != NULL && !rt->info.is_cpu)
        b = &d3m_fft_vkfft;
    return b;
}


static const d3m_fft_backend_ops *backend(void)
{
    return backend_for(d3m_runtime_current());
}


const char *d3m_fft_backend(void)
{
    return backend()->name;
}


void d3m_fft_release(d3m_runtime *rt);
void d3m_fft_release(d3m_runtime *rt)
{
    d3m_fft_clfft.release(rt);
    d3m_fft_vkfft.release(rt);
    d3m_fft_fftw.release(rt);
}


/* An unknown $D3M_FFT is an error rather than a silent fall back to the
 * default, unless d3m_fft_use_backend has chosen a backend. */
static int check_environment(void)
{
    const char *name = getenv("D3M_FFT");
    if (chosen != NULL || name == NULL || name[0] == '\0' || find_backend(name) != NULL)
        return D3M_OK;
    return d3m_fail(D3M_ERR_ARG, "D3M_FFT = '%s' is not an FFT backend; set it to fftw (CPU "
                    "devices only), vkfft or clfft, or unset it for the default", name);
}


static int real_shape(const d3m_tensor *real, const char *what, d3m_fft_shape *s)
{
    D3M_TRY(check_environment());
    if (real->ndim < 3) {
        char text[128];
        d3m_format_shape(text, sizeof text, real->ndim, real->shape);
        return d3m_fail(D3M_ERR_SHAPE, "%s: the real mesh needs at least 3 dimensions "
                        "[..., n1, n2, n3], got %s", what, text);
    }
    int nd = real->ndim;
    s->n1 = real->shape[nd - 3];
    s->n2 = real->shape[nd - 2];
    s->n3 = real->shape[nd - 1];
    s->batch = real->numel / (s->n1 * s->n2 * s->n3);

    const d3m_fft_backend_ops *b = backend();
    size_t sizes[3] = {s->n1, s->n2, s->n3};
    for (int i = 0; i < 3; i++)
        if (!b->supports(sizes[i]))
            return d3m_fail(D3M_ERR_FFT, "%s: mesh size %zu is not supported by the %s backend, "
                            "which handles sizes whose prime factors are %s; use for example "
                            "a power of two", what, sizes[i], b->name, b->radices);
    return D3M_OK;
}


static int check_complex(const d3m_tensor *complex_t, const d3m_tensor *real, const d3m_fft_shape *s,
                         const char *what)
{
    size_t expected[D3M_MAX_DIMS];
    int nd = real->ndim + 1;
    if (nd > D3M_MAX_DIMS)
        return d3m_fail(D3M_ERR_SHAPE, "%s: a batched real mesh may have at most %d dimensions",
                        what, D3M_MAX_DIMS - 1);
    memcpy(expected, real->shape, (size_t)real->ndim * sizeof(size_t));
    expected[nd - 2] = s->n3 / 2 + 1;
    expected[nd - 1] = 2;
    return d3m_check_shape(complex_t, what, nd, expected);
}


int d3m_fft_r2c(const d3m_tensor *real, d3m_tensor *complex_out)
{
    d3m_fft_shape s;
    D3M_TRY(real_shape(real, "fft r2c", &s));
    D3M_TRY(check_complex(complex_out, real, &s, "fft r2c output"));
    return backend_for(real->runtime)->r2c(real->runtime, &s, real->buffer, complex_out->buffer);
}


int d3m_fft_c2r_overwrite(d3m_tensor *complex_in, d3m_tensor *real_out)
{
    d3m_fft_shape s;
    D3M_TRY(real_shape(real_out, "fft c2r", &s));
    D3M_TRY(check_complex(complex_in, real_out, &s, "fft c2r input"));
    return backend_for(real_out->runtime)->c2r(real_out->runtime, &s, complex_in->buffer,
                                               real_out->buffer);
}


int d3m_fft_c2r(const d3m_tensor *complex_in, d3m_tensor *real_out)
{
    /* Backends may destroy the input of a c2r transform; keep the caller's. */
    d3m_tensor *scratch = NULL;
    D3M_TRY(d3m_tensor_new(complex_in->ndim, complex_in->shape, &scratch));
    int status = d3m_tensor_copy(scratch, complex_in);
    if (status == D3M_OK)
        status = d3m_fft_c2r_overwrite(scratch, real_out);
    d3m_tensor_free(scratch);
    return status;
}
