/* test_stats_xi.c - xi(r) by pair counting against a host double loop and
 * the Poisson expectation, and against xi from the mesh power on a
 * clustered particle set. */
#include "stats/stats.h"
#include "stats_testing.h"

#define MAX_BINS 16


/* Ordered pair counts per bin by a host loop over all pairs, in float with
 * the kernel's minimum-image arithmetic. */
static void host_pair_counts(const float *pos, size_t n, float box, const double *edges,
                             int nbins, double *counts)
{
    memset(counts, 0, (size_t)nbins * sizeof *counts);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i == j)
                continue;
            float r2 = 0.0f;
            for (int d = 0; d < 3; d++) {
                float dx = pos[3 * j + (size_t)d] - pos[3 * i + (size_t)d];
                if (dx > 0.5f * box)
                    dx -= box;
                else if (dx < -0.5f * box)
                    dx += box;
                r2 += dx * dx;
            }
            for (int b = 0; b < nbins; b++)
                if (r2 >= (float)(edges[b] * edges[b]) && r2 < (float)(edges[b + 1] * edges[b + 1]))
                    counts[b] += 1.0;
        }
}


static float *uniform_positions(size_t n, double box, uint64_t seed)
{
    rng r = {seed};
    float *pos = malloc(3 * n * sizeof *pos);
    for (size_t i = 0; i < 3 * n; i++)
        pos[i] = (float)(box * rng_uniform(&r));
    return pos;
}


static void test_counts_match_host(void)
{
    size_t n = 600, shape[2] = {n, 3};
    double box = 100.0, edges[6] = {0.0, 5.0, 12.0, 20.0, 35.0, 50.0};
    float *pos = uniform_positions(n, box, 2024);
    d3m_tensor *t = tensor_from(2, shape, pos);
    double x[5], value[5], count[5], expected[5];
    d3m_binned out = {5, x, value, count};
    REQUIRE_OK(d3m_stats_xi_pairs(t, box, edges, &out));
    host_pair_counts(pos, n, (float)box, edges, 5, expected);
    for (int b = 0; b < 5; b++)
        /* A pair within float rounding of an edge may land on either side
         * (the device may contract r2 into FMAs); allow 2 such pairs. */
        CHECK(fabs(count[b] - expected[b]) <= 2.0, "bin %d: %g pairs, host loop %g", b,
              count[b], expected[b]);

    /* The same particles as [3, N] (one coordinate per row) give the same counts. */
    float *rows = malloc(3 * n * sizeof *rows);
    for (size_t p = 0; p < n; p++)
        for (size_t d = 0; d < 3; d++)
            rows[d * n + p] = pos[3 * p + d];
    size_t tshape[2] = {3, n};
    d3m_tensor *transposed = tensor_from(2, tshape, rows);
    double x2[5], value2[5], count2[5];
    d3m_binned out2 = {5, x2, value2, count2};
    REQUIRE_OK(d3m_stats_xi_pairs(transposed, box, edges, &out2));
    for (int b = 0; b < 5; b++)
        CHECK(count2[b] == count[b], "bin %d: [3, N] gives %g pairs, [N, 3] %g", b, count2[b],
              count[b]);
    d3m_tensor_free(transposed);
    free(rows);
    d3m_tensor_free(t);
    free(pos);
}


static void test_poisson(void)
{
    size_t n = 8000, shape[2] = {n, 3};
    double box = 128.0, edges[9];
    for (int b = 0; b <= 8; b++)
        edges[b] = 4.0 + 4.0 * b;
    uint64_t seed = 31337;
    printf("Poisson seed %llu\n", (unsigned long long)seed);
    float *pos = uniform_positions(n, box, seed);
    d3m_tensor *t = tensor_from(2, shape, pos);
    double x[8], value[8], count[8];
    d3m_binned out = {8, x, value, count};
    REQUIRE_OK(d3m_stats_xi_pairs(t, box, edges, &out));
    for (int b = 0; b < 8; b++) {
        /* DD (ordered) = 2 x a Poisson count of unordered pairs: the
         * standard deviation of xi is sqrt(2 / DD); allow 5 of them. */
        double sigma = sqrt(2.0 / count[b]);
        CHECK(fabs(value[b]) < 5.0 * sigma, "bin %d: xi = %g +- %g for a Poisson set", b,
              value[b], sigma);
        CHECK(x[b] >= edges[b], "bin %d: mean r %g below the bin", b, x[b]);
        CHECK(x[b] < edges[b + 1], "bin %d: mean r %g above the bin", b, x[b]);
    }
    d3m_tensor_free(t);
    free(pos);
}


