/* device.c - OpenCL platform and device discovery, selection and the
 * process-wide runtime (context and queue) of each selected device. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static d3m_runtime *all_runtimes;   /* every runtime made, freed at shutdown */
static d3m_runtime *current;
static int shutdown_registered;

void d3m_fft_release(d3m_runtime *rt);
void d3m_fft_fftw_cleanup(void);
void d3m_programs_release(d3m_runtime *rt);
void d3m_profile_report(void);


static int read_device_info(cl_platform_id platform, cl_device_id device, int p, int d,
                            d3m_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->platform_index = p;
    info->device_index = d;

    cl_device_type type = 0;
    cl_uint units = 0;
    cl_ulong global = 0, max_alloc = 0, local = 0;
    cl_device_fp_config fp64 = 0;
    size_t group = 0;

    D3M_CL_CHECK(clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform_name,
                                   info->platform_name, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof info->name, info->name, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_VENDOR, sizeof info->vendor, info->vendor, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_VERSION, sizeof info->version, info->version, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DRIVER_VERSION, sizeof info->driver_version,
                                 info->driver_version, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof type, &type, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL), NULL);
    D3M_CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof group, &group, NULL), NULL);
    if (clGetDeviceInfo(device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL) != CL_SUCCESS)
        fp64 = 0;
    char extensions[4096] = "";
    cl_bool little_endian = CL_FALSE;
    if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, sizeof extensions, extensions, NULL) !=
        CL_SUCCESS)
        extensions[0] = '\0';
    if (clGetDeviceInfo(device, CL_DEVICE_ENDIAN_LITTLE, sizeof little_endian, &little_endian,
                        NULL) != CL_SUCCESS)
        little_endian = CL_FALSE;

    info->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    info->is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
    info->compute_units = units;
    info->global_memory = global;
    info->max_allocation = max_alloc;
    info->local_memory = local;
    info->max_work_group_size = group;
    info->has_fp64 = fp64 != 0;
    info->has_int64_atomics = little_endian == CL_TRUE &&
                              strstr(extensions, "cl_khr_int64_base_atomics") != NULL;
    return D3M_OK;
}


/* Visit every device; stops early when visit returns non-zero. */
typedef int (*device_visitor)(cl_platform_id, cl_device_id, const d3m_device_info *, void *);

static int for_each_device(device_visitor visit, void *context)
{
    cl_uint nplatforms = 0;
    cl_int code = clGetPlatformIDs(0, NULL, &nplatforms);
    if (code == -1001 || nplatforms == 0)
        return d3m_fail(D3M_ERR_DEVICE, "no OpenCL platform found: install an OpenCL driver "
                        "(on Debian: apt-get install pocl-opencl-icd) and check with clinfo");
    D3M_CL_CHECK(code, NULL);

    cl_platform_id platforms[32];
    if (nplatforms > 32)
        nplatforms = 32;
    D3M_CL_CHECK(clGetPlatformIDs(nplatforms, platforms, NULL), NULL);

    for (cl_uint p = 0; p < nplatforms; p++) {
        cl_uint ndevices = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &ndevices) != CL_SUCCESS)
            continue;
        cl_device_id devices[64];
        if (ndevices > 64)
            ndevices = 64;
        D3M_CL_CHECK(clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, ndevices, devices, NULL), NULL);
        for (cl_uint d = 0; d < ndevices; d++) {
            d3m_device_info info;
            D3M_TRY(read_device_info(platforms[p], devices[d], (int)p, (int)d, &info));
            int stop = visit(platforms[p], devices[d], &info, context);
            if (stop)
                return stop > 0 ? D3M_OK : stop;
        }
    }
    return D3M_OK;
}


typedef struct device_list {
    d3m_device_info *items;
    int count;
    int capacity;
} device_list;

