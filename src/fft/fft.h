/* fft.h - the interface an FFT backend implements. A backend transforms a
 * batch of n1 x n2 x n3 real meshes (n3 fastest) to n1 x n2 x (n3/2+1)
 * complex ones and back, with the conventions of d3m.h. */
#ifndef D3M_FFT_H
#define D3M_FFT_H

#include "runtime/runtime.h"

typedef struct d3m_fft_shape {
    size_t batch, n1, n2, n3;
} d3m_fft_shape;

typedef struct d3m_fft_backend_ops {
    const char *name;
    /* Largest prime factor set the backend supports, for error messages. */
    const char *radices;
    int (*supports)(size_t n);
    int (*r2c)(d3m_runtime *rt, const d3m_fft_shape *shape, cl_mem real, cl_mem complex_out);
    /* May overwrite complex_in; the caller passes a scratch copy. */
    int (*c2r)(d3m_runtime *rt, const d3m_fft_shape *shape, cl_mem complex_in, cl_mem real_out);
    void (*release)(d3m_runtime *rt);
} d3m_fft_backend_ops;

extern const d3m_fft_backend_ops d3m_fft_clfft;
extern const d3m_fft_backend_ops d3m_fft_vkfft;
extern const d3m_fft_backend_ops d3m_fft_fftw;   /* host FFTW, for CPU devices */

#endif
