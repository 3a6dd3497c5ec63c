/* test_cic.c - CIC painting and readout against host loops in double
 * precision, exact cases (a particle on a node, a linear field), atomic
 * deposits under full contention, and the lattice position helpers. */
#include <string.h>

#include "pm_testing.h"

#define BOX 128.0   /* Mpc/h; with n = 16 a cell is 8 Mpc/h, so nodes are exact floats */
#define MESH 16


/* Host CIC in double: node j of an n^3 mesh at j * box / n. */
static void host_paint(const float *pos, size_t np, const float *masses, double mass, int n,
                       double box, double *mesh)
{
    memset(mesh, 0, (size_t)n * n * n * sizeof *mesh);
    for (size_t p = 0; p < np; p++) {
        int j[3];
        double w[3];
        for (int d = 0; d < 3; d++) {
            double u = pos[d * np + p] * n / box;
            double cell = floor(u);
            w[d] = u - cell;
            j[d] = (int)(((long)cell % n + n) % n);
        }
        double m = masses ? mass * masses[p] : mass;
        for (int c = 0; c < 8; c++) {
            int s[3] = {(c >> 2) & 1, (c >> 1) & 1, c & 1};
            double weight = 1.0;
            int k[3];
            for (int d = 0; d < 3; d++) {
                weight *= s[d] ? w[d] : 1.0 - w[d];
                k[d] = (j[d] + s[d]) % n;
            }
            mesh[((size_t)k[0] * n + k[1]) * n + k[2]] += m * weight;
        }
    }
}


static double host_readout(const float *mesh, int n, double box, const double x[3])
{
    int j[3];
    double w[3];
    for (int d = 0; d < 3; d++) {
        double u = x[d] * n / box;
        double cell = floor(u);
        w[d] = u - cell;
        j[d] = (int)(((long)cell % n + n) % n);
    }
    double sum = 0.0;
    for (int c = 0; c < 8; c++) {
        int s[3] = {(c >> 2) & 1, (c >> 1) & 1, c & 1};
        double weight = 1.0;
        int k[3];
        for (int d = 0; d < 3; d++) {
            weight *= s[d] ? w[d] : 1.0 - w[d];
            k[d] = (j[d] + s[d]) % n;
        }
        sum += weight * mesh[((size_t)k[0] * n + k[1]) * n + k[2]];
    }
    return sum;
}


/* Random positions, some outside [0, box) to exercise the periodic wrap. */
static float *random_positions(size_t np, double lo, double hi)
{
    float *pos = malloc(3 * np * sizeof *pos);
    for (size_t i = 0; i < 3 * np; i++)
        pos[i] = (float)(lo + (hi - lo) * rng_uniform());
    return pos;
}


static void test_paint_sum(void)
{
    size_t np = 20000;
    size_t pshape[2] = {3, np}, mshape[3] = {MESH, MESH, MESH};
    float *pos = random_positions(np, -0.5 * BOX, 1.5 * BOX);
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *mesh = new_tensor(3, mshape);

    REQUIRE_OK(d3m_pm_paint(particles, D3M_PM_POSITIONS, BOX, 1.0f, NULL, mesh));
    double sum = 0.0;
    REQUIRE_OK(d3m_tensor_sum(mesh, &sum));
    /* Each particle's 8 weights sum to 1 up to float rounding (~1e-7), and
     * each cell accumulates ~5 deposits: 1e-6 relative leaves room for both. */
    CHECK(fabs(sum - (double)np) <= 1e-6 * (double)np, "painted mass %.9g, expected %zu", sum, np);

    d3m_tensor_free(particles);
    d3m_tensor_free(mesh);
    free(pos);
}


static void test_paint_node(void)
{
    size_t pshape[2] = {3, 1}, mshape[3] = {MESH, MESH, MESH};
    int node[3] = {3, 15, 0};
    float pos[3];
    for (int d = 0; d < 3; d++)
        pos[d] = (float)(node[d] * BOX / MESH);
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *mesh = new_tensor(3, mshape);

    REQUIRE_OK(d3m_pm_paint(particles, D3M_PM_POSITIONS, BOX, 2.5f, NULL, mesh));
    float *host = tensor_to_host(mesh);
    size_t target = ((size_t)node[0] * MESH + node[1]) * MESH + node[2];
    int others = 0;
    for (size_t i = 0; i < mesh->numel; i++)
        if (i != target && host[i] != 0.0f)
            others++;
    /* Node positions are exact in float (8 Mpc/h cells), so the weight is exactly 1. */
    CHECK(host[target] == 2.5f, "node cell holds %.9g, expected 2.5", host[target]);
    CHECK(others == 0, "%d other cells are non-zero", others);

    free(host);
    d3m_tensor_free(particles);
    d3m_tensor_free(mesh);
}


