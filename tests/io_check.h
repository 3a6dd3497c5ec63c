/*
 * io_check.h - additions to check.h for the io C tests: CHECK_OK and
 * CHECK_ERROR assert a d3m status (and a substring of d3m_last_error()),
 * and each test writes its files to a scratch folder under /tmp.
 */
#ifndef D3M_IO_CHECK_H
#define D3M_IO_CHECK_H

#include <stdlib.h>

#include "check.h"

/* A call that must succeed; on failure print the library's message. */
#define CHECK_OK(call)                                                                 \
    do {                                                                               \
        int check_status_ = (call);                                                    \
        CHECK(check_status_ == D3M_OK, "%s returned %d: %s", #call, check_status_,     \
              d3m_last_error());                                                       \
    } while (0)

/* A call that must fail with status and a message containing text. */
#define CHECK_ERROR(call, status, text)                                                \
    do {                                                                               \
        int check_status_ = (call);                                                    \
        CHECK(check_status_ == (status) && contains(d3m_last_error(), (text)),         \
              "%s returned %d (expected %d) with message \"%s\", expected it to "      \
              "contain \"%s\"", #call, check_status_, (status), d3m_last_error(),      \
              (text));                                                                 \
    } while (0)

/* Create a fresh folder /tmp/d3m-NAME-XXXXXX for the test's files. */
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

#endif
