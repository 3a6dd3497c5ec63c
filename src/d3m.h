/*
 * d3m.h - public C interface of the d3m runtime: OpenCL devices, float32
 * device tensors, elementwise operations, reductions and 3D real FFTs.
 *
 * Every function that can fail returns a d3m_status (0 on success). The
 * message of the last failure in the calling thread is d3m_last_error(); it
 * names the OpenCL call, the CL error name, the kernel and the argument.
 * The runtime is process-wide and single-threaded: call it from one thread.
 */
#ifndef D3M_H
#define D3M_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define D3M_MAX_DIMS 5

typedef enum d3m_status {
    D3M_OK = 0,
    D3M_ERR_CL = -1,       /* an OpenCL call failed */
    D3M_ERR_ARG = -2,      /* invalid argument value */
    D3M_ERR_SHAPE = -3,    /* shapes do not match */
    D3M_ERR_MEMORY = -4,   /* out of device or host memory */
    D3M_ERR_DEVICE = -5,   /* no such device, or no OpenCL platform */
    D3M_ERR_BUILD = -6,    /* an OpenCL program failed to compile */
    D3M_ERR_FFT = -7,      /* the FFT backend failed or cannot do a size */
    D3M_ERR_IO = -8,       /* file input or output failed */
    D3M_ERR_VALUE = -9     /* NaN, Inf or a value out of its valid range */
} d3m_status;

/* ---- errors ------------------------------------------------------------- */

/* Message of the last failure in this thread ("" when none). */
const char *d3m_last_error(void);

/* Record a failure message (printf-style) and return status, so that callers
 * can write `return d3m_fail(D3M_ERR_ARG, "n = %d must be positive", n);`. */