static void test_paint_matches_host(void)
{
    size_t np = 5000;
    size_t pshape[2] = {3, np}, mshape[3] = {MESH, MESH, MESH}, wshape[1] = {np};
    float *pos = random_positions(np, -BOX, 2.0 * BOX);
    float *masses = malloc(np * sizeof *masses);
    for (size_t p = 0; p < np; p++)
        masses[p] = (float)(0.5 + rng_uniform());
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *weights = tensor_from(1, wshape, masses);
    d3m_tensor *mesh = new_tensor(3, mshape);
    double *expected = malloc(mesh->numel * sizeof *expected);

    for (int with_masses = 0; with_masses < 2; with_masses++) {
        REQUIRE_OK(d3m_pm_paint(particles, D3M_PM_POSITIONS, BOX, 0.75f,
                                with_masses ? weights : NULL, mesh));
        host_paint(pos, np, with_masses ? masses : NULL, 0.75, MESH, BOX, expected);
        float *got = tensor_to_host(mesh);
        double worst = 0.0;
        for (size_t i = 0; i < mesh->numel; i++)
            worst = fmax(worst, fabs(got[i] - expected[i]));
        /* Float positions up to 2 box (3e-5 Mpc/h rounding, 4e-6 cells) shift
         * weights by ~1e-5 at most; about 2 particles of mass <= 1.1 reach a
         * cell, so 1e-4 absolute bounds the difference with margin. */
        CHECK(worst <= 1e-4, "paint (masses %d) differs from the host loop by %g", with_masses,
              worst);
        free(got);
    }

    free(expected);
    free(pos);
    free(masses);
    d3m_tensor_free(particles);
    d3m_tensor_free(weights);
    d3m_tensor_free(mesh);
}


/* All particles on one node: every deposit hits the same cell at once, so a
 * lost update would show as a count below np (a plain += loses 20-30% of
 * 10^6 deposits with PoCL on 2 cores). Sums of 1.0 are exact in float up to
 * 2^24. */
static void test_paint_contention(void)
{
    size_t np = 1000000;
    size_t pshape[2] = {3, np}, mshape[3] = {MESH, MESH, MESH};
    float *pos = malloc(3 * np * sizeof *pos);
    for (size_t i = 0; i < 3 * np; i++)
        pos[i] = (float)(5 * BOX / MESH);
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *mesh = new_tensor(3, mshape);

    REQUIRE_OK(d3m_pm_paint(particles, D3M_PM_POSITIONS, BOX, 1.0f, NULL, mesh));
    float *host = tensor_to_host(mesh);
    size_t target = ((size_t)5 * MESH + 5) * MESH + 5;
    CHECK(host[target] == (float)np, "the shared cell holds %.9g after %zu deposits",
          host[target], np);

    free(host);
    free(pos);
    d3m_tensor_free(particles);
    d3m_tensor_free(mesh);
}


