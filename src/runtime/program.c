/* program.c - building the embedded kernels (once per device, file and
 * options), the kernel cache and kernel launches. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "runtime.h"

#define MAX_KERNELS_PER_PROGRAM 32

struct d3m_program_entry {
    char file[64];
    char *options;
    cl_program program;
    int nkernels;
    char *kernel_names[MAX_KERNELS_PER_PROGRAM];
    cl_kernel kernels[MAX_KERNELS_PER_PROGRAM];
    d3m_program_entry *next;
};

/* Options every program gets: OpenCL C 1.2, so kernels stay portable. */
static const char *const base_options = "-cl-std=CL1.2";


static const char *find_source(const char *file)
{
    for (const d3m_kernel_source *s = d3m_kernel_sources; s->file != NULL; s++)
        if (strcmp(s->file, file) == 0)
            return s->text;
    return NULL;
}


static int build_failure(d3m_runtime *rt, cl_program program, cl_int code, const char *file,
                         const char *options)
{
    size_t size = 0;
    clGetProgramBuildInfo(program, rt->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size);
    char *log = malloc(size + 1);
    if (log != NULL) {
        log[0] = '\0';
        clGetProgramBuildInfo(program, rt->device, CL_PROGRAM_BUILD_LOG, size, log, NULL);
        log[size] = '\0';
    }
    int status = d3m_fail(D3M_ERR_BUILD,
                          "clBuildProgram failed with %s (%d) for kernels/%s with options '%s' "
                          "on %s; build log:\n%s",
                          d3m_cl_error_name(code), (int)code, file, options, rt->info.name,
                          log ? log : "(no log)");
    free(log);
    return status;
}


static int build_program(d3m_runtime *rt, const char *file, const char *options,
                         d3m_program_entry **out)
{
    const char *source = find_source(file);
    if (source == NULL)
        return d3m_fail(D3M_ERR_ARG, "no kernel file kernels/%s is embedded in the library", file);

    char full_options[1024];
    snprintf(full_options, sizeof full_options, "%s %s", base_options, options ? options : "");

    cl_int code = CL_SUCCESS;
    cl_program program = clCreateProgramWithSource(rt->context, 1, &source, NULL, &code);
    if (code != CL_SUCCESS)
        return d3m_fail_cl("clCreateProgramWithSource", code, file, NULL);
    code = clBuildProgram(program, 1, &rt->device, full_options, NULL, NULL);
    if (code != CL_SUCCESS) {
        int status = build_failure(rt, program, code, file, full_options);
        clReleaseProgram(program);
        return status;
    }

    d3m_program_entry *entry = calloc(1, sizeof *entry);
    char *options_copy = strdup(options ? options : "");
    if (entry == NULL || options_copy == NULL) {
        free(entry);
        free(options_copy);
        clReleaseProgram(program);
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory building kernels/%s", file);
    }
    snprintf(entry->file, sizeof entry->file, "%s", file);
    entry->options = options_copy;
    entry->program = program;
    entry->next = rt->programs;
    rt->programs = entry;
    *out = entry;
    return D3M_OK;
}


int d3m_kernel_get(d3m_runtime *rt, const char *file, const char *name, const char *options,
                   cl_kernel *kernel)
{
    const char *opts = options ? options : "";
    d3m_program_entry *entry = rt->programs;
    while (entry != NULL && (strcmp(entry->file, file) != 0 || strcmp(entry->options, opts) != 0))
        entry = entry->next;
    if (entry == NULL)
        D3M_TRY(build_program(rt, file, opts, &entry));

    for (int i = 0; i < entry->nkernels; i++) {
        if (strcmp(entry->kernel_names[i], name) == 0) {
            *kernel = entry->kernels[i];
            return D3M_OK;
        }
    }
    if (entry->nkernels == MAX_KERNELS_PER_PROGRAM)
        return d3m_fail(D3M_ERR_ARG, "kernels/%s has more than %d kernels; split the file", file,
                        MAX_KERNELS_PER_PROGRAM);

    cl_int code = CL_SUCCESS;
    cl_kernel k = clCreateKernel(entry->program, name, &code);
    if (code != CL_SUCCESS) {
        char detail[160];
        snprintf(detail, sizeof detail, "no kernel '%s' in kernels/%s", name, file);
        return d3m_fail_cl("clCreateKernel", code, name, detail);
    }
    entry->kernel_names[entry->nkernels] = strdup(name);
    entry->kernels[entry->nkernels] = k;
    entry->nkernels++;
    *kernel = k;
    return D3M_OK;
}


