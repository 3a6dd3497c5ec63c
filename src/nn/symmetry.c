/* symmetry.c - host side of the cube symmetries (kernels/symmetry.cl). */
#include "nn/symmetry.h"
#include "runtime/runtime.h"

static const int permutations[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                       {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};


int d3m_cube_symmetry_parts(int k, int perm[3], int sign[3])
{
    if (k < 0 || k >= D3M_CUBE_SYMMETRIES)
        return d3m_fail(D3M_ERR_ARG, "cube symmetry index %d is outside 0..47", k);
    for (int a = 0; a < 3; a++) {
        perm[a] = permutations[k / 8][a];
        sign[a] = (k % 8) & (1 << a) ? -1 : 1;
    }
    return D3M_OK;
}


int d3m_cube_symmetry_inverse(int k)
{
    int perm[3], sign[3];
    if (d3m_cube_symmetry_parts(k, perm, sign) != D3M_OK)
        return -1;

    /* R^-1 = R^T: x_b = s_{q(b)} y_{q(b)} with q = p^-1. */
    int inverse_perm[3], flips = 0;
    for (int a = 0; a < 3; a++)
        inverse_perm[perm[a]] = a;
    for (int b = 0; b < 3; b++)
        if (sign[inverse_perm[b]] < 0)
            flips |= 1 << b;
    for (int i = 0; i < 6; i++)
        if (permutations[i][0] == inverse_perm[0] && permutations[i][1] == inverse_perm[1])
            return i * 8 + flips;
    return -1;
}


int d3m_cube_symmetry(const d3m_tensor *input, int k, int vector, d3m_tensor *output)
{
    int perm[3], sign[3];
    D3M_TRY(d3m_cube_symmetry_parts(k, perm, sign));

    int nd = input->ndim;
    if (nd != 4 && nd != 5)
        return d3m_fail(D3M_ERR_SHAPE, "cube symmetry: input must be [C, n, n, n] or "
                        "[N, C, n, n, n], got %d dimensions", nd);
    size_t n = input->shape[nd - 1];
    if (input->shape[nd - 2] != n || input->shape[nd - 3] != n) {
        char text[128];
        d3m_format_shape(text, sizeof text, nd, input->shape);
        return d3m_fail(D3M_ERR_SHAPE, "cube symmetry: the mesh must be cubic, got %s", text);
    }
    size_t channels = input->shape[nd - 4];
    if (vector && channels != 3)
        return d3m_fail(D3M_ERR_SHAPE, "cube symmetry: a vector field has 3 components, got %zu "
                        "channels", channels);
    D3M_TRY(d3m_check_shape(output, "output of cube symmetry", nd, input->shape));
    if (output->buffer == input->buffer)
        return d3m_fail(D3M_ERR_ARG, "cube symmetry: output must not alias the input");

    size_t global = d3m_round_up(input->numel, 64), local = 64;
    return d3m_launch("symmetry.cl", "cube_symmetry", NULL, 1, &global, &local, "ttiiliiifffi",
                      input, output, (int)n, (int)channels, (long long)input->numel, perm[0],
                      perm[1], perm[2], (double)sign[0], (double)sign[1], (double)sign[2],
                      vector);
}
