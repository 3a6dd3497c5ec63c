/* test_stats_zeta.c - 3PCF multipoles: the a_lm algorithm against a host
 * triple loop over P_l, a Poisson set, and the mesh version on particles
 * placed at mesh nodes (where both count exactly the same triplets). */
#include "stats/stats.h"
#include "stats_testing.h"

#define LMAX 10


static void legendre(double x, int lmax, double *p)
{
    p[0] = 1.0;
    if (lmax > 0)
        p[1] = x;
    for (int l = 2; l <= lmax; l++)
        p[l] = ((2.0 * l - 1.0) * x * p[l - 1] - (l - 1.0) * p[l - 2]) / l;
}


typedef struct neighbour {
    int bin;
    double w, u[3];
} neighbour;


/*
 * N_l(b1, b2) by brute force: for each primary, every ordered pair of
 * secondaries (a, b) in bins (b1, b2), summing w_p w_a w_b P_l(u_a . u_b)
 * in double. Bins use the kernel's float squared separation. scale
 * receives the sum of |terms| per entry, the size of float round-off.
 */
static void brute_force(const float *pos, const float *w, size_t n, float box, int nbins,
                        const double *edges, int lmax, int self_terms, double *out, double *scale)
{
    size_t entries = (size_t)(lmax + 1) * nbins * nbins;
    memset(out, 0, entries * sizeof *out);
    memset(scale, 0, entries * sizeof *scale);
    neighbour *list = malloc(n * sizeof *list);
    for (size_t p = 0; p < n; p++) {
        size_t count = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == p)
                continue;
            float d[3], r2 = 0.0f;
            for (int k = 0; k < 3; k++) {
                d[k] = pos[3 * j + (size_t)k] - pos[3 * p + (size_t)k];
                if (d[k] > 0.5f * box)
                    d[k] -= box;
                else if (d[k] < -0.5f * box)
                    d[k] += box;
                r2 += d[k] * d[k];
            }
            int bin = -1;
            for (int b = 0; b < nbins; b++)
                if (r2 >= (float)(edges[b] * edges[b]) && r2 < (float)(edges[b + 1] * edges[b + 1]))
                    bin = b;
            if (bin < 0 || r2 == 0.0f)
                continue;
            double r = sqrt((double)d[0] * d[0] + (double)d[1] * d[1] + (double)d[2] * d[2]);
            list[count] = (neighbour){bin, w[j], {d[0] / r, d[1] / r, d[2] / r}};
            count++;
        }
        for (size_t a = 0; a < count; a++)
            for (size_t b = 0; b < count; b++) {
                if (a == b && !self_terms)
                    continue;
                double mu = list[a].u[0] * list[b].u[0] + list[a].u[1] * list[b].u[1] +
                            list[a].u[2] * list[b].u[2];
                double pl[LMAX + 1];
                legendre(mu > 1.0 ? 1.0 : (mu < -1.0 ? -1.0 : mu), lmax, pl);
                double weight = (double)w[p] * list[a].w * list[b].w;
                for (int l = 0; l <= lmax; l++) {
                    size_t index = ((size_t)l * nbins + (size_t)list[a].bin) * nbins +
                                   (size_t)list[b].bin;
                    out[index] += weight * pl[l];
                    scale[index] += fabs(weight * pl[l]);
                }
            }
    }
    free(list);
}


static void test_brute_force(int self_terms)
{
    size_t n = 300, shape[2] = {n, 3}, wshape[1] = {n};
    double box = 100.0, edges[6] = {0.0, 8.0, 16.0, 24.0, 32.0, 40.0};
    int nbins = 5;
    rng r = {555};
    float *pos = malloc(3 * n * sizeof *pos), *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < 3 * n; i++)
        pos[i] = (float)(box * rng_uniform(&r));
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(0.5 + rng_uniform(&r));
    d3m_tensor *tp = tensor_from(2, shape, pos), *tw = tensor_from(1, wshape, w);
    size_t entries = (size_t)(LMAX + 1) * nbins * nbins;
    double *fast = malloc(entries * sizeof *fast), *slow = malloc(entries * sizeof *slow);
    double *scale = malloc(entries * sizeof *scale);
    REQUIRE_OK(d3m_stats_zeta_counts(tp, tw, box, nbins, edges, LMAX, self_terms, fast));
    brute_force(pos, w, n, (float)box, nbins, edges, LMAX, self_terms, slow, scale);
    double worst = 0.0;
    for (size_t i = 0; i < entries; i++) {
        /* a_lm sums ~100 float terms: the error is a few 1e-7 of the sum of
         * |terms|; 1e-5 of it is float precision with margin. */
        double limit = 1e-5 * scale[i] + 1e-12;
        double error = fabs(fast[i] - slow[i]);
        if (error / limit > worst)
            worst = error / limit;
        CHECK(error <= limit, "self_terms %d, l = %zu, bins (%zu, %zu): %.9g vs brute force %.9g",
              self_terms, i / (size_t)(nbins * nbins), i / (size_t)nbins % (size_t)nbins,
              i % (size_t)nbins, fast[i], slow[i]);
    }
    printf("brute force, self terms %d: largest error %.3g of the limit\n", self_terms, worst);
    d3m_tensor_free(tp);
    d3m_tensor_free(tw);
    free(pos);
    free(w);
    free(fast);
    free(slow);
    free(scale);
}