void d3m_programs_release(d3m_runtime *rt);
void d3m_programs_release(d3m_runtime *rt)
{
    while (rt->programs != NULL) {
        d3m_program_entry *entry = rt->programs;
        rt->programs = entry->next;
        for (int i = 0; i < entry->nkernels; i++) {
            clReleaseKernel(entry->kernels[i]);
            free(entry->kernel_names[i]);
        }
        clReleaseProgram(entry->program);
        free(entry->options);
        free(entry);
    }
}


size_t d3m_round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}


/* ---- launches ------------------------------------------------------------- */

static int set_argument(cl_kernel kernel, const char *name, cl_uint index, char type, va_list *args)
{
    cl_int code;
    switch (type) {
    case 't': {
        const d3m_tensor *t = va_arg(*args, const d3m_tensor *);
        if (t == NULL)
            return d3m_fail(D3M_ERR_ARG, "kernel %s: argument %u is a NULL tensor", name, index);
        code = clSetKernelArg(kernel, index, sizeof(cl_mem), &t->buffer);
        break;
    }
    case 'b': {
        cl_mem m = va_arg(*args, cl_mem);
        code = clSetKernelArg(kernel, index, sizeof(cl_mem), &m);
        break;
    }
    case 'i': {
        cl_int v = (cl_int)va_arg(*args, int);
        code = clSetKernelArg(kernel, index, sizeof v, &v);
        break;
    }
    case 'u': {
        cl_uint v = (cl_uint)va_arg(*args, unsigned);
        code = clSetKernelArg(kernel, index, sizeof v, &v);
        break;
    }
    case 'l': {
        cl_long v = (cl_long)va_arg(*args, long long);
        code = clSetKernelArg(kernel, index, sizeof v, &v);
        break;
    }
    case 'f': {
        cl_float v = (cl_float)va_arg(*args, double);
        code = clSetKernelArg(kernel, index, sizeof v, &v);
        break;
    }
    case 'd': {
        cl_double v = (cl_double)va_arg(*args, double);
        code = clSetKernelArg(kernel, index, sizeof v, &v);
        break;
    }
    case 'L': {
        size_t bytes = va_arg(*args, size_t);
        code = clSetKernelArg(kernel, index, bytes, NULL);
        break;
    }
    default:
        return d3m_fail(D3M_ERR_ARG, "kernel %s: unknown argument type '%c' at index %u", name,
                        type, index);
    }
    if (code != CL_SUCCESS) {
        char detail[64];
        snprintf(detail, sizeof detail, "argument %u (type '%c')", index, type);
        return d3m_fail_cl("clSetKernelArg", code, name, detail);
    }
    return D3M_OK;
}


static int wait_and_profile(d3m_runtime *rt, cl_event event, const char *name)
{
    cl_int code = clWaitForEvents(1, &event);
    if (code != CL_SUCCESS) {
        clReleaseEvent(event);
        return d3m_fail_cl("clWaitForEvents", code, name, "the kernel failed while running");
    }
    if (d3m_env_profile()) {
        cl_ulong start = 0, end = 0;
        clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL);
        clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL);
        d3m_profile_add(name, (double)(end - start) * 1e-9);
    }
    clReleaseEvent(event);
    (void)rt;
    return D3M_OK;
}


int d3m_launch(const char *file, const char *name, const char *options, unsigned work_dim,
               const size_t *global, const size_t *local, const char *signature, ...)
{
    d3m_runtime *rt = d3m_runtime_current();
    if (rt == NULL)
        return D3M_ERR_DEVICE;
    cl_kernel kernel;
    D3M_TRY(d3m_kernel_get(rt, file, name, options, &kernel));

    va_list args;
    va_start(args, signature);
    for (cl_uint i = 0; signature[i] != '\0'; i++) {
        int status = set_argument(kernel, name, i, signature[i], &args);
        if (status != D3M_OK) {
            va_end(args);
            return status;
        }
    }
    va_end(args);

    size_t rounded[3];
    for (unsigned d = 0; d < work_dim; d++) {
        if (global[d] == 0)
            return D3M_OK;   /* nothing to do */
        rounded[d] = local ? d3m_round_up(global[d], local[d]) : global[d];
    }

    int sync = d3m_env_finish() || d3m_env_profile();
    cl_event event = NULL;
    cl_int code = clEnqueueNDRangeKernel(rt->queue, kernel, work_dim, NULL, rounded, local, 0,
                                         NULL, sync ? &event : NULL);
    if (code != CL_SUCCESS) {
        char detail[160];
        snprintf(detail, sizeof detail, "global [%zu %zu %zu], local %s", rounded[0],
                 work_dim > 1 ? rounded[1] : (size_t)1, work_dim > 2 ? rounded[2] : (size_t)1,
                 local ? "given" : "driver's choice");
        return d3m_fail_cl("clEnqueueNDRangeKernel", code, name, detail);
    }
    if (sync)
        return wait_and_profile(rt, event, name);
    return D3M_OK;
}
