/* conv3d_ref.cl - reference periodic 3D convolutions: one output element per
 * work-item, periodic indices by modulo. Slow but short enough to check by
 * reading; the tests hold the fast kernels of conv3d.cl against them.
 *
 * Layouts: tensors [N][C][D][H][W]; conv3d weight [Co][Ci][k][k][k];
 * conv_transpose3d weight [Ci][Co][3][3][3]. depth, height and width are
 * the input's extents. The host rounds global sizes up, so every kernel
 * checks its indices. */

int wrap(int i, int n)
{
    int r = i % n;
    return r < 0 ? r + n : r;
}

/* out[n][co][z][y][x] = bias[co] + sum over ci and taps of
 *   weight[co][ci][dz][dy][dx] * input[n][ci][s z + dz - p][s y + dy - p][s x + dx - p]
 * with p = ksize / 2 and indices taken modulo the input extents.
 * Global size: (out_w * out_h, out_d, batch * channels_out). */
__kernel void conv3d_ref_forward(__global const float *input, __global const float *weight,
                                 __global const float *bias, const int has_bias,
                                 __global float *output, const int batch, const int channels_in,
                                 const int channels_out, const int depth, const int height,
                                 const int width, const int ksize, const int stride)
{
    const int out_d = depth / stride, out_h = height / stride, out_w = width / stride;
    const int xy = get_global_id(0), z = get_global_id(1), nc = get_global_id(2);
    if (xy >= out_w * out_h || z >= out_d || nc >= batch * channels_out)
        return;
    const int x = xy % out_w, y = xy / out_w;
    const int co = nc % channels_out, n = nc / channels_out;
    const int pad = ksize / 2;
    const int taps = ksize * ksize * ksize;

    float sum = has_bias ? bias[co] : 0.0f;
    for (int ci = 0; ci < channels_in; ci++) {
        __global const float *src = input + (n * channels_in + ci) * depth * height * width;
        __global const float *w = weight + (co * channels_in + ci) * taps;
        for (int dz = 0; dz < ksize; dz++) {
            const int iz = wrap(stride * z + dz - pad, depth);
            for (int dy = 0; dy < ksize; dy++) {
                const int iy = wrap(stride * y + dy - pad, height);
                for (int dx = 0; dx < ksize; dx++) {
                    const int ix = wrap(stride * x + dx - pad, width);
                    sum += w[(dz * ksize + dy) * ksize + dx] * src[(iz * height + iy) * width + ix];
                }
            }
        }
    }
    output[((nc * out_d + z) * out_h + y) * out_w + x] = sum;
}

/* grad_in[n][ci][i] = sum over co and taps d with s o + d - p = i (mod the
 * extent) of weight[co][ci][d] * grad_out[n][co][o], per axis.
 * Global size: (width * height, depth, batch * channels_in). */
__kernel void conv3d_ref_backward_input(__global const float *grad_out,
                                        __global const float *weight, __global float *grad_in,
                                        const int batch, const int channels_in,
                                        const int channels_out, const int depth, const int height,
                                        const int width, const int ksize, const int stride)
{
    const int out_d = depth / stride, out_h = height / stride, out_w = width / stride;
    const int xy = get_global_id(0), z = get_global_id(1), nc = get_global_id(2);
    if (xy >= width * height || z >= depth || nc >= batch * channels_in)
        return;
    const int x = xy % width, y = xy / width;
    const int ci = nc % channels_in, n = nc / channels_in;
    const int pad = ksize / 2;
    const int taps = ksize * ksize * ksize;

    float sum = 0.0f;
    for (int co = 0; co < channels_out; co++) {
        __global const float *g = grad_out + (n * channels_out + co) * out_d * out_h * out_w;
        __global const float *w = weight + (co * channels_in + ci) * taps;
        for (int dz = 0; dz < ksize; dz++) {
            const int tz = wrap(z - dz + pad, depth);
            if (tz % stride != 0)
                continue;
            for (int dy = 0; dy < ksize; dy++) {
                const int ty = wrap(y - dy + pad, height);
                if (ty % stride != 0)
                    continue;
                for (int dx = 0; dx < ksize; dx++) {
                    const int tx = wrap(x - dx + pad, width);
                    if (tx % stride != 0)
                        continue;
                    const int o = ((tz / stride) * out_h + ty / stride) * out_w + tx / stride;
                    sum += w[(dz * ksize + dy) * ksize + dx] * g[o];
                }
            }
        }
    }
    grad_in[((nc * depth + z) * height + y) * width + x] = sum;
}

/* grad_weight[co][ci][d] += sum over n and output voxels o of
 *   grad_out[n][co][o] * input[n][ci][s o + d - p].
 * Global size: (ksize^3, channels_in, channels_out). */