static void test_readout_linear_field(void)
{
    size_t mshape[3] = {MESH, MESH, MESH};
    float *field = malloc(MESH * MESH * MESH * sizeof *field);
    const double c0 = 0.5, c[3] = {0.25, -0.125, 0.0625};   /* per cell */
    for (int i = 0; i < MESH; i++)
        for (int j = 0; j < MESH; j++)
            for (int k = 0; k < MESH; k++)
                field[(i * MESH + j) * MESH + k] = (float)(c0 + c[0] * i + c[1] * j + c[2] * k);
    d3m_tensor *mesh = tensor_from(3, mshape, field);

    /* Nodes, and random points in the cells that do not straddle the
     * periodic seam (where the field jumps), read linear data exactly. */
    size_t np = 2000;
    size_t pshape[2] = {3, np}, vshape[1] = {np};
    float *pos = malloc(3 * np * sizeof *pos);
    for (size_t p = 0; p < np; p++)
        for (int d = 0; d < 3; d++) {
            double u = p < 100 ? floor(rng_uniform() * MESH) : rng_uniform() * (MESH - 1);
            pos[d * np + p] = (float)(u * BOX / MESH);
        }
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *values = new_tensor(1, vshape);
    REQUIRE_OK(d3m_pm_readout(mesh, particles, D3M_PM_POSITIONS, BOX, values));
    float *got = tensor_to_host(values);

    double worst_node = 0.0, worst_inside = 0.0;
    for (size_t p = 0; p < np; p++) {
        double expected = c0;
        for (int d = 0; d < 3; d++)
            expected += c[d] * pos[d * np + p] * MESH / BOX;
        double error = fabs(got[p] - expected);
        if (p < 100)
            worst_node = fmax(worst_node, error);
        else
            worst_inside = fmax(worst_inside, error);
    }
    /* At nodes the weight is exactly 1 on one float value. Between nodes the
     * values are below 6, so float weights and sums round at ~1e-6. */
    CHECK(worst_node == 0.0, "readout at nodes is off by %g", worst_node);
    CHECK(worst_inside <= 5e-6, "readout of a linear field is off by %g", worst_inside);

    free(field);
    free(pos);
    free(got);
    d3m_tensor_free(mesh);
    d3m_tensor_free(particles);
    d3m_tensor_free(values);
}


static void test_readout_matches_host(void)
{
    int ncomp = 3;
    size_t mshape[4] = {(size_t)ncomp, MESH, MESH, MESH};
    size_t cells = MESH * MESH * MESH;
    float *field = malloc(ncomp * cells * sizeof *field);
    for (size_t i = 0; i < ncomp * cells; i++)
        field[i] = (float)(2.0 * rng_uniform() - 1.0);
    d3m_tensor *mesh = tensor_from(4, mshape, field);

    size_t np = 3000;
    size_t pshape[2] = {3, np}, vshape[2] = {(size_t)ncomp, np};
    float *pos = random_positions(np, -BOX, 2.0 * BOX);
    d3m_tensor *particles = tensor_from(2, pshape, pos);
    d3m_tensor *values = new_tensor(2, vshape);
    REQUIRE_OK(d3m_pm_readout(mesh, particles, D3M_PM_POSITIONS, BOX, values));
    float *got = tensor_to_host(values);

    double worst = 0.0;
    for (int c = 0; c < ncomp; c++)
        for (size_t p = 0; p < np; p++) {
            double x[3] = {pos[p], pos[np + p], pos[2 * np + p]};
            double expected = host_readout(field + c * cells, MESH, BOX, x);
            worst = fmax(worst, fabs(got[c * np + p] - expected));
        }
    /* Values in [-1, 1]; weight errors of ~1e-5 from float positions. */
    CHECK(worst <= 5e-5, "readout differs from the host loop by %g", worst);

    free(field);
    free(pos);
    free(got);
    d3m_tensor_free(mesh);
    d3m_tensor_free(particles);
    d3m_tensor_free(values);
}


