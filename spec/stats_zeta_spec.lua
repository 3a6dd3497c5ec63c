-- d3m.stats.zeta: the 3PCF multipoles against an independent reference
-- (D. Eisenstein's C++ code, via nbodykit's test data) and the Lua API.
local d3m = require "d3m"

local function reference_dir()
  local source = os.getenv("D3M_SOURCE_DIR")
  if source == nil then
    return nil
  end
  local dir = source .. "/../shared/reference/3pcf-eisenstein"
  local f = io.open(dir .. "/points.dat", "r")
  if f == nil then
    return nil
  end
  f:close()
  return dir
end


local function read_rows(path)
  local rows = {}
  for line in io.lines(path) do
    local row = {}
    for field in line:gmatch("%S+") do
      row[#row + 1] = tonumber(field)
    end
    if #row > 0 then
      rows[#rows + 1] = row
    end
  end
  return rows
end


describe("stats.zeta", function()
  it("reproduces the independent reference N_l to 1e-3", function()
    local dir = reference_dir()
    if dir == nil then
      print("skipped: no 3PCF reference data at $D3M_SOURCE_DIR/../shared/reference/3pcf-eisenstein")
      return
    end
    local box = 400
    local points = read_rows(dir .. "/points.dat")
    local xyz, w = {}, {}
    for i, p in ipairs(points) do
      xyz[3 * i - 2], xyz[3 * i - 1], xyz[3 * i] = p[1] * box, p[2] * box, p[3] * box
      w[i] = p[4]
    end
    local positions = d3m.from_table(xyz, {#points, 3})
    local weights = d3m.from_table(w, {#points})
    local edges = {}
    for i = 0, 8 do
      edges[i + 1] = 25 * i
    end
    local result = d3m.stats.zeta(positions, {box = box, weights = weights, edges = edges, lmax = 10})
    local worst = 0
    for _, row in ipairs(read_rows(dir .. "/multipoles.dat")) do
      local i, j = row[1] + 1, row[2] + 1
      for l = 0, 10 do
        local expected, got = row[3 + l], result.N[l][i][j]
        -- The reference lists 7 significant digits; the published check
        -- uses rtol 1e-3, as do we.
        local error = math.abs(got - expected) / math.abs(expected)
        worst = math.max(worst, error)
        assert.is_true(error < 1e-3, string.format("l = %d, bins (%d, %d): %.7g, reference %.7g",
                                                   l, i - 1, j - 1, got, expected))
        assert.are.equal(result.N[l][i][j], result.N[l][j][i])
      end
    end
    print(string.format("3PCF reference: largest relative difference %.2g", worst))
  end)

  it("returns zeta[l][b1][b2] with the default bins", function()
    local n = 200
    local xyz = {}
    local seed = 1
    local function uniform()
      seed = (seed * 16807) % 2147483647
      return seed / 2147483647
    end
    for i = 1, 3 * n do
      xyz[i] = 100 * uniform()
    end
    local result = d3m.stats.zeta(d3m.from_table(xyz, {n, 3}), {box = 100, lmax = 2})
    assert.are.equal(11, #result.edges)
    assert.are.equal(50, result.edges[11])
    assert.are.equal(10, #result.zeta[0])
    assert.are.equal(10, #result.zeta[2][10])
    assert.is_nil(result.zeta[3])
    assert.truthy(result.convention:find("delta_l0", 1, true))
    local residual, convention = d3m.stats.zeta_residual(result, result, {lmax = 2})
    assert.are.equal(0, residual)
    assert.truthy(convention:find("b1 <= b2", 1, true))

    -- bins as a table of edges; the residual of a 10% change is 0.1
    local narrow = d3m.stats.zeta(d3m.from_table(xyz, {n, 3}), {box = 100, lmax = 1, bins = {10, 20, 30}})
    assert.are.equal(2, #narrow.zeta[1])
    local scaled = {zeta = {}}
    for l = 0, 1 do
      scaled.zeta[l] = {}
      for b1 = 1, 2 do
        scaled.zeta[l][b1] = {}
        for b2 = 1, 2 do
          scaled.zeta[l][b1][b2] = 1.1 * narrow.zeta[l][b1][b2]
        end
      end
    end
    local r = d3m.stats.zeta_residual(scaled, narrow, {lmax = 1})
    assert.is_true(math.abs(r - 0.1) < 1e-12)
  end)

  it("gives the same zeta for [3, N] and [N, 3] positions", function()
    local n = 150
    math.randomseed(4)
    local rows, columns = {}, {}
    for p = 1, n do
      for d = 1, 3 do
        local x = 60 * math.random()
        rows[3 * (p - 1) + d] = x
        columns[(d - 1) * n + p] = x
      end
    end
    local opts = {box = 60, edges = {5, 10, 20}, lmax = 2}
    local a = d3m.stats.zeta(d3m.from_table(rows, {n, 3}), opts)
    local b = d3m.stats.zeta(d3m.from_table(columns, {3, n}), opts)
    for l = 0, 2 do
      for b1 = 1, 2 do
        for b2 = 1, 2 do
          assert.are.equal(a.zeta[l][b1][b2], b.zeta[l][b1][b2])
        end
      end
    end
  end)

  it("rejects r_max above box / 2 and lmax above 10", function()
    local positions = d3m.from_table({1, 2, 3, 4, 5, 6}, {2, 3})
    assert.has_error(function() d3m.stats.zeta(positions, {box = 80}) end,
                     "stats.zeta: r_max = 50 exceeds box / 2 = 40; lower the bins or use a larger box")
    assert.has_error(function() d3m.stats.zeta(positions, {box = 200, lmax = 11}) end,
                     "stats.zeta: opts.lmax must be an integer from 0 to 10, got 11")
  end)
end)


describe("stats.zeta_mesh", function()
  it("gives zeta = 0 for a uniform mesh", function()
    local n, box = 16, 64
    local result = d3m.stats.zeta_mesh(d3m.full({n, n, n}, 2.5), {box = box, edges = {4, 8, 12}, lmax = 3})
    for l = 0, 3 do
      for b1 = 1, 2 do
        for b2 = 1, 2 do
          -- Products of float FFT outputs of a constant: 1e-5.
          assert.is_true(math.abs(result.zeta[l][b1][b2]) < 1e-5,
                         string.format("l = %d: %g", l, result.zeta[l][b1][b2]))
        end
      end
    end
    -- Shell [4, 8) on a mesh of side 4: the 6 + 12 separations at 4 and 4 sqrt 2
    -- and 8 at 4 sqrt 3; volumes in (Mpc/h)^3.
    assert.are.equal(26 * 64, result.volumes[1])
  end)

  it("counts the same triplets as stats.zeta for particles at mesh nodes", function()
    local n, box = 8, 32
    math.randomseed(17)
    local counts, xyz = {}, {}
    for i = 1, n ^ 3 do
      counts[i] = 0
    end
    local particles = 600
    for p = 1, particles do
      -- clustered: half the particles in one corner octant
      local limit = p % 2 == 0 and n // 2 - 1 or n - 1
      local i, j, l = math.random(0, limit), math.random(0, limit), math.random(0, n - 1)
      counts[(i * n + j) * n + l + 1] = counts[(i * n + j) * n + l + 1] + 1
      xyz[3 * p - 2], xyz[3 * p - 1], xyz[3 * p] = i * box / n, j * box / n, l * box / n
    end
    local opts = {box = box, edges = {4, 8, 12, 16}, lmax = 4}
    local mesh = d3m.stats.zeta_mesh(d3m.from_table(counts, {n, n, n}), opts)
    local pairs = d3m.stats.zeta(d3m.from_table(xyz, {particles, 3}), opts)
    for l = 0, 4 do
      for b1 = 1, 3 do
        for b2 = 1, 3 do
          local v1 = d3m.stats.shell_volume(opts.edges[b1], opts.edges[b1 + 1])
          local v2 = d3m.stats.shell_volume(opts.edges[b2], opts.edges[b2 + 1])
          local delta = l == 0 and 1 or 0
          local from_pairs = (pairs.zeta[l][b1][b2] + delta) * v1 * v2
          local from_mesh = (mesh.zeta[l][b1][b2] + delta) * mesh.volumes[b1] * mesh.volumes[b2]
          -- float FFTs of an 8^3 mesh: 1e-4 of the l = 0 size.
          assert.is_true(math.abs(from_pairs - from_mesh) < 1e-4 * v1 * v2,
                         string.format("l = %d, bins (%d, %d): pairs %g, mesh %g", l, b1, b2,
                                       from_pairs / (v1 * v2), from_mesh / (v1 * v2)))
        end
      end
    end
  end)
end)
