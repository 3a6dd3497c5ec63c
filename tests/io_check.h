/*
 * io_check.h - small assertion helpers for the io C tests: each CHECK
 * prints the failing condition with file and line and counts failures;
 * CHECK_ERROR asserts a status and a substring of d3m_last_error().
 */
#ifndef D3M_IO_CHECK_H
#define D3M_IO_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "d3m.h"

static int check_failures = 0;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            check_failures++;                                                          \
        }                                                                              \
    } while (0)

/* A call that must succeed; on failure print the library's message. */
#define CHECK_OK(call)                                                                 \
    do {                                                                               \
        int check_status_ = (call);                                                    \
        if (check_status_ != D3M_OK) {                                                 \
            fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call,  \
                    check_status_, d3m_last_error());                                  \
            check_failures++;                                                          \
        }                                                                              \
    } while (0)

/* A call that must fail with status and a message containing text. */
#define CHECK_ERROR(call, status, text)                                                \
    do {                                                                               \
        int check_status_ = (call);                                                    \
        if (check_status_ != (status) || strstr(d3m_last_error(), (text)) == NULL) {   \
            fprintf(stderr, "%s:%d: %s returned %d (expected %d) with message \"%s\", "  \
                    "expected it to contain \"%s\"\n", __FILE__, __LINE__, #call,      \
                    check_status_, (status), d3m_last_error(), (text));                \
            check_failures++;                                                          \
        }                                                                              \
    } while (0)

/* A fresh folder under /tmp for the test's files (removed by the caller). */
static inline void make_test_folder(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/tmp/d3m-%s-XXXXXX", name);
    if (mkdtemp(buf) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

static inline void remove_test_folder(const char *folder)
{
    char command[1200];
    snprintf(command, sizeof command, "rm -rf '%s'", folder);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", folder);
}

static inline int check_report(const char *name)
{
    if (check_failures == 0)
        printf("%s: all checks passed\n", name);
    else
        printf("%s: %d check(s) failed\n", name, check_failures);
    return check_failures == 0 ? 0 : 1;
}

#endif
