-- d3m.sim.linear_field and d3m.sim.lpt from Lua: the result tables,
-- determinism, modes shared between meshes, plane waves with analytic
-- displacements, and the growth factors applied to psi1 and psi2.
local d3m = require "d3m"

-- Flat 1-based index of element (i0, i1, i2[, c]) (0-based) of a tensor
-- stored row-major with extents dims.
local function offset(dims, ...)
  local index = 0
  for d, i in ipairs{...} do
    index = index * dims[d] + i
  end
  return index + 1
end

-- delta_k of a sum of waves A cos(2 pi m.i / n), by r2c of the real field.
local function plane_waves(n, waves)
  local values = {}
  for i0 = 0, n - 1 do
    for i1 = 0, n - 1 do
      for i2 = 0, n - 1 do
        local v = 0
        for _, w in ipairs(waves) do
          v = v + w.A * math.cos(2 * math.pi * (w.m[1] * i0 + w.m[2] * i1 + w.m[3] * i2) / n)
        end
        values[#values + 1] = v
      end
    end
  end
  return d3m.fft.r2c(d3m.from_table(values, {n, n, n}))
end

local function max_abs_difference(t, expected)
  local worst = 0
  for i, v in ipairs(t:to_table()) do
    worst = math.max(worst, math.abs(v - expected(i)))
  end
  return worst
end

-- Position (Mpc/h) and component of flat element i of a [3, n, n, n] tensor.
local function particle(i, n, box)
  local cell = (i - 1) % (n * n * n)
  local component = (i - 1) // (n * n * n)
  local q = {cell // (n * n) * box / n, cell // n % n * box / n, cell % n * box / n}
  return q, component + 1
end

describe("d3m.sim.linear_field", function()
  it("returns the field table", function()
    local c = d3m.cosmology{}
    local field = d3m.sim.linear_field{cosmology = c, box = 100, n = 8, seed = 5}
    assert.are.same({8, 8, 5, 2}, field.delta_k:shape())
    assert.are.equal(100, field.box)
    assert.are.equal(8, field.n)
    assert.are.equal(5, field.seed)
    assert.are.equal(c, field.cosmology)
    -- Defaults: Planck 2015, 128 Mpc/h, 32^3.
    local default = d3m.sim.linear_field{seed = 1}
    assert.are.equal(128, default.box)
    assert.are.equal(32, default.n)
    assert.are.equal(0.3089, default.cosmology.Omega_m)
  end)

  it("is bit-identical for a seed and differs between seeds", function()
    local a = d3m.sim.linear_field{n = 16, seed = 11}.delta_k:to_string()
    local b = d3m.sim.linear_field{n = 16, seed = 11}.delta_k:to_string()
    local c = d3m.sim.linear_field{n = 16, seed = 12}.delta_k:to_string()
    assert.are.equal(a, b)
    assert.are_not.equal(a, c)
  end)

  -- delta_k / n^3 of the modes |m_d| < 8 agree between 16^3 and 32^3 to
  -- one float rounding (3e-7 relative).
  it("shares the low-k modes between mesh sizes", function()
    local small = d3m.sim.linear_field{n = 16, seed = 21, box = 128}.delta_k:to_table()
    local large = d3m.sim.linear_field{n = 32, seed = 21, box = 128}.delta_k:to_table()
    local compared = 0
    for m0 = -7, 7 do
      for m1 = -7, 7 do
        for m2 = 0, 7 do
          for part = 0, 1 do
            local s = small[offset({16, 16, 9, 2}, m0 % 16, m1 % 16, m2, part)] / 16 ^ 3
            local l = large[offset({32, 32, 17, 2}, m0 % 32, m1 % 32, m2, part)] / 32 ^ 3
            assert.is_true(math.abs(s - l) <= 3e-7 * math.max(math.abs(s), math.abs(l)),
                           string.format("mode (%d, %d, %d): %g against %g", m0, m1, m2, s, l))
            compared = compared + 1
          end
        end
      end
    end
    assert.are.equal(15 * 15 * 8 * 2, compared)
  end)

  it("rejects missing or invalid options", function()
    local cases = {
      {{n = 16}, "'seed' is missing"},
      {{n = 15, seed = 1}, "even mesh size"},
      {{box = -5, seed = 1}, "'box'"},
      {{seed = -1}, "'seed'"},
      {{seed = 1, cosmology = 3}, "'cosmology'"},
    }
    for _, case in ipairs(cases) do
      local ok, message = pcall(d3m.sim.linear_field, case[1])
      assert.is_false(ok)
      assert.matches(case[2], message, 1, true)
    end
  end)

  it("makes unit-variance white noise", function()
    local noise = d3m.sim.white_noise{n = 16, seed = 3}
    local real = d3m.fft.c2r(noise, 16)
    local variance = real:dot(real) / 16 ^ 3
    -- 4096 Gaussian cells: standard error of the variance 0.022, bound 5 sigma.
    assert.is_true(math.abs(variance - 1) < 0.11)
  end)
end)

describe("d3m.sim.lpt", function()
  local n, box = 8, 64

  -- Float FFTs on 8^3: errors ~1e-6 of the amplitude; tolerance 1e-5.
  it("gives the analytic ZA of a plane wave and no 2LPT term", function()
    local wave = {A = 0.5, m = {1, -2, 1}}
    local k = {}
    local k2 = 0
    for d = 1, 3 do
      k[d] = 2 * math.pi * wave.m[d] / box
      k2 = k2 + k[d] ^ 2
    end
    local _, _, info = d3m.sim.lpt{delta_k = plane_waves(n, {wave}), box = box, psi = true}
    local error1 = max_abs_difference(info.psi1, function(i)
      local q, d = particle(i, n, box)
      return -wave.A * k[d] / k2 * math.sin(k[1] * q[1] + k[2] * q[2] + k[3] * q[3])
    end)
    local error2 = max_abs_difference(info.psi2, function() return 0 end)
    local scale = wave.A / math.sqrt(k2)
    assert.is_true(error1 < 1e-5 * scale, "ZA error " .. error1)
    assert.is_true(error2 < 1e-5 * scale * wave.A, "2LPT of one wave " .. error2)
  end)

  -- Two orthogonal waves: S = A B cos(k1.q) cos(k2.q), so psi2 =
  -- A B / (2 K^2) [(k1 + k2) sin((k1 + k2).q) + (k1 - k2) sin((k1 - k2).q)],
  -- K^2 = k1^2 + k2^2.
  it("gives the analytic 2LPT of two orthogonal waves", function()
    local w1, w2 = {A = 0.3, m = {1, 1, 0}}, {A = 0.4, m = {1, -1, 2}}
    local k1, k2, kk = {}, {}, 0
    for d = 1, 3 do
      k1[d] = 2 * math.pi * w1.m[d] / box
      k2[d] = 2 * math.pi * w2.m[d] / box
      kk = kk + k1[d] ^ 2 + k2[d] ^ 2
    end
    local _, _, info = d3m.sim.lpt{delta_k = plane_waves(n, {w1, w2}), box = box, psi = true}
    local error2 = max_abs_difference(info.psi2, function(i)
      local q, d = particle(i, n, box)
      local plus, minus = 0, 0
      for e = 1, 3 do
        plus = plus + (k1[e] + k2[e]) * q[e]
        minus = minus + (k1[e] - k2[e]) * q[e]
      end
      return w1.A * w2.A / (2 * kk) *
        ((k1[d] + k2[d]) * math.sin(plus) + (k1[d] - k2[d]) * math.sin(minus))
    end)
    local scale = w1.A * w2.A / math.sqrt(2 * math.pi ^ 2 * 2 / box ^ 2)
    assert.is_true(error2 < 1e-5 * scale, "2LPT error " .. error2)
  end)

  it("applies D1, D2 and their rates at a", function()
    local field = d3m.sim.linear_field{n = n, box = box, seed = 9}
    local a = 0.5
    local displacement, velocity, info = d3m.sim.lpt(field, {a = a, order = 2, psi = true})
    local D1, f1, D2, f2 = field.cosmology:growth(a)
    assert.are.equal(D1, info.D1)
    assert.are.equal(D2, info.D2)
    assert.are.equal(f1, info.f1)
    assert.are.equal(f2, info.f2)
    assert.is_true(D2 < 0)
    local p1, p2 = info.psi1:to_table(), info.psi2:to_table()
    local scale = info.psi1:max_abs()
    -- Float arithmetic: 1e-6 of the largest displacement.
    local error_x = max_abs_difference(displacement, function(i) return D1 * p1[i] + D2 * p2[i] end)
    local error_v = max_abs_difference(velocity, function(i)
      return (f1 * D1 * p1[i] + f2 * D2 * p2[i]) / a
    end)
    assert.is_true(error_x < 1e-6 * scale)
    assert.is_true(error_v < 1e-6 * scale)

    -- velocity = dx/da: central difference of the displacement in a
    -- (step 1e-3, truncation ~1e-7 relative; float rounding of x ~1e-7 of
    -- x over 2e-3 gives ~1e-4 of the velocity).
    local h = 1e-3
    local forward = d3m.sim.lpt(field, {a = a + h}):to_table()
    local backward = d3m.sim.lpt(field, {a = a - h}):to_table()
    local error_fd = max_abs_difference(velocity, function(i)
      return (forward[i] - backward[i]) / (2 * h)
    end)
    assert.is_true(error_fd < 1e-3 * velocity:max_abs(), "dx/da error " .. error_fd)
    assert.is_true(math.abs(info.momentum_factor - a ^ 3 * field.cosmology:E(a)) < 1e-12)
  end)

  it("runs the ZA alone and the 4-point gradient", function()
    local field = d3m.sim.linear_field{n = n, box = box, seed = 4}
    local x1, _, info1 = d3m.sim.lpt(field, {order = 1, psi = true})
    assert.is_nil(info1.psi2)
    assert.are.equal(0, info1.D2)
    assert.are.equal(1, info1.order)
    -- At a = 1, D1 = 1: the ZA displacement is psi1.
    assert.are.equal(info1.psi1:to_string(), x1:to_string())
    local exact = d3m.sim.lpt(field, {order = 1})
    local fd4, _, info4 = d3m.sim.lpt(field, {order = 1, gradient = "fd4"})
    assert.are.equal("fd4", info4.gradient)
    -- The 4-point kernel differs from i k by O((kH)^4): different, but close
    -- for a field dominated by large scales.
    local difference = (fd4 - exact):max_abs()
    assert.is_true(difference > 0)
    assert.is_true(difference < 0.5 * exact:max_abs())
  end)

  it("rejects invalid options", function()
    local field = d3m.sim.linear_field{n = n, box = box, seed = 4}
    local cases = {
      {{order = 3}, "'order'"},
      {{gradient = "sobel"}, "'gradient'"},
      {{a = 0}, "a = 0"},
    }
    for _, case in ipairs(cases) do
      local ok, message = pcall(d3m.sim.lpt, field, case[1])
      assert.is_false(ok)
      assert.matches(case[2], message, 1, true)
    end
    local ok, message = pcall(d3m.sim.lpt, {box = box})
    assert.is_false(ok)
    assert.matches("delta_k", message, 1, true)
    ok, message = pcall(d3m.sim.lpt, {delta_k = field.delta_k})
    assert.is_false(ok)
    assert.matches("'box'", message, 1, true)
  end)
end)
