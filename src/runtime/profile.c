/* profile.c - environment switches (D3M_CL_FINISH, D3M_PROFILE) and the
 * per-kernel time report printed at exit when profiling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define MAX_PROFILED 256

typedef struct profile_entry {
    char name[64];
    double seconds;
    long calls;
} profile_entry;

static profile_entry entries[MAX_PROFILED];
static int nentries;


static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}


int d3m_env_finish(void)
{
    static int value = -1;
    if (value < 0)
        value = env_flag("D3M_CL_FINISH");
    return value;
}


int d3m_env_profile(void)
{
    static int value = -1;
    if (value < 0)
        value = env_flag("D3M_PROFILE");
    return value;
}


void d3m_profile_add(const char *kernel, double seconds)
{
    int i = 0;
    while (i < nentries && strcmp(entries[i].name, kernel) != 0)
        i++;
    if (i == nentries) {
        if (nentries == MAX_PROFILED)
            return;
        snprintf(entries[i].name, sizeof entries[i].name, "%s", kernel);
        nentries++;
    }
    entries[i].seconds += seconds;
    entries[i].calls++;
}


static int by_time_descending(const void *a, const void *b)
{
    double ta = ((const profile_entry *)a)->seconds, tb = ((const profile_entry *)b)->seconds;
    return (ta < tb) - (ta > tb);
}


void d3m_profile_report(void);
void d3m_profile_report(void)
{
    if (nentries == 0)
        return;
    qsort(entries, (size_t)nentries, sizeof entries[0], by_time_descending);
    fprintf(stderr, "d3m kernel profile (D3M_PROFILE=1):\n%-32s %10s %12s %12s\n", "kernel",
            "calls", "total ms", "mean ms");
    for (int i = 0; i < nentries; i++)
        fprintf(stderr, "%-32s %10ld %12.3f %12.4f\n", entries[i].name, entries[i].calls,
                entries[i].seconds * 1e3, entries[i].seconds * 1e3 / (double)entries[i].calls);
    nentries = 0;
}
