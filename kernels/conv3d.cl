/* conv3d.cl - blocked periodic 3D convolutions (the fast path).
 *
 * The input is padded once to (D+2)(H+2)(W+2) with periodic copies, so the
 * inner loops index without modulo. Weights are repacked per call to
 * [out block][in][tap][16]: a work-item keeps 16 output channels of one
 * voxel in a float16 accumulator and reads the 16 weights of a tap with
 * one vector load. Each work-item computes X_BLOCK consecutive x voxels,
 * so one weight load feeds X_BLOCK fused multiply-adds.
 *
 * Layouts: tensors [N][C][D][H][W]; packed weights [ob][in][27][16] with
 * zeros for channels past the output count. The host rounds global sizes
 * up, so every kernel checks its indices. Reads past the end of a padded
 * row (when the output width is not a multiple of X_BLOCK) land in the
 * next row or in slack the host allocates after the buffer; they only feed
 * accumulators that are never stored. */

#define X_BLOCK 8   /* voxels per work-item along x in conv3d; the kernel names 8 accumulators */
#define M_BLOCK 8   /* input voxels per work-item along x in the transposed conv (2 outputs each) */

#define TAPS 27
#define LANES 16

int wrap(int i, int n)
{
    int r = i % n;
    return r < 0 ? r + n : r;
}

/* padded[p][z][y][x] = input[p][z - 1][y - 1][x - 1] (mod the extents) for
 * every plane p = n * C + c. A work-item copies one padded row, because
 * with one float per work-item PoCL's cost per work-group dominated.
 * Global size: ((h + 2) * (d + 2), planes). */
__kernel void conv3d_pad(__global const float *input, __global float *padded, const int planes,
                         const int depth, const int height, const int width)
{
    const int pd = depth + 2, ph = height + 2, pw = width + 2;
    const int yz = get_global_id(0), p = get_global_id(1);
    if (yz >= ph * pd || p >= planes)
        return;
    const int y = yz % ph, z = yz / ph;
    __global const float *src = input + ((p * depth + wrap(z - 1, depth)) * height +
                                         wrap(y - 1, height)) * width;
    __global float *dst = padded + ((p * pd + z) * ph + y) * pw;
    dst[0] = src[width - 1];
    for (int x = 0; x < width; x++)
        dst[x + 1] = src[x];
    dst[width + 1] = src[0];
}

/* packed[ob][i][t][c] = weight of output channel o = 16 ob + c, input
 * channel i and tap t, read from weight[o][i][t] (out_first) or
 * weight[i][o][t], with tap taps - 1 - t when flip is set; 0 for o >= n_out.
 * Global size: (16 * taps, n_in, ceil(n_out / 16)). */
__kernel void conv3d_pack_weight(__global const float *weight, __global float *packed,
                                 const int n_out, const int n_in, const int taps,
                                 const int out_first, const int flip)
{
    const int ct = get_global_id(0), i = get_global_id(1), ob = get_global_id(2);
    if (ct >= LANES * taps || i >= n_in || ob >= (n_out + LANES - 1) / LANES)
        return;
    const int c = ct % LANES, t = ct / LANES;
    const int o = ob * LANES + c;
    const int source_tap = flip ? taps - 1 - t : t;
    float v = 0.0f;
    if (o < n_out)
        v = out_first ? weight[(o * n_in + i) * taps + source_tap]
                      : weight[(i * n_out + o) * taps + source_tap];
    packed[((ob * n_in + i) * taps + t) * LANES + c] = v;
}

/* grad_last[n][v][c] = grad[n][c][v] for c < channels, 0 up to 16 blocks.
 * A work-item moves one voxel's channels. Global size: (volume, batch). */
__kernel void conv3d_to_channel_last(__global const float *grad, __global float *grad_last,
                                     const int batch, const int channels, const int volume)
{
    const int v = get_global_id(0), n = get_global_id(1);
    if (v >= volume || n >= batch)
        return;
    const int padded_channels = (channels + LANES - 1) / LANES * LANES;
    __global const float *src = grad + n * channels * volume + v;
    __global float *dst = grad_last + (n * volume + v) * padded_channels;
    for (int c = 0; c < channels; c++)
        dst[c] = src[c * volume];
    for (int c = channels; c < padded_channels; c++)
        dst[c] = 0.0f;
}

/* Store 16 channels of one voxel (x, y, z) of sample n. */
void store_voxel(__global float *output, const float16 acc, __global const float *bias,
                 const int has_bias, const int n, const int cb, const int channels_out,
                 const int out_d, const int out_h, const int out_w, const int z, const int y,
                 const int x)
{
    if (x >= out_w)
        return;
    const int volume = out_d * out_h * out_w;
    float values[LANES];
    vstore16(acc, 0, values);
    __global float *dst = output + ((n * channels_out + cb * LANES) * out_d + z) * out_h * out_w +
                          y * out_w + x;
    for (int c = 0; c < LANES && cb * LANES + c < channels_out; c++)
        dst[c * volume] = values[c] + (has_bias ? bias[cb * LANES + c] : 0.0f);
}

