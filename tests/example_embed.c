/* example_embed.c - using the d3m runtime from C without Lua: select the
 * default device, fill a tensor, add it to itself and check the sum. */
#include <stdio.h>

#include "d3m.h"

int main(void)
{
    size_t shape[2] = {100, 100};
    d3m_tensor *t = NULL;
    double sum = 0.0;

    if (d3m_use_device(NULL) != D3M_OK || d3m_tensor_new(2, shape, &t) != D3M_OK ||
        d3m_tensor_fill(t, 0.25f) != D3M_OK || d3m_tensor_add(t, t, t) != D3M_OK ||
        d3m_tensor_sum(t, &sum) != D3M_OK) {
        fprintf(stderr, "example_embed: %s\n", d3m_last_error());
        d3m_tensor_free(t);
        return 1;
    }
    d3m_device_info info;
    d3m_current_device(&info);
    printf("device %s: sum of 10^4 elements of 0.5 = %g\n", info.name, sum);
    d3m_tensor_free(t);
    return sum == 5000.0 ? 0 : 1;
}