__kernel void conv3d_ref_backward_weight(__global const float *grad_out,
                                         __global const float *input,
                                         __global float *grad_weight, const int batch,
                                         const int channels_in, const int channels_out,
                                         const int depth, const int height, const int width,
                                         const int ksize, const int stride)
{
    const int out_d = depth / stride, out_h = height / stride, out_w = width / stride;
    const int taps = ksize * ksize * ksize;
    const int tap = get_global_id(0), ci = get_global_id(1), co = get_global_id(2);
    if (tap >= taps || ci >= channels_in || co >= channels_out)
        return;
    const int dx = tap % ksize, dy = (tap / ksize) % ksize, dz = tap / (ksize * ksize);
    const int pad = ksize / 2;

    float sum = 0.0f;
    for (int n = 0; n < batch; n++) {
        __global const float *g = grad_out + (n * channels_out + co) * out_d * out_h * out_w;
        __global const float *src = input + (n * channels_in + ci) * depth * height * width;
        for (int z = 0; z < out_d; z++) {
            const int iz = wrap(stride * z + dz - pad, depth);
            for (int y = 0; y < out_h; y++) {
                const int iy = wrap(stride * y + dy - pad, height);
                for (int x = 0; x < out_w; x++) {
                    const int ix = wrap(stride * x + dx - pad, width);
                    sum += g[(z * out_h + y) * out_w + x] * src[(iz * height + iy) * width + ix];
                }
            }
        }
    }
    grad_weight[(co * channels_in + ci) * taps + tap] += sum;
}

/* Periodic transposed convolution, output extents twice the input's. Per
 * axis, output Y takes tap k from input j = (Y + 1 - k) / 2 (mod the input
 * extent) when Y + 1 - k is even: position Y + 1 of the uncropped
 * ConvTranspose3d output, which receives tap k of input j at 2 j + k.
 * Global size: (out_w * out_h, out_d, batch * channels_out). */
__kernel void conv_transpose3d_ref_forward(__global const float *input,
                                           __global const float *weight,
                                           __global const float *bias, const int has_bias,
                                           __global float *output, const int batch,
                                           const int channels_in, const int channels_out,
                                           const int depth, const int height, const int width)
{
    const int out_d = 2 * depth, out_h = 2 * height, out_w = 2 * width;
    const int xy = get_global_id(0), z = get_global_id(1), nc = get_global_id(2);
    if (xy >= out_w * out_h || z >= out_d || nc >= batch * channels_out)
        return;
    const int x = xy % out_w, y = xy / out_w;
    const int co = nc % channels_out, n = nc / channels_out;

    float sum = has_bias ? bias[co] : 0.0f;
    for (int ci = 0; ci < channels_in; ci++) {
        __global const float *src = input + (n * channels_in + ci) * depth * height * width;
        __global const float *w = weight + (ci * channels_out + co) * 27;
        for (int kz = 0; kz < 3; kz++) {
            if ((z + 1 - kz) % 2 != 0)
                continue;
            const int jz = wrap((z + 1 - kz) / 2, depth);
            for (int ky = 0; ky < 3; ky++) {
                if ((y + 1 - ky) % 2 != 0)
                    continue;
                const int jy = wrap((y + 1 - ky) / 2, height);
                for (int kx = 0; kx < 3; kx++) {
                    if ((x + 1 - kx) % 2 != 0)
                        continue;
                    const int jx = wrap((x + 1 - kx) / 2, width);
                    sum += w[(kz * 3 + ky) * 3 + kx] * src[(jz * height + jy) * width + jx];
                }
            }
        }
    }
    output[((nc * out_d + z) * out_h + y) * out_w + x] = sum;
}

/* grad_bias[c] += sum over n and voxels of grad_out[n][c][v]. One
 * work-group per channel; the local size is a power of two.
 * Global size: (local size * channels). */
__kernel void conv3d_channel_sum(__global const float *grad_out, __global float *grad_bias,
                                 const int batch, const int channels, const int volume,
                                 __local float *scratch)
{
    const int c = get_group_id(0), lid = get_local_id(0), lsize = get_local_size(0);
    float sum = 0.0f;
    if (c < channels) {
        for (int n = 0; n < batch; n++) {
            __global const float *g = grad_out + (n * channels + c) * volume;
            for (int v = lid; v < volume; v += lsize)
                sum += g[v];
        }
    }
    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int offset = lsize / 2; offset > 0; offset /= 2) {
        if (lid < offset)
            scratch[lid] += scratch[lid + offset];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0 && c < channels)
        grad_bias[c] += scratch[0];
}
