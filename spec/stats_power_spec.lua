-- d3m.stats power spectra, T, r, point-wise errors and positions through the
-- Lua API, against analytic values.
local d3m = require "d3m"

local N, BOX = 16, 100.0
local K_F = 2 * math.pi / BOX


local function mesh_from(fn)
  local values = {}
  for i = 0, N - 1 do
    for j = 0, N - 1 do
      for l = 0, N - 1 do
        values[#values + 1] = fn(i, j, l)
      end
    end
  end
  return d3m.from_table(values, {N, N, N})
end


local function normal_noise(seed, count)
  math.randomseed(seed)
  local values = {}
  for i = 1, count do
    local u, v = 1 - math.random(), math.random()
    values[i] = math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * v)
  end
  return values
end


describe("stats.power", function()
  it("puts a plane wave's power in its bin with V A^2 / 4 per mode", function()
    local amplitude = 0.5
    local wave = mesh_from(function(i, j, l)
      return amplitude * math.cos(2 * math.pi * (2 * i + 1 * j + 2 * l) / N)
    end)
    local p = d3m.stats.power(wave, {box = BOX})
    local k = 3 * K_F   -- |(2, 1, 2)| = 3
    local expected = BOX ^ 3 * amplitude ^ 2 / 4
    for b = 1, #p.P do
      if p.edges[b] <= k and k < p.edges[b + 1] then
        -- float FFT of an O(1) field: 1e-4 relative leaves a wide margin.
        assert.is_true(math.abs(p.P[b] * p.modes[b] / 2 - expected) < 1e-4 * expected)
      else
        assert.is_true(math.abs(p.P[b]) < 1e-9 * expected)
      end
    end
    assert.are.equal("none", p.window)
    assert.is_nil(p.shot_noise)
  end)

  it("gives V / N for Poisson counts", function()
    -- Nearest-grid-point counts of uniform points: white noise of power V / N.
    local particles = 20000
    math.randomseed(7)
    local counts = {}
    for i = 1, N ^ 3 do
      counts[i] = 0
    end
    for _ = 1, particles do
      local cell = math.random(0, N - 1) * N * N + math.random(0, N - 1) * N + math.random(0, N - 1)
      counts[cell + 1] = counts[cell + 1] + 1
    end
    local rho = d3m.from_table(counts, {N, N, N})
    local opts = {box = BOX, kind = "density", window = "none", particles = particles}
    local p = d3m.stats.power(rho, opts)
    assert.are.equal(BOX ^ 3 / particles, p.shot_noise)
    for b = 1, #p.P do
      -- count / 2 independent modes with exponential |delta_k|^2: 5 sigma.
      local sigma = math.sqrt(2 / p.modes[b])
      assert.is_true(math.abs(p.P[b] / p.shot_noise - 1) < 5 * sigma,
                     string.format("bin %d: P / shot noise = %g", b, p.P[b] / p.shot_noise))
    end
    opts.subtract_shot_noise = true
    local q = d3m.stats.power(rho, opts)
    for b = 1, #q.P do
      assert.is_true(math.abs(q.P[b] - (p.P[b] - p.shot_noise)) < 1e-9 * p.shot_noise)
    end
  end)

  it("sums the three component powers of a displacement", function()
    local noise = normal_noise(3, 3 * N ^ 3)
    local disp = d3m.from_table(noise, {3, N, N, N})
    local total = d3m.stats.power(disp, {box = BOX})
    assert.are.equal("displacement", total.kind)
    local sum = {}
    for d = 0, 2 do
      local part = {table.unpack(noise, d * N ^ 3 + 1, (d + 1) * N ^ 3)}
      local p = d3m.stats.power(d3m.from_table(part, {N, N, N}), {box = BOX})
      for b = 1, #p.P do
        sum[b] = (sum[b] or 0) + p.P[b]
      end
    end
    for b = 1, #sum do
      assert.is_true(math.abs(total.P[b] - sum[b]) < 1e-12 * sum[b])
    end
  end)

  it("accepts edges, dk and kmin", function()
    local mesh = d3m.from_table(normal_noise(5, N ^ 3), {N, N, N})
    local p = d3m.stats.power(mesh, {box = BOX, dk = 2 * K_F, kmin = K_F, kmax = 7 * K_F})
    assert.are.equal(3, #p.P)
    local q = d3m.stats.power(mesh, {box = BOX, edges = {0.05, 0.1, 0.2}})
    assert.are.equal(2, #q.P)
  end)

  it("rejects a missing box and an unknown kind", function()
    local mesh = d3m.zeros{N, N, N}
    assert.has_error(function() d3m.stats.power(mesh, {}) end,
                     "stats.power: opts.box (the box side in Mpc/h) must be a positive number, got nil")
    assert.has_error(function() d3m.stats.power(mesh, {box = BOX, kind = "velocity"}) end,
                     "stats.power: opts.kind must be \"density\", \"displacement\" or \"mesh\", got velocity")
  end)
end)


describe("stats.compare", function()
  it("gives T = r = 1 for identical fields", function()
    local a = d3m.from_table(normal_noise(11, N ^ 3), {N, N, N})
    local c = d3m.stats.compare({a, a}, {a, a}, {box = BOX})
    assert.are.equal(2, c.simulations)
    for b = 1, #c.T do
      -- Same products summed in double: equal up to round-off.
      assert.is_true(math.abs(c.T[b] - 1) < 1e-12)
      assert.is_true(math.abs(c.r[b] - 1) < 1e-12)
      assert.is_true(math.abs(c.stochasticity[b]) < 1e-11)
    end
  end)

  it("gives r = 0 within errors for independent fields", function()
    local preds, truths = {}, {}
    for s = 1, 3 do
      preds[s] = d3m.from_table(normal_noise(100 + s, N ^ 3), {N, N, N})
      truths[s] = d3m.from_table(normal_noise(200 + s, N ^ 3), {N, N, N})
    end
    local c = d3m.stats.compare(preds, truths, {box = BOX})
    for b = 1, #c.r do
      -- 3 simulations x modes / 2 independent products: 5 sigma.
      local sigma = math.sqrt(2 / (3 * c.modes[b]))
      assert.is_true(math.abs(c.r[b]) < 5 * sigma, string.format("bin %d: r = %g", b, c.r[b]))
    end
  end)

  it("averages spectra before taking ratios", function()
    local s1 = {k = {1, 2}, P = {1, 4}, modes = {6, 12}}
    local s2 = {k = {1, 2}, P = {3, 8}, modes = {6, 12}}
    local mean = d3m.stats.average({s1, s2})
    assert.are.same({2, 6}, mean.P)
    local t = d3m.stats.transfer({P = {8, 2}}, {P = {2, 2}})
    assert.are.same({2, 1}, t)
    assert.are.same({4, 1}, d3m.stats.transfer({P = {8, 2}}, {P = {2, 2}}, {squared = true}))
    -- Fields instead of spectra raise a message naming what to pass.
    local field = d3m.zeros{3, 4, 4, 4}
    local ok, message = pcall(d3m.stats.transfer, field, field)
    assert.is_false(ok)
    assert.matches("pred must be a result of d3m.stats.power (a table with field P), got a "
      .. "tensor", message, 1, true)
  end)
end)


describe("stats.pointwise_error", function()
  it("returns the mean and max of |pred - true| / |true|", function()
    local truth, pred = {}, {}
    local count = 8
    for i = 1, 3 * count do
      truth[i] = (i % 5) + 1
      pred[i] = truth[i]
    end
    -- particle 1 off by 10% in every component, particle 2 by 50% in x only
    for d = 0, 2 do
      pred[d * count + 1] = 1.1 * truth[d * count + 1]
    end
    pred[2] = truth[2] + 0.5 * math.sqrt(truth[2] ^ 2 + truth[count + 2] ^ 2 + truth[2 * count + 2] ^ 2)
    local e = d3m.stats.pointwise_error(d3m.from_table(pred, {3, 2, 2, 2}),
                                        d3m.from_table(truth, {3, 2, 2, 2}))
    -- float32 arithmetic: 1e-6.
    assert.is_true(math.abs(e.max - 0.5) < 1e-6)
    assert.is_true(math.abs(e.mean - 0.6 / count) < 1e-6)
    assert.are.equal(count, e.particles)
    assert.are.equal(0, e.skipped)
  end)

  it("treats [S, 3, ...] and a list of S fields alike", function()
    local a_true, a_pred = normal_noise(21, 3 * 8), normal_noise(22, 3 * 8)
    local b_true, b_pred = normal_noise(23, 3 * 8), normal_noise(24, 3 * 8)
    local listed = d3m.stats.pointwise_error(
      {d3m.from_table(a_pred, {3, 2, 2, 2}), d3m.from_table(b_pred, {3, 2, 2, 2})},
      {d3m.from_table(a_true, {3, 2, 2, 2}), d3m.from_table(b_true, {3, 2, 2, 2})})
    local function concat(x, y)
      local out = {table.unpack(x)}
      for i = 1, #y do
        out[#out + 1] = y[i]
      end
      return out
    end
    local batched = d3m.stats.pointwise_error(d3m.from_table(concat(a_pred, b_pred), {2, 3, 2, 2, 2}),
                                              d3m.from_table(concat(a_true, b_true), {2, 3, 2, 2, 2}))
    assert.are.equal(16, batched.particles)
    -- Same float errors, summed in a different order: 1e-6 relative.
    assert.is_true(math.abs(listed.mean - batched.mean) < 1e-6 * batched.mean)
    assert.are.equal(listed.max, batched.max)
  end)

  it("skips particles with zero true displacement", function()
    local e = d3m.stats.pointwise_error(d3m.full({3, 1, 1, 2}, 1), d3m.zeros{3, 1, 1, 2})
    assert.are.equal(2, e.skipped)
    assert.are.equal(0, e.particles)
  end)
end)


describe("stats.positions", function()
  it("moves grid nodes by the displacement and wraps into the box", function()
    local n, box = 2, 10
    local disp = {}
    for i = 1, 3 * n ^ 3 do
      disp[i] = 0
    end
    disp[1] = -1       -- particle (0, 0, 0), axis 0: -1 wraps to 9
    disp[n ^ 3] = 2    -- particle (1, 1, 1), axis 0: 5 + 2 = 7
    local pos = d3m.stats.positions(d3m.from_table(disp, {3, n, n, n}), {box = box})
    assert.are.same({3, 8}, pos:shape())
    local rows = pos:to_table()
    -- rows: x of particles 1..8, then y, then z
    assert.are.same({9, 0, 0}, {rows[1], rows[9], rows[17]})
    assert.are.same({0, 0, 5}, {rows[2], rows[10], rows[18]})
    assert.are.same({7, 5, 5}, {rows[8], rows[16], rows[24]})
  end)
end)