/* zeta_l of a Poisson set without self terms scatters around zero. */
static void test_poisson(void)
{
    size_t n = 4000, shape[2] = {n, 3};
    double box = 100.0, edges[6] = {5.0, 10.0, 15.0, 20.0, 25.0, 30.0};
    int nbins = 5, lmax = 8;
    uint64_t seed = 8088;
    printf("Poisson seed %llu\n", (unsigned long long)seed);
    rng r = {seed};
    float *pos = malloc(3 * n * sizeof *pos);
    for (size_t i = 0; i < 3 * n; i++)
        pos[i] = (float)(box * rng_uniform(&r));
    d3m_tensor *t = tensor_from(2, shape, pos);
    size_t entries = (size_t)(lmax + 1) * nbins * nbins;
    double *zeta = malloc(entries * sizeof *zeta);
    REQUIRE_OK(d3m_stats_zeta_counts(t, NULL, box, nbins, edges, lmax, 0, zeta));
    d3m_stats_zeta_normalise(zeta, nbins, edges, lmax, (double)n, box);
    double nbar = (double)n / (box * box * box), chi2 = 0.0;
    int terms = 0;
    for (int l = 0; l <= lmax; l++)
        for (int b1 = 0; b1 < nbins; b1++)
            for (int b2 = b1; b2 < nbins; b2++) {
                /* Shot noise of independent secondaries: sum_m a a^* has
                 * variance (2l + 1) n1 n2 / (4 pi)^2 per primary, so zeta_l
                 * scatters by sqrt((2l + 1) / (N n1 n2)), by sqrt(2) more on
                 * the diagonal. zeta_0 also carries the pair-count noise of
                 * xi(r1) + xi(r2), sqrt(2 / (N n_b)) each. Primaries sharing
                 * secondaries add about a factor 2 (an estimate). */
                double n1 = nbar * d3m_stats_shell_volume(edges[b1], edges[b1 + 1]);
                double n2 = nbar * d3m_stats_shell_volume(edges[b2], edges[b2 + 1]);
                double variance = (2.0 * l + 1.0) / ((double)n * n1 * n2) * (b1 == b2 ? 2.0 : 1.0);
                if (l == 0)
                    variance += 2.0 / ((double)n * n1) + 2.0 / ((double)n * n2);
                double sigma = 2.0 * sqrt(variance);
                double value = zeta[((size_t)l * nbins + (size_t)b1) * nbins + (size_t)b2];
                chi2 += value * value / (sigma * sigma);
                terms++;
                CHECK(fabs(value) < 5.0 * sigma, "l = %d, bins (%d, %d): zeta = %g, sigma %g", l,
                      b1, b2, value, sigma);
            }
    printf("Poisson zeta: chi^2 / terms = %g\n", chi2 / terms);
    CHECK(chi2 / terms < 2.0, "zeta of a Poisson set: chi^2 per term %g", chi2 / terms);
    d3m_tensor_free(t);
    free(pos);
    free(zeta);
}


/* With particles at mesh nodes, the mesh version counts the same triplets:
 * (zeta_mesh + delta_l0) V'_1 V'_2 = (zeta_pairs + delta_l0) V_1 V_2. */