/* The accumulators are named variables, not an array: PoCL keeps private
 * arrays in memory unless it fully unrolls every loop over them. */
#define FMA_X_BLOCK(wv, row, step)                                 \
    do {                                                           \
        acc0 = fma((wv), (float16)((row)[0]), acc0);               \
        acc1 = fma((wv), (float16)((row)[(step)]), acc1);          \
        acc2 = fma((wv), (float16)((row)[2 * (step)]), acc2);      \
        acc3 = fma((wv), (float16)((row)[3 * (step)]), acc3);      \
        acc4 = fma((wv), (float16)((row)[4 * (step)]), acc4);      \
        acc5 = fma((wv), (float16)((row)[5 * (step)]), acc5);      \
        acc6 = fma((wv), (float16)((row)[6 * (step)]), acc6);      \
        acc7 = fma((wv), (float16)((row)[7 * (step)]), acc7);      \
    } while (0)

/* Periodic conv3d, k = 3, stride STRIDE, on the padded input (extents
 * STRIDE * out + 2). Work-item: 16 output channels (block cb) of X_BLOCK
 * consecutive voxels along x.
 * Global size: (ceil(out_w / X_BLOCK) * out_h, out_d, batch * ceil(Co / 16)). */
#define DEFINE_CONV3D_FAST_FORWARD(NAME, STRIDE)                                                   \
__kernel void NAME(__global const float *padded, __global const float *packed,                    \
                   __global const float *bias, const int has_bias, __global float *output,        \
                   const int batch, const int channels_in, const int channels_out,                \
                   const int out_d, const int out_h, const int out_w)                             \
{                                                                                                 \
    const int x_blocks = (out_w + X_BLOCK - 1) / X_BLOCK;                                         \
    const int co_blocks = (channels_out + LANES - 1) / LANES;                                     \
    const int gx = get_global_id(0), z = get_global_id(1), ncb = get_global_id(2);                \
    if (gx >= x_blocks * out_h || z >= out_d || ncb >= batch * co_blocks)                         \
        return;                                                                                   \
    const int x0 = (gx % x_blocks) * X_BLOCK, y = gx / x_blocks;                                  \
    const int cb = ncb % co_blocks, n = ncb / co_blocks;                                          \
    const int pw = STRIDE * out_w + 2, ph = STRIDE * out_h + 2, pd = STRIDE * out_d + 2;          \
    const int plane = ph * pw, volume = pd * plane;                                               \
                                                                                                  \
    float16 acc0 = (float16)(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;                        \
    float16 acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;                                   \
    __global const float *src = padded + n * channels_in * volume + STRIDE * z * plane +          \
                                STRIDE * y * pw + STRIDE * x0;                                    \
    __global const float *w = packed + cb * channels_in * TAPS * LANES;                           \
    for (int ci = 0; ci < channels_in; ci++) {                                                    \
        for (int dz = 0; dz < 3; dz++) {                                                          \
            for (int dy = 0; dy < 3; dy++) {                                                      \
                __global const float *row = src + dz * plane + dy * pw;                           \
                __global const float *wt = w + (dz * 3 + dy) * 3 * LANES;                         \
                FMA_X_BLOCK(vload16(0, wt), row, STRIDE);                                         \
                FMA_X_BLOCK(vload16(1, wt), row + 1, STRIDE);                                     \
                FMA_X_BLOCK(vload16(2, wt), row + 2, STRIDE);                                     \
            }                                                                                     \
        }                                                                                         \
        src += volume;                                                                            \
        w += TAPS * LANES;                                                                        \
    }                                                                                             \
    store_voxel(output, acc0, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x0);     \
    store_voxel(output, acc1, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x0 + 1); \
    store_voxel(output, acc2, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x0 + 2); \
    store_voxel(output, acc3, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x0 + 3); \
    store_voxel(output, acc4, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x0 + 4); \
    store_voxel(output, acc5, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x0 + 5); \
    store_voxel(output, acc6, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x0 + 6); \
    store_voxel(output, acc7, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x0 + 7); \
}

DEFINE_CONV3D_FAST_FORWARD(conv3d_fast_forward_s1, 1)
DEFINE_CONV3D_FAST_FORWARD(conv3d_fast_forward_s2, 2)

/* Taps of one axis of the transposed conv for output index o: an even
 * output 2m takes tap 1 of input m; an odd output 2m + 1 takes tap 0 of
 * input m + 1 and tap 2 of input m. Indices are into the padded input
 * (input index + 1). Returns the tap count. */
int transpose_taps(const int o, int *tap, int *index)
{
    const int m = o >> 1;
    if ((o & 1) == 0) {
        tap[0] = 1;
        index[0] = m + 1;
        return 1;
    }
    tap[0] = 0;
    index[0] = m + 2;
    tap[1] = 2;
    index[1] = m + 1;
    return 2;
}

/* Even outputs 2m take w1 x[m]; odd outputs 2m + 1 take w2 x[m] + w0 x[m + 1]. */
#define TRANSPOSE_FMA(j)                                           \
    do {                                                           \
        const float16 here = (float16)(row[j]);                    \
        even##j = fma(w1, here, even##j);                          \
        odd##j = fma(w2, here, odd##j);                            \
        odd##j = fma(w0, (float16)(row[(j) + 1]), odd##j);         \
    } while (0)

/* Periodic transposed conv (see conv_transpose3d_ref_forward) on the
 * padded input x of extents in + 2. Work-item: 16 output channels of the
 * M_BLOCK output pairs x = 2m, 2m + 1 for m = m0 .. m0 + M_BLOCK - 1.
 * Global size: (ceil(in_w / M_BLOCK) * 2 in_h, 2 in_d, batch * ceil(Co / 16)). */
__kernel void conv_transpose3d_fast_forward(__global const float *padded,
                                            __global const float *packed,
                                            __global const float *bias, const int has_bias,
                                            __global float *output, const int batch,
                                            const int channels_in, const int channels_out,
                                            const int in_d, const int in_h, const int in_w)
{
    const int out_d = 2 * in_d, out_h = 2 * in_h, out_w = 2 * in_w;
    const int m_blocks = (in_w + M_BLOCK - 1) / M_BLOCK;
    const int co_blocks = (channels_out + LANES - 1) / LANES;
    const int gx = get_global_id(0), z = get_global_id(1), ncb = get_global_id(2);
    if (gx >= m_blocks * out_h || z >= out_d || ncb >= batch * co_blocks)
        return;
    const int m0 = (gx % m_blocks) * M_BLOCK, y = gx / m_blocks;
    const int cb = ncb % co_blocks, n = ncb / co_blocks;
    const int pw = in_w + 2, ph = in_h + 2, pd = in_d + 2;
    const int plane = ph * pw, volume = pd * plane;

    int tap_z[2], index_z[2], tap_y[2], index_y[2];
    const int nz = transpose_taps(z, tap_z, index_z);
    const int ny = transpose_taps(y, tap_y, index_y);

    float16 even0 = (float16)(0.0f), even1 = even0, even2 = even0, even3 = even0;
    float16 even4 = even0, even5 = even0, even6 = even0, even7 = even0;
    float16 odd0 = even0, odd1 = even0, odd2 = even0, odd3 = even0;
    float16 odd4 = even0, odd5 = even0, odd6 = even0, odd7 = even0;
    __global const float *src = padded + n * channels_in * volume + m0 + 1;
    __global const float *w = packed + cb * channels_in * TAPS * LANES;
    for (int ci = 0; ci < channels_in; ci++) {
        for (int a = 0; a < nz; a++) {
            for (int b = 0; b < ny; b++) {
                __global const float *row = src + index_z[a] * plane + index_y[b] * pw;
                __global const float *wt = w + (tap_z[a] * 3 + tap_y[b]) * 3 * LANES;
                const float16 w0 = vload16(0, wt), w1 = vload16(1, wt), w2 = vload16(2, wt);
                TRANSPOSE_FMA(0);
                TRANSPOSE_FMA(1);
                TRANSPOSE_FMA(2);
                TRANSPOSE_FMA(3);
                TRANSPOSE_FMA(4);
                TRANSPOSE_FMA(5);
                TRANSPOSE_FMA(6);
                TRANSPOSE_FMA(7);
            }
        }
        src += volume;
        w += TAPS * LANES;
    }
    const int x = 2 * m0;
    store_voxel(output, even0, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x);
    store_voxel(output, odd0, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 1);
    store_voxel(output, even1, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 2);
    store_voxel(output, odd1, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 3);
    store_voxel(output, even2, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 4);
    store_voxel(output, odd2, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 5);
    store_voxel(output, even3, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 6);
    store_voxel(output, odd3, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 7);
    store_voxel(output, even4, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 8);
    store_voxel(output, odd4, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 9);
    store_voxel(output, even5, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 10);
    store_voxel(output, odd5, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 11);
    store_voxel(output, even6, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 12);
    store_voxel(output, odd6, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 13);
    store_voxel(output, even7, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 14);
    store_voxel(output, odd7, bias, has_bias, n, cb, channels_out, out_d, out_h, out_w, z, y, x + 15);
}

/* Partial weight gradients of a periodic k = 3 conv3d over a subset of the
 * output planes: chunk c sums the planes p = c, c + chunks, ... of the
 * batch * out_d planes, so no two work-items write the same partial and no
 * atomics are needed. Work-item: tap row dz, input channel ci, output block
 * cb; it keeps the 9 (dy, dx) taps x 16 output channels in float16 sums.
 * grad_last is grad_out channel-last [N][out voxels][16 * co_blocks].
 * partials[chunk][cb][ci][27][16].
 * Global size: (3 * channels_in, co_blocks, chunks). */
__kernel void conv3d_fast_weight_partials(__global const float *grad_last,
                                          __global const float *padded,
                                          __global float *partials, const int batch,
                                          const int channels_in, const int co_blocks,
                                          const int out_d, const int out_h, const int out_w,
                                          const int stride, const int chunks)
{
    const int zci = get_global_id(0), cb = get_global_id(1), chunk = get_global_id(2);
    if (zci >= 3 * channels_in || cb >= co_blocks || chunk >= chunks)
        return;
    const int dz = zci % 3, ci = zci / 3;
    const int pw = stride * out_w + 2, ph = stride * out_h + 2, pd = stride * out_d + 2;
    const int plane = ph * pw, volume = pd * plane;
    const int row_stride = out_w * co_blocks * LANES;

    float16 acc00 = (float16)(0.0f), acc01 = acc00, acc02 = acc00;
    float16 acc10 = acc00, acc11 = acc00, acc12 = acc00;
    float16 acc20 = acc00, acc21 = acc00, acc22 = acc00;

    for (int p = chunk; p < batch * out_d; p += chunks) {
        const int n = p / out_d, z = p % out_d;
        __global const float *g = grad_last + p * out_h * row_stride + cb * LANES;
        __global const float *src = padded + (n * channels_in + ci) * volume +
                                    (stride * z + dz) * plane;
        for (int y = 0; y < out_h; y++) {
            __global const float *g_row = g + y * row_stride;
            __global const float *r0 = src + stride * y * pw;
            __global const float *r1 = r0 + pw, *r2 = r1 + pw;
            for (int x = 0; x < out_w; x++) {
                const float16 gv = vload16(0, g_row + x * co_blocks * LANES);
                const int i = stride * x;
                acc00 = fma(gv, (float16)(r0[i]), acc00);
                acc01 = fma(gv, (float16)(r0[i + 1]), acc01);
                acc02 = fma(gv, (float16)(r0[i + 2]), acc02);
                acc10 = fma(gv, (float16)(r1[i]), acc10);
                acc11 = fma(gv, (float16)(r1[i + 1]), acc11);
                acc12 = fma(gv, (float16)(r1[i + 2]), acc12);
                acc20 = fma(gv, (float16)(r2[i]), acc20);
                acc21 = fma(gv, (float16)(r2[i + 1]), acc21);
                acc22 = fma(gv, (float16)(r2[i + 2]), acc22);
            }
        }
    }

    __global float *dst = partials + (((chunk * co_blocks + cb) * channels_in + ci) * TAPS + dz * 9) *
                                     LANES;
    vstore16(acc00, 0, dst);
    vstore16(acc01, 1, dst);
    vstore16(acc02, 2, dst);
    vstore16(acc10, 3, dst);
    vstore16(acc11, 4, dst);
    vstore16(acc12, 5, dst);
    vstore16(acc20, 6, dst);
    vstore16(acc21, 7, dst);
    vstore16(acc22, 8, dst);
}

/* grad_weight[co][ci][t] += sum over chunks of partials[chunk][cb][ci][t][c]
 * with co = 16 cb + c. Global size: (27, channels_in, channels_out). */
__kernel void conv3d_reduce_weight_partials(__global const float *partials,
                                            __global float *grad_weight, const int channels_in,
                                            const int channels_out, const int chunks)
{
    const int t = get_global_id(0), ci = get_global_id(1), co = get_global_id(2);
    if (t >= TAPS || ci >= channels_in || co >= channels_out)
        return;
    const int co_blocks = (channels_out + LANES - 1) / LANES;
    const int cb = co / LANES, c = co % LANES;
    const int chunk_stride = co_blocks * channels_in * TAPS * LANES;
    __global const float *src = partials + ((cb * channels_in + ci) * TAPS + t) * LANES + c;
    float sum = 0.0f;
    for (int k = 0; k < chunks; k++)
        sum += src[k * chunk_stride];
    grad_weight[(co * channels_in + ci) * TAPS + t] += sum;
}
