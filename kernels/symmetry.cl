/* symmetry.cl - the 48 symmetries of a periodic cube (axis permutations
 * times reflections through the origin) applied to fields [N, C, n, n, n].
 *
 * A symmetry maps a position x to y with y_a = s_a x_{p(a)} (mod n), p a
 * permutation of the three spatial axes (array axes 2, 3, 4 of the tensor)
 * and s_a = +-1. A scalar channel moves with the positions; a vector field
 * (C = 3, component d along spatial axis d) also rotates its components:
 * v'_a(y) = s_a v_{p(a)}(x).
 *
 * perm0..2 = p(0..2), signs as +-1 floats, vector != 0 for the component
 * rotation. One work-item per output element. */

__kernel void cube_symmetry(__global const float *input, __global float *output, const int n,
                            const int channels, const long total, const int perm0, const int perm1,
                            const int perm2, const float sign0, const float sign1,
                            const float sign2, const int vector)
{
    long gid = get_global_id(0);
    if (gid >= total)
        return;

    long cells = (long)n * n * n;
    long voxel = gid % cells;
    long rest = gid / cells;
    int c = (int)(rest % channels);
    long sample = rest / channels;

    int y[3];
    y[0] = (int)(voxel / ((long)n * n));
    y[1] = (int)((voxel / n) % n);
    y[2] = (int)(voxel % n);

    int perm[3] = {perm0, perm1, perm2};
    float sign[3] = {sign0, sign1, sign2};

    /* x_{p(a)} = s_a y_a (mod n), since s_a^2 = 1. */
    int x[3];
    for (int a = 0; a < 3; a++) {
        int v = sign[a] > 0.0f ? y[a] : (n - y[a]) % n;
        x[perm[a]] = v;
    }

    int source_channel = c;
    float factor = 1.0f;
    if (vector) {
        source_channel = perm[c];
        factor = sign[c];
    }
    long source = ((sample * channels + source_channel) * n + x[0]) * (long)n * n
                  + (long)x[1] * n + x[2];
    output[gid] = factor * input[source];
}