/* Pair-count xi and FFT xi of the same particles agree from 10 to 40 Mpc/h. */
static void test_clustered(void)
{
    size_t n = 32, mesh_n = 64, count = n * n * n;
    double box = 128.0;
    uint64_t seed = 4242;
    printf("clustered set seed %llu\n", (unsigned long long)seed);
    /* Uniform points (no lattice, whose own xi would dominate) moved by a
     * smooth field of rms displacement 2.9 Mpc/h: xi(13) is about 0.09. */
    float *disp = smooth_displacement(n, box, 2.0e7, 6.0, seed);
    float *pos = uniform_positions(count, box, seed + 1);
    displace_particles(pos, count, disp, n, box);
    float *rho = host_cic_density(pos, count, mesh_n, box);
    size_t pshape[2] = {count, 3}, mshape[3] = {mesh_n, mesh_n, mesh_n};
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *mesh = tensor_from(3, mshape, rho);

    double edges[7] = {10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0};
    double px[6], pv[6], pc[6], mx[6], mv[6], mc[6];
    d3m_binned pairs = {6, px, pv, pc}, fft = {6, mx, mv, mc};
    REQUIRE_OK(d3m_stats_xi_pairs(particles, box, edges, &pairs));
    REQUIRE_OK(d3m_stats_xi_mesh(mesh, box, D3M_WINDOW_CIC, 0.0, edges, &fft));
    for (int b = 0; b < 6; b++) {
        printf("r %6.2f  xi pairs %9.5f  xi fft %9.5f\n", px[b], pv[b], mv[b]);
        /* Both use the same particles, so sample variance cancels. What
         * remains is the CIC smoothing left after compensation and the
         * average over mesh separations instead of pairs. It measured 2% of
         * xi at 13 Mpc/h and 1e-4 beyond 20 Mpc/h; 0.001 + 5% of xi bounds
         * both. */
        CHECK(fabs(pv[b] - mv[b]) < 0.001 + 0.05 * fabs(pv[b]), "r = %g: pairs %g, FFT %g", px[b],
              pv[b], mv[b]);
    }
    CHECK(pv[0] > 0.05, "the test set is not clustered: xi(%g) = %g", px[0], pv[0]);
    d3m_tensor_free(particles);
    d3m_tensor_free(mesh);
    free(disp);
    free(pos);
    free(rho);
}


static void test_errors(void)
{
    size_t shape[2] = {10, 3}, bad[2] = {10, 4};
    float host[40] = {0};
    d3m_tensor *t = tensor_from(2, shape, host), *wrong = tensor_from(2, bad, host);
    double edges[3] = {0.0, 30.0, 60.0}, x[2], v[2], c[2];
    d3m_binned out = {2, x, v, c};
    CHECK(d3m_stats_xi_pairs(t, 100.0, edges, &out) == D3M_ERR_ARG, "r_max > box / 2 accepted");
    CHECK(strstr(d3m_last_error(), "box / 2") != NULL, "message: %s", d3m_last_error());
    edges[2] = 40.0;
    CHECK(d3m_stats_xi_pairs(wrong, 100.0, edges, &out) == D3M_ERR_SHAPE, "[10, 4] accepted");
    d3m_tensor_free(t);
    d3m_tensor_free(wrong);
}


int main(void)
{
    REQUIRE_OK(d3m_use_device(NULL));
    test_counts_match_host();
    test_poisson();
    test_clustered();
    test_errors();
    printf("%s: %d failures\n", __FILE__, failures);
    return failures ? 1 : 0;
}
