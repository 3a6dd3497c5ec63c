-- d3m.pm from Lua: CIC painting and readout against plain Lua loops, the
-- lattice helpers, the gravity force of a particle pair, and the error
-- messages of bad calls.
local d3m = require "d3m"

-- A fixed-seed generator (Lua's own math.random differs between builds).
local function generator(seed)
  local state = seed
  return function()
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  end
end

-- CIC on the host: node j of an n^3 mesh at j * box / n; returns a flat
-- table in row-major order.
local function host_paint(xs, n, box, masses)
  local mesh = {}
  for i = 1, n * n * n do mesh[i] = 0 end
  local np = #xs[1]
  for p = 1, np do
    local j, w = {}, {}
    for d = 1, 3 do
      local u = xs[d][p] * n / box
      local cell = math.floor(u)
      w[d] = u - cell
      j[d] = cell % n
    end
    for corner = 0, 7 do
      local s = {(corner >> 2) & 1, (corner >> 1) & 1, corner & 1}
      local weight, k = masses and masses[p] or 1, {}
      for d = 1, 3 do
        weight = weight * (s[d] == 1 and w[d] or 1 - w[d])
        k[d] = (j[d] + s[d]) % n
      end
      local index = (k[1] * n + k[2]) * n + k[3] + 1
      mesh[index] = mesh[index] + weight
    end
  end
  return mesh
end

-- Positions tensor [3, np] from three coordinate lists.
local function positions_tensor(xs)
  local flat = {}
  for d = 1, 3 do
    for p = 1, #xs[d] do flat[#flat + 1] = xs[d][p] end
  end
  return d3m.from_table(flat, {3, #xs[1]})
end

local function sum(values)
  local total = 0
  for _, v in ipairs(values) do total = total + v end
  return total
end

describe("d3m.pm", function()
  local box, n = 64, 8   -- 8 Mpc/h cells: node positions are exact floats

  it("paints the particle count and matches a host loop", function()
    local random = generator(7)
    local xs, masses = {{}, {}, {}}, {}
    for p = 1, 300 do
      for d = 1, 3 do xs[d][p] = (random() * 3 - 1) * box end   -- wraps from -box to 2 box
      masses[p] = 0.5 + random()
    end
    local positions = positions_tensor(xs)
    local mesh = d3m.pm.paint(positions, n, box)
    assert.are.same({n, n, n}, mesh:shape())
    -- 8 weights per particle sum to 1 up to float rounding (1e-7 each).
    assert.is_true(math.abs(sum(mesh:to_table()) - 300) < 1e-4)

    local weighted = d3m.pm.paint(positions, n, box, d3m.from_table(masses))
    local expected = host_paint(xs, n, box, masses)
    local got = weighted:to_table()
    local worst = 0
    for i = 1, #expected do worst = math.max(worst, math.abs(got[i] - expected[i])) end
    -- float positions up to 2 box round by ~1e-5 cells: 1e-4 per cell.
    assert.is_true(worst < 1e-4, "paint differs from the host loop by " .. worst)

    local doubled = d3m.pm.paint(positions, n, box, 2):to_table()
    assert.is_true(math.abs(sum(doubled) - 600) < 2e-4)
  end)

  it("paints bit-identically in any order", function()
    -- 20,000 particles in one cell's neighbourhood contend for the same 8
    -- cells. Fixed-point accumulation gives the same bits on every run,
    -- where a float compare-and-swap loop rounded in another order each time.
    local random = generator(11)
    local xs = {{}, {}, {}}
    for p = 1, 20000 do
      for d = 1, 3 do xs[d][p] = 3.5 * 8 + random() * 8 end
    end
    local positions = positions_tensor(xs)
    local first = d3m.pm.paint(positions, n, box, 0.37):to_string()
    for _ = 1, 5 do
      assert.are.equal(first, d3m.pm.paint(positions, n, box, 0.37):to_string())
    end
    local mass = 0
    for _, v in ipairs(d3m.from_string(first, {n, n, n}):to_table()) do mass = mass + v end
    -- 20,000 deposits of 0.37 summed exactly in fixed point, then one
    -- rounding per cell to float: relative 1e-6 of the total.
    assert.is_true(math.abs(mass - 7400) < 7400 * 1e-6, "painted mass " .. mass)
  end)

  it("puts a particle on a node into one cell", function()
    local mesh = d3m.pm.paint(positions_tensor{{3 * 8}, {7 * 8}, {0}}, n, box)
    local values = mesh:to_table()
    local cell = (3 * n + 7) * n + 0 + 1
    assert.are.equal(1, values[cell])
    assert.are.equal(1, sum(values))
  end)

  it("reads a linear field exactly between nodes", function()
    local field = {}
    for i = 0, n - 1 do
      for j = 0, n - 1 do
        for k = 0, n - 1 do field[#field + 1] = 0.5 + 0.25 * i - 0.125 * j + 0.0625 * k end
      end
    end
    local mesh = d3m.from_table(field, {n, n, n})
    local xs = {{0, 8, 12.5, 30.25}, {0, 16, 3.75, 50}, {0, 40, 9, 1.5}}
    local values = d3m.pm.readout(mesh, positions_tensor(xs), box):to_table()
    for p = 1, 4 do
      local u = {xs[1][p] / 8, xs[2][p] / 8, xs[3][p] / 8}
      local expected = 0.5 + 0.25 * u[1] - 0.125 * u[2] + 0.0625 * u[3]
      assert.is_true(math.abs(values[p] - expected) < 1e-6,
                     string.format("particle %d: %g, expected %g", p, values[p], expected))
    end
  end)

  it("reads stacked meshes into [c, np]", function()
    local mesh = d3m.zeros{2, n, n, n}
    mesh:fill(3)
    local values = d3m.pm.readout(mesh, positions_tensor{{1, 2}, {3, 4}, {5, 6}}, box)
    assert.are.same({2, 2}, values:shape())
    for _, v in ipairs(values:to_table()) do assert.is_true(math.abs(v - 3) < 1e-6) end
  end)

  it("converts lattice displacements to positions and back", function()
    local m = 4
    local random = generator(11)
    local psi = {}
    for i = 1, 3 * m * m * m do psi[i] = (random() - 0.5) * 0.8 * box end
    local displacement = d3m.from_table(psi, {3, m, m, m})
    local positions = d3m.pm.lattice_positions(displacement, box)
    assert.are.same({3, m * m * m}, positions:shape())
    for _, x in ipairs(positions:to_table()) do assert.is_true(x >= 0 and x < box) end
    local back = d3m.pm.lattice_displacement(positions, box):to_table()
    for i = 1, #psi do assert.is_true(math.abs(back[i] - psi[i]) < 1e-4) end

    -- painting the displacement field equals painting q + psi
    local a = d3m.pm.paint(positions, n, box):to_table()
    local b = d3m.pm.paint_displacement(displacement, n, box):to_table()
    for i = 1, #a do assert.is_true(math.abs(a[i] - b[i]) < 1e-4) end
  end)

  it("gives a pair equal and opposite forces near 1/r^2", function()
    local mesh_n, side = 32, 128   -- 4 Mpc/h cells
    local positions = positions_tensor{{20.7, 36.7}, {30.3, 30.3}, {31.1, 31.1}}
    for _, gradient in ipairs{"fd4", "exact"} do
      local g = d3m.pm.gravity(positions, mesh_n, side, {gradient = gradient}):to_table()
      -- [3, 2]: g[1], g[2] are the axis-0 components of the two particles
      for d = 0, 2 do
        -- the pair cancels up to float rounding of the FFTs
        assert.is_true(math.abs(g[2 * d + 1] + g[2 * d + 2]) <= 1e-5 * math.abs(g[1]))
      end
    end
    -- 16 Mpc/h = 4 cells apart, the four-point gradient gives the point-mass
    -- field (V / 2) / (4 pi r^2) within 6 percent (CIC smoothing up to 4
    -- percent, periodic images 1 percent). The exact gradient rings, so
    -- only the symmetry above holds for it.
    local g = d3m.pm.gravity(positions, mesh_n, side):to_table()
    local newton = side ^ 3 / 2 / (4 * math.pi * 16 ^ 2)
    assert.is_true(math.abs(g[1] / newton - 1) < 0.06,
                   string.format("|g| = %g, point-mass field %g", g[1], newton))
  end)

  it("computes the acceleration mesh of a plane wave", function()
    local field = {}
    local k = 2 * math.pi / box
    for i = 0, n - 1 do
      for _ = 0, n - 1 do
        for _ = 0, n - 1 do field[#field + 1] = 1 + 0.2 * math.cos(k * i * box / n) end
      end
    end
    local accel = d3m.pm.acceleration_mesh(d3m.from_table(field, {n, n, n}), box,
                                           {gradient = "exact"})
    assert.are.same({3, n, n, n}, accel:shape())
    local values = accel:to_table()
    for i = 0, n - 1 do
      -- g = -grad phi = -0.2 sin(k x) / k along axis 0
      local expected = -0.2 * math.sin(k * i * box / n) / k
      assert.is_true(math.abs(values[i * n * n + 1] - expected) < 1e-4)
    end
  end)

  it("rejects bad arguments with a message", function()
    local positions = positions_tensor{{1}, {2}, {3}}
    assert.has_error(function() d3m.pm.paint(positions, 0, box) end)
    assert.has_error(function() d3m.pm.paint(positions, n, -1) end)
    assert.has_error(function() d3m.pm.paint(d3m.zeros{4, 2}, n, box) end,
                     "pm paint: expected positions [3, np] (row d = coordinate along mesh axis "
                     .. "d), got [4, 2]")
    local ok, message = pcall(d3m.pm.gravity, positions, n, box, {gradient = "spectral"})
    assert.is_false(ok)
    assert.matches('must be "exact"', message)
    assert.has_error(function() d3m.pm.lattice_displacement(d3m.zeros{3, 7}, box) end)
  end)
end)
