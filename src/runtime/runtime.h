/*
 * runtime.h - internals shared by the library's modules (nn, pm, stats, fft):
 * the per-device runtime, kernel launches and OpenCL error checks.
 * Not installed; C programs embedding d3m use d3m.h only.
 */
#ifndef D3M_RUNTIME_H
#define D3M_RUNTIME_H

#include "d3m.h"

typedef struct d3m_program_entry d3m_program_entry;

typedef struct d3m_runtime {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    d3m_device_info info;
    d3m_program_entry *programs;   /* built programs and their kernels */
    void *fft_state;               /* owned by the clFFT backend */
    void *vkfft_state;             /* owned by the VkFFT backend */
    struct d3m_runtime *next;      /* every runtime made in this process */
} d3m_runtime;

/* The runtime of the current device, selecting the default on first use.
 * NULL on failure (message in d3m_last_error()). */
d3m_runtime *d3m_runtime_current(void);

/* Record the failure of an OpenCL call: "clEnqueueNDRangeKernel failed with
 * CL_INVALID_WORK_GROUP_SIZE (kernel conv3d_forward): <detail>". detail may be
 * NULL. Returns D3M_ERR_CL, or D3M_ERR_MEMORY for allocation failures. */
int d3m_fail_cl(const char *call, cl_int code, const char *kernel, const char *detail);

/* Evaluate an OpenCL call returning cl_int; on failure record it and return. */
#define D3M_CL_CHECK(call_expr, kernel_name)                                      \
    do {                                                                           \
        cl_int d3m_cl_code_ = (call_expr);                                         \
        if (d3m_cl_code_ != CL_SUCCESS)                                            \
            return d3m_fail_cl(#call_expr, d3m_cl_code_, (kernel_name), NULL);     \
    } while (0)

/* Propagate a d3m status. */
#define D3M_TRY(expr)                  \
    do {                               \
        int d3m_status_ = (expr);      \
        if (d3m_status_ != D3M_OK)     \
            return d3m_status_;        \
    } while (0)

/* The kernel `name` from kernels/<file>, built for rt's device with the given
 * build options (may be NULL). Programs are built once per (device, file,
 * options) and kernels once per program. On a build failure the message
 * contains the CL error, the file, the options and the build log. */
int d3m_kernel_get(d3m_runtime *rt, const char *file, const char *name, const char *options,
                   cl_kernel *kernel);

/*
 * Launch a kernel on the current device.
 *   global/local: work_dim sizes; local may be NULL (the driver picks). Each
 *   global size is rounded up to a multiple of the local size, so kernels
 *   must check their index bounds.
 *   signature: one character per kernel argument, followed by the values:
 *     't' const d3m_tensor *  (its buffer)     'b' cl_mem
 *     'i' int (cl_int)   'u' unsigned (cl_uint)   'l' long long (cl_long)
 *     'f' double passed as cl_float             'd' double passed as cl_double
 *     'L' size_t bytes of __local memory
 * With D3M_CL_FINISH=1 the queue is finished after each launch, so errors
 * name the kernel that caused them; with D3M_PROFILE=1 each launch is timed.
 */
int d3m_launch(const char *file, const char *name, const char *options, unsigned work_dim,
               const size_t *global, const size_t *local, const char *signature, ...);

/* Round n up to a multiple of m (m > 0). */
size_t d3m_round_up(size_t n, size_t m);

/* Record per-kernel time (seconds) for the D3M_PROFILE report. */
void d3m_profile_add(const char *kernel, double seconds);

/* Environment flags read once. */
int d3m_env_finish(void);
int d3m_env_profile(void);

#endif