/* Painting the displacement field directly equals painting q + Psi. */
static void test_lattice_helpers(void)
{
    const int n = 8;
    size_t np = (size_t)n * n * n;
    size_t dshape[4] = {3, (size_t)n, (size_t)n, (size_t)n}, pshape[2] = {3, np};
    size_t mshape[3] = {MESH, MESH, MESH};
    float *psi = malloc(3 * np * sizeof *psi);
    for (size_t i = 0; i < 3 * np; i++)   /* up to 0.45 box either way */
        psi[i] = (float)(0.9 * BOX * (rng_uniform() - 0.5));
    d3m_tensor *displacement = tensor_from(4, dshape, psi);
    d3m_tensor *positions = new_tensor(2, pshape);
    d3m_tensor *back = new_tensor(4, dshape);

    REQUIRE_OK(d3m_pm_lattice_positions(displacement, BOX, 1.0f, positions));
    float *pos = tensor_to_host(positions);
    double worst_position = 0.0;
    int outside = 0;
    for (size_t p = 0; p < np; p++) {
        size_t index[3] = {p / ((size_t)n * n), (p / n) % n, p % n};
        for (int d = 0; d < 3; d++) {
            double x = pos[d * np + p];
            if (!(x >= 0.0 && x < BOX))
                outside++;
            double expected = fmod(index[d] * BOX / n + psi[d * np + p] + 2.0 * BOX, BOX);
            double diff = fabs(x - expected);
            worst_position = fmax(worst_position, fmin(diff, BOX - diff));
        }
    }
    /* Sums of floats below 2 box round at 128 * 6e-8 = 1.5e-5 Mpc/h. */
    CHECK(outside == 0, "%d coordinates lie outside [0, box)", outside);
    CHECK(worst_position <= 3e-5, "lattice positions are off by %g Mpc/h", worst_position);

    REQUIRE_OK(d3m_pm_lattice_displacement(positions, D3M_PM_POSITIONS, BOX, back));
    float *psi_back = tensor_to_host(back);
    double worst_psi = 0.0;
    for (size_t i = 0; i < 3 * np; i++)
        worst_psi = fmax(worst_psi, fabs(psi_back[i] - psi[i]));
    CHECK(worst_psi <= 5e-5, "displacement round trip is off by %g Mpc/h", worst_psi);

    d3m_tensor *mesh_a = new_tensor(3, mshape), *mesh_b = new_tensor(3, mshape);
    REQUIRE_OK(d3m_pm_paint(positions, D3M_PM_POSITIONS, BOX, 1.0f, NULL, mesh_a));
    REQUIRE_OK(d3m_pm_paint(displacement, D3M_PM_DISPLACEMENTS, BOX, 1.0f, NULL, mesh_b));
    float *a = tensor_to_host(mesh_a), *b = tensor_to_host(mesh_b);
    double worst_mesh = 0.0;
    for (size_t i = 0; i < mesh_a->numel; i++)
        worst_mesh = fmax(worst_mesh, fabs(a[i] - b[i]));
    /* The two paths round positions differently, by ~2e-6 cells. */
    CHECK(worst_mesh <= 1e-4, "painting displacements and positions differ by %g", worst_mesh);

    free(psi);
    free(pos);
    free(psi_back);
    free(a);
    free(b);
    d3m_tensor_free(displacement);
    d3m_tensor_free(positions);
    d3m_tensor_free(back);
    d3m_tensor_free(mesh_a);
    d3m_tensor_free(mesh_b);
}


static void test_shape_errors(void)
{
    size_t bad_shape[2] = {4, 10}, mshape[3] = {MESH, MESH, MESH}, flat[3] = {MESH, MESH, 8};
    d3m_tensor *bad = new_tensor(2, bad_shape);
    d3m_tensor *mesh = new_tensor(3, mshape), *not_cubic = new_tensor(3, flat);

    int status = d3m_pm_paint(bad, D3M_PM_POSITIONS, BOX, 1.0f, NULL, mesh);
    CHECK(status == D3M_ERR_SHAPE, "positions [4, 10] gave status %d", status);
    CHECK(strstr(d3m_last_error(), "[3, np]") != NULL, "message: %s", d3m_last_error());

    size_t pshape[2] = {3, 10};
    d3m_tensor *particles = new_tensor(2, pshape);
    REQUIRE_OK(d3m_tensor_fill(particles, 1.0f));
    status = d3m_pm_paint(particles, D3M_PM_POSITIONS, BOX, 1.0f, NULL, not_cubic);
    CHECK(status == D3M_ERR_SHAPE, "a mesh [16, 16, 8] gave status %d", status);
    status = d3m_pm_paint(particles, D3M_PM_POSITIONS, -1.0, 1.0f, NULL, mesh);
    CHECK(status == D3M_ERR_ARG, "box -1 gave status %d", status);
    status = d3m_pm_paint(particles, D3M_PM_DISPLACEMENTS, BOX, 1.0f, NULL, mesh);
    CHECK(status == D3M_ERR_SHAPE, "displacements [3, 10] gave status %d", status);

    d3m_tensor_free(bad);
    d3m_tensor_free(mesh);
    d3m_tensor_free(not_cubic);
    d3m_tensor_free(particles);
}


int main(void)
{
    REQUIRE_OK(d3m_use_device(NULL));
    rng_seed(20161);
    test_paint_sum();
    test_paint_node();
    test_paint_matches_host();
    test_paint_contention();
    test_readout_linear_field();
    test_readout_matches_host();
    test_lattice_helpers();
    test_shape_errors();
    if (failures == 0)
        printf("test_cic: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