int d3m_fail(int status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Symbolic name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *d3m_cl_error_name(cl_int code);

/* ---- devices ------------------------------------------------------------ */

typedef struct d3m_device_info {
    int platform_index;
    int device_index;
    char platform_name[256];
    char name[256];
    char vendor[256];
    char version[256];         /* CL_DEVICE_VERSION */
    char driver_version[128];
    int is_gpu;
    int is_cpu;
    unsigned compute_units;
    uint64_t global_memory;    /* bytes */
    uint64_t max_allocation;   /* bytes, CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    uint64_t local_memory;     /* bytes */
    size_t max_work_group_size;
    int has_fp64;
    int has_int64_atomics;     /* cl_khr_int64_base_atomics on a little-endian device */
} d3m_device_info;

/* List every device of every platform. *devices is malloc'ed; free() it. */
int d3m_list_devices(d3m_device_info **devices, int *count);

/* Select the device for all later work. spec is "P:D" (platform and device
 * index), a case-insensitive substring of the device or platform name, or
 * NULL/"" for the default: $D3M_DEVICE if set, else the first GPU, else the
 * first CPU device. Tensors made on an earlier device stay usable. */
int d3m_use_device(const char *spec);

/* Information about the current device (selecting the default if none). */
int d3m_current_device(d3m_device_info *info);

/* Bytes held by live tensors on all devices, and the number of live tensors
 * (views count once each). */
uint64_t d3m_device_bytes(void);
long d3m_live_tensors(void);

/* Wait for all queued work on the current device. */
int d3m_finish(void);

/* ---- tensors ------------------------------------------------------------ */

/* A float32, contiguous, row-major tensor in device memory. Reshaped views
 * share the buffer (each view holds its own OpenCL reference). */
typedef struct d3m_tensor {
    cl_mem buffer;
    struct d3m_runtime *runtime;
    int ndim;
    size_t shape[D3M_MAX_DIMS];
    size_t numel;
    long *views;   /* internal: number of tensors sharing buffer */
} d3m_tensor;

/* Allocate an uninitialised tensor. ndim is 1..D3M_MAX_DIMS, every extent
 * at least 1. Fails with D3M_ERR_MEMORY when the device has no room. */
int d3m_tensor_new(int ndim, const size_t *shape, d3m_tensor **out);
int d3m_tensor_zeros(int ndim, const size_t *shape, d3m_tensor **out);

/* Release the tensor and its buffer reference. NULL is accepted. */
void d3m_tensor_free(d3m_tensor *t);

/* A view of the same buffer with another shape of the same element count. */
int d3m_tensor_reshape(const d3m_tensor *t, int ndim, const size_t *shape, d3m_tensor **out);

/* Host transfers of all numel floats (blocking). */
int d3m_tensor_write(d3m_tensor *t, const float *host);
int d3m_tensor_read(const d3m_tensor *t, float *host);

/* Transfers of count floats starting at element offset (blocking). */
int d3m_tensor_write_range(d3m_tensor *t, size_t offset, size_t count, const float *host);
int d3m_tensor_read_range(const d3m_tensor *t, size_t offset, size_t count, float *host);

/* Device-side copies: dst = src (same numel), and a range copy of count
 * floats from src[src_offset] to dst[dst_offset]. */
int d3m_tensor_copy(d3m_tensor *dst, const d3m_tensor *src);
int d3m_tensor_copy_range(d3m_tensor *dst, size_t dst_offset, const d3m_tensor *src,
                          size_t src_offset, size_t count);

int d3m_tensor_fill(d3m_tensor *t, float value);

/* Elementwise operations; all tensors have the same numel and out may alias
 * an input. */
int d3m_tensor_add(d3m_tensor *out, const d3m_tensor *a, const d3m_tensor *b);
int d3m_tensor_sub(d3m_tensor *out, const d3m_tensor *a, const d3m_tensor *b);
int d3m_tensor_mul(d3m_tensor *out, const d3m_tensor *a, const d3m_tensor *b);
int d3m_tensor_scale(d3m_tensor *out, const d3m_tensor *a, float alpha);   /* out = alpha a */
int d3m_tensor_axpy(d3m_tensor *y, float alpha, const d3m_tensor *x);       /* y += alpha x */

/* Reductions. Each work-item sums a contiguous chunk with Kahan
 * compensation, work-groups combine pairwise, and the host adds the
 * per-group partials in double: the relative error stays near float
 * epsilon for 10^7 elements. */
int d3m_tensor_sum(const d3m_tensor *t, double *result);
int d3m_tensor_mean(const d3m_tensor *t, double *result);
int d3m_tensor_max_abs(const d3m_tensor *t, double *result);
int d3m_tensor_dot(const d3m_tensor *a, const d3m_tensor *b, double *result);

/* Non-zero when any element is NaN or +-Inf. */
int d3m_tensor_has_nonfinite(const d3m_tensor *t, int *result);

/* Check that t has the given rank and extents; extents of 0 match anything.
 * what names the argument in the message ("input of conv3d"). */
int d3m_check_shape(const d3m_tensor *t, const char *what, int ndim, const size_t *shape);

/* Check that two tensors have equal numel. */
int d3m_check_same_numel(const d3m_tensor *a, const d3m_tensor *b, const char *what);

/* Write "[2, 3, 4]" into buf. */
void d3m_format_shape(char *buf, size_t size, int ndim, const size_t *shape);

/* ---- FFT ---------------------------------------------------------------- */

/* 3D real-to-complex transform of the last three axes of real, shape
 * [..., n1, n2, n3], into complex, shape [..., n1, n2, n3/2+1, 2] (real and
 * imaginary parts interleaved). Leading axes are a batch. The forward
 * transform is unnormalised:  F(k) = sum_x f(x) exp(-i k.x). */
int d3m_fft_r2c(const d3m_tensor *real, d3m_tensor *complex_out);

/* Inverse transform with the 1/(n1 n2 n3) factor, so c2r(r2c(f)) = f. The
 * input is left unchanged. n3 is taken from real_out's shape. */
int d3m_fft_c2r(const d3m_tensor *complex_in, d3m_tensor *real_out);

/* d3m_fft_c2r without the copy that keeps the input: complex_in may be
 * overwritten, as the FFT libraries do. For Fourier-space temporaries. */
int d3m_fft_c2r_overwrite(d3m_tensor *complex_in, d3m_tensor *real_out);

/* Name of the FFT backend in use ("vkfft" or "clfft"). */
const char *d3m_fft_backend(void);

/* Choose the FFT backend: "vkfft" or "clfft". Without a call, $D3M_FFT
 * chooses, and VkFFT is the default. */
int d3m_fft_use_backend(const char *name);

/* ---- library ------------------------------------------------------------ */

const char *d3m_version(void);

/* Release every device resource (programs, queues, FFT plans). Tensors
 * still alive must not be used afterwards. Registered with atexit(). */
void d3m_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
