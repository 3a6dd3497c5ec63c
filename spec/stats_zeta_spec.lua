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
  end)

  it("rejects r_max above box / 2 and lmax above 10", function()
    local positions = d3m.from_table({1, 2, 3, 4, 5, 6}, {2, 3})
    assert.has_error(function() d3m.stats.zeta(positions, {box = 80}) end,
                     "stats.zeta: r_max = 50 exceeds box / 2 = 40; lower the bins or use a larger box")
    assert.has_error(function() d3m.stats.zeta(positions, {box = 200, lmax = 11}) end,
                     "stats.zeta: opts.lmax must be an integer from 0 to 10, got 11")
  end)
end)
