/* kernels.h - the OpenCL sources embedded from the .cl files of kernels/ at build time. */
#ifndef D3M_KERNELS_H
#define D3M_KERNELS_H

typedef struct d3m_kernel_source {
    const char *file;   /* file name, e.g. "tensor.cl" */
    const char *text;   /* NUL-terminated source */
} d3m_kernel_source;

/* Table ending with a {NULL, NULL} entry (generated). */
extern const d3m_kernel_source d3m_kernel_sources[];

#endif