static int collect_device(cl_platform_id platform, cl_device_id device,
                          const d3m_device_info *info, void *context)
{
    device_list *list = context;
    if (list->count == list->capacity) {
        int capacity = list->capacity ? 2 * list->capacity : 8;
        d3m_device_info *items = realloc(list->items, (size_t)capacity * sizeof *items);
        if (items == NULL)
            return d3m_fail(D3M_ERR_MEMORY, "out of host memory listing devices");
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = *info;
    return 0;
}


int d3m_list_devices(d3m_device_info **devices, int *count)
{
    device_list list = {NULL, 0, 0};
    int status = for_each_device(collect_device, &list);
    if (status != D3M_OK) {
        free(list.items);
        return status;
    }
    *devices = list.items;
    *count = list.count;
    return D3M_OK;
}


/* ---- selection ------------------------------------------------------------ */

typedef struct device_match {
    const char *spec;
    int want_platform, want_device;   /* for "P:D", else -1 */
    int pass;                          /* default selection: 0 GPU, 1 CPU, 2 any */
    cl_platform_id platform;
    cl_device_id device;
    int found;
} device_match;

static int contains_ignoring_case(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *h = haystack; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static int match_device(cl_platform_id platform, cl_device_id device,
                        const d3m_device_info *info, void *context)
{
    device_match *m = context;
    int hit;
    if (m->want_platform >= 0)
        hit = info->platform_index == m->want_platform && info->device_index == m->want_device;
    else if (m->spec != NULL)
        hit = contains_ignoring_case(info->name, m->spec) ||
              contains_ignoring_case(info->platform_name, m->spec);
    else if (m->pass == 0)
        hit = info->is_gpu;
    else if (m->pass == 1)
        hit = info->is_cpu;
    else
        hit = 1;
    if (!hit)
        return 0;
    m->platform = platform;
    m->device = device;
    m->found = 1;
    return 1;
}


static int describe_devices(char *buf, size_t size)
{
    d3m_device_info *devices = NULL;
    int count = 0;
    buf[0] = '\0';
    if (d3m_list_devices(&devices, &count) != D3M_OK)
        return 0;
    size_t used = 0;
    for (int i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s  %d:%d %s (%s)",
                                 i ? "\n" : "", devices[i].platform_index,
                                 devices[i].device_index, devices[i].name,
                                 devices[i].platform_name);
    free(devices);
    return count;
}


static int find_device(const char *spec, cl_platform_id *platform, cl_device_id *device)
{
    device_match m = {spec, -1, -1, 0, NULL, NULL, 0};
    int p, d;
    char tail;
    if (spec != NULL && sscanf(spec, "%d:%d%c", &p, &d, &tail) == 2) {
        m.want_platform = p;
        m.want_device = d;
    }

    if (spec != NULL) {
        D3M_TRY(for_each_device(match_device, &m));
    } else {
        for (m.pass = 0; m.pass < 3 && !m.found; m.pass++)
            D3M_TRY(for_each_device(match_device, &m));
    }

    if (!m.found) {
        char known[4096];
        describe_devices(known, sizeof known);
        return d3m_fail(D3M_ERR_DEVICE,
                        "unknown device '%s'; give D3M_DEVICE or use_device a platform:device "
                        "index or part of a name from this list:\n%s",
                        spec ? spec : "(default)", known);
    }
    *platform = m.platform;
    *device = m.device;
    return D3M_OK;
}


static int create_runtime(cl_platform_id platform, cl_device_id device, d3m_runtime **out)
{
    for (d3m_runtime *rt = all_runtimes; rt != NULL; rt = rt->next) {
        if (rt->device == device) {
            *out = rt;
            return D3M_OK;
        }
    }

    d3m_runtime *rt = calloc(1, sizeof *rt);
    if (rt == NULL)
        return d3m_fail(D3M_ERR_MEMORY, "out of host memory creating the runtime");
    rt->platform = platform;
    rt->device = device;

    cl_int code = CL_SUCCESS;
    int status = D3M_OK;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    rt->context = clCreateContext(props, 1, &device, NULL, NULL, &code);
    if (code != CL_SUCCESS) {
        status = d3m_fail_cl("clCreateContext", code, NULL, NULL);
        goto failed;
    }
    cl_command_queue_properties qprops = d3m_env_profile() ? CL_QUEUE_PROFILING_ENABLE : 0;
    rt->queue = clCreateCommandQueue(rt->context, device, qprops, &code);
    if (code != CL_SUCCESS) {
        status = d3m_fail_cl("clCreateCommandQueue", code, NULL, NULL);
        goto failed;
    }
    status = read_device_info(platform, device, 0, 0, &rt->info);
    if (status != D3M_OK)
        goto failed;

    /* Keep the real indices for reporting. */
    d3m_device_info *devices = NULL;
    int count = 0;
    if (d3m_list_devices(&devices, &count) == D3M_OK) {
        for (int i = 0; i < count; i++)
            if (strcmp(devices[i].name, rt->info.name) == 0 &&
                strcmp(devices[i].platform_name, rt->info.platform_name) == 0) {
                rt->info.platform_index = devices[i].platform_index;
                rt->info.device_index = devices[i].device_index;
                break;
            }
        free(devices);
    }

    rt->next = all_runtimes;
    all_runtimes = rt;
    if (!shutdown_registered) {
        atexit(d3m_shutdown);
        shutdown_registered = 1;
    }
    *out = rt;
    return D3M_OK;

failed:
    if (rt->queue)
        clReleaseCommandQueue(rt->queue);
    if (rt->context)
        clReleaseContext(rt->context);
    free(rt);
    return status;
}


int d3m_use_device(const char *spec)
{
    if (spec == NULL || spec[0] == '\0') {
        spec = getenv("D3M_DEVICE");
        if (spec != NULL && spec[0] == '\0')
            spec = NULL;
    }
    cl_platform_id platform;
    cl_device_id device;
    D3M_TRY(find_device(spec, &platform, &device));

    d3m_runtime *rt = NULL;
    D3M_TRY(create_runtime(platform, device, &rt));
    current = rt;
    return D3M_OK;
}


d3m_runtime *d3m_runtime_current(void)
{
    if (current == NULL && d3m_use_device(NULL) != D3M_OK)
        return NULL;
    return current;
}


int d3m_current_device(d3m_device_info *info)
{
    d3m_runtime *rt = d3m_runtime_current();
    if (rt == NULL)
        return D3M_ERR_DEVICE;
    *info = rt->info;
    return D3M_OK;
}


int d3m_finish(void)
{
    d3m_runtime *rt = d3m_runtime_current();
    if (rt == NULL)
        return D3M_ERR_DEVICE;
    D3M_CL_CHECK(clFinish(rt->queue), NULL);
    return D3M_OK;
}


const char *d3m_version(void)
{
    return D3M_VERSION;
}


void d3m_shutdown(void)
{
    d3m_profile_report();
    while (all_runtimes != NULL) {
        d3m_runtime *rt = all_runtimes;
        all_runtimes = rt->next;
        clFinish(rt->queue);
        d3m_fft_release(rt);
        d3m_programs_release(rt);
        clReleaseCommandQueue(rt->queue);
        clReleaseContext(rt->context);
        free(rt);
    }
    d3m_fft_fftw_cleanup();
    current = NULL;
}