static void test_mesh_matches_pairs(void)
{
    size_t n = 16, count = 4096, cells = n * n * n;
    double box = 64.0, h = box / (double)n;
    double edges[6] = {4.0, 8.0, 12.0, 16.0, 20.0, 24.0};
    int nbins = 5, lmax = 4;
    uint64_t seed = 9191;
    printf("clustered set seed %llu\n", (unsigned long long)seed);
    float *disp = smooth_displacement(n, box, 5.0e5, 4.0, seed);
    rng r = {seed + 1};
    float *pos = malloc(3 * count * sizeof *pos), *rho = calloc(cells, sizeof *rho);
    for (size_t i = 0; i < 3 * count; i++)
        pos[i] = (float)(box * rng_uniform(&r));
    displace_particles(pos, count, disp, n, box);
    for (size_t p = 0; p < count; p++) {
        size_t index = 0;
        for (int d = 0; d < 3; d++) {
            size_t node = (size_t)lround(pos[3 * p + (size_t)d] / h) % n;
            pos[3 * p + (size_t)d] = (float)((double)node * h);
            index = index * n + node;
        }
        rho[index] += (float)((double)cells / (double)count);
    }
    size_t pshape[2] = {count, 3}, mshape[3] = {n, n, n};
    d3m_tensor *tp = tensor_from(2, pshape, pos), *tm = tensor_from(3, mshape, rho);
    size_t entries = (size_t)(lmax + 1) * nbins * nbins;
    double *pairs = malloc(entries * sizeof *pairs), *mesh = malloc(entries * sizeof *mesh);
    double volumes[5], worst = 0.0;
    REQUIRE_OK(d3m_stats_zeta_counts(tp, NULL, box, nbins, edges, lmax, 1, pairs));
    d3m_stats_zeta_normalise(pairs, nbins, edges, lmax, (double)count, box);
    REQUIRE_OK(d3m_stats_zeta_mesh(tm, box, nbins, edges, lmax, mesh, volumes));
    for (int l = 0; l <= lmax; l++)
        for (int b1 = 0; b1 < nbins; b1++)
            for (int b2 = 0; b2 < nbins; b2++) {
                size_t i = ((size_t)l * nbins + (size_t)b1) * nbins + (size_t)b2;
                double v1 = d3m_stats_shell_volume(edges[b1], edges[b1 + 1]);
                double v2 = d3m_stats_shell_volume(edges[b2], edges[b2 + 1]);
                double from_pairs = (pairs[i] + (l == 0)) * v1 * v2;
                double from_mesh = (mesh[i] + (l == 0)) * volumes[b1] * volumes[b2];
                /* Float FFTs of 16^3 fields: 1e-4 of the l = 0 term's size. */
                double size = v1 * v2;
                if (fabs(from_pairs - from_mesh) / size > worst)
                    worst = fabs(from_pairs - from_mesh) / size;
                CHECK(fabs(from_pairs - from_mesh) < 1e-4 * size,
                      "l = %d, bins (%d, %d): pairs %g, mesh %g (x V1 V2)", l, b1, b2,
                      from_pairs / size, from_mesh / size);
            }
    printf("clustered zeta_0(bin 0, bin 1) = %g, zeta_2 = %g; mesh - pairs at most %.3g\n",
           pairs[1], pairs[2 * nbins * nbins + 1], worst);
    d3m_tensor_free(tp);
    d3m_tensor_free(tm);
    free(disp);
    free(pos);
    free(rho);
    free(pairs);
    free(mesh);
}


static void test_errors(void)
{
    size_t shape[2] = {10, 3};
    float host[30] = {0};
    d3m_tensor *t = tensor_from(2, shape, host);
    double edges[3] = {0.0, 5.0, 60.0}, out[2 * 2 * 12];
    CHECK(d3m_stats_zeta_counts(t, NULL, 100.0, 2, edges, 2, 1, out) == D3M_ERR_ARG,
          "r_max > box / 2 accepted");
    edges[2] = 10.0;
    CHECK(d3m_stats_zeta_counts(t, NULL, 100.0, 2, edges, 11, 1, out) == D3M_ERR_ARG,
          "lmax 11 accepted");
    CHECK(strstr(d3m_last_error(), "lmax = 11") != NULL, "message: %s", d3m_last_error());
    d3m_tensor_free(t);
}


int main(void)
{
    REQUIRE_OK(d3m_use_device(NULL));
    test_brute_force(1);
    test_brute_force(0);
    test_poisson();
    test_mesh_matches_pairs();
    test_errors();
    printf("%s: %d failures\n", __FILE__, failures);
    return failures ? 1 : 0;
}
