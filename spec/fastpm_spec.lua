-- d3m.sim.fastpm: a 32^3 run in a 128 Mpc/h box of the Planck 2015
-- cosmology. Large scales must follow linear theory, small scales must
-- depart from 2LPT the way an N-body run does, repeated runs must agree,
-- and the options must be checked.
local d3m = require "d3m"

local box, n = 128, 32
local kf = 2 * math.pi / box

-- The r2c transform of a real mesh [n, n, n] or of stacked meshes, as a
-- flat table (real and imaginary parts interleaved).
local function transform(real)
  return d3m.fft.r2c(real):to_table()
end

-- Mode (i0, i1, i2) of the r2c layout [n, n, n/2+1, 2], component c
-- (0-based) of a stacked transform: its real and imaginary parts.
local function mode(values, c, i0, i1, i2)
  local nh = n // 2 + 1
  local index = (((c * n + i0) * n + i1) * nh + i2) * 2
  return values[index + 1], values[index + 2]
end

-- Integer wavenumber of index i on a full axis.
local function wavenumber(i)
  return i <= n // 2 and i or i - n
end

-- Power P(k) = V |delta_k / n^3|^2 summed over `components` stacked fields,
-- averaged over the modes with kmin <= |k| < kmax (the full grid: the
-- r2c half space counts twice off the i2 = 0 and Nyquist planes), divided
-- by window(k) when given.
local function binned_power(values, components, kmin, kmax, window)
  local nh = n // 2 + 1
  local total, count = 0, 0
  local norm = box ^ 3 / n ^ 6
  for i0 = 0, n - 1 do
    for i1 = 0, n - 1 do
      for i2 = 0, nh - 1 do
        local m0, m1 = wavenumber(i0), wavenumber(i1)
        local k = kf * math.sqrt(m0 * m0 + m1 * m1 + i2 * i2)
        if k >= kmin and k < kmax then
          local weight = (i2 == 0 or i2 == n // 2) and 1 or 2
          local power = 0
          for c = 0, components - 1 do
            local re, im = mode(values, c, i0, i1, i2)
            power = power + re * re + im * im
          end
          if window then power = power / window(m0, m1, i2) end
          total = total + weight * power * norm
          count = count + weight
        end
      end
    end
  end
  return total / count, count
end

-- CIC window of painting on the n^3 mesh, squared for a power spectrum.
local function cic_window2(m0, m1, m2)
  local w = 1
  for _, m in ipairs{m0, m1, m2} do
    local x = math.pi * m / n
    local s = x == 0 and 1 or math.sin(x) / x
    w = w * s ^ 4
  end
  return w
end

-- The density contrast mesh of the lattice particles at q + psi.
local function density(psi)
  local rho = d3m.pm.paint_displacement(psi, n, box)
  return rho:add(d3m.full({n, n, n}, -1))
end

describe("d3m.sim.fastpm", function()
  local cosmology = d3m.cosmology{}
  local field = d3m.sim.linear_field{cosmology = cosmology, box = box, n = n, seed = 2019}
  local psi, velocity, info = d3m.sim.fastpm(field)
  local lpt = d3m.sim.lpt(field, {a = 1, order = 2})

  it("returns the displacement, velocity and run description", function()
    assert.are.same({3, n, n, n}, psi:shape())
    assert.are.same({3, n, n, n}, velocity:shape())
    assert.are.equal(1, info.a)
    assert.are.equal(10, #info.steps)
    assert.is_true(math.abs(info.steps[1] - 0.1) < 1e-12)
    assert.are.equal(2, info.boost)
    assert.are.equal("fd4", info.gradient)
    assert.is_true(math.abs(info.D1 - 1) < 1e-9)
    -- a^3 E(a) at a = 1 is 1
    assert.is_true(math.abs(info.momentum_factor - 1) < 1e-9)
    for _, v in ipairs(psi:to_table()) do
      assert.is_true(v >= -box / 2 and v < box / 2)
    end
  end)

  it("grows the largest modes as linear theory", function()
    local delta = transform(density(psi))
    local linear = field.delta_k:to_table()
    -- The three independent modes with |k| = k_f (< 0.05 h/Mpc): each must
    -- equal D1(1) = 1 times the same mode of the linear field, once the CIC
    -- window (0.987 at k_f) is divided out. Mode coupling moves a mode by
    -- about 3 percent of the rms amplitude n^3 sqrt(P_lin / V) at z = 0.
    local expected = cosmology:linear_power(kf)
    local rms = n ^ 3 * math.sqrt(expected / box ^ 3)
    local power, linear_power = 0, 0
    for _, index in ipairs{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}} do
      local re, im = mode(delta, 0, index[1], index[2], index[3])
      local window = math.sqrt(cic_window2(index[1], index[2], index[3]))
      re, im = re / window, im / window
      local lre, lim = mode(linear, 0, index[1], index[2], index[3])
      local error = math.sqrt((re - lre) ^ 2 + (im - lim) ^ 2) / rms
      assert.is_true(error < 0.1, string.format("mode (%d %d %d): |delta - delta_lin| = %.3f "
                     .. "of the rms amplitude", index[1], index[2], index[3], error))
      power = power + (re * re + im * im) * box ^ 3 / n ^ 6 / 3
      linear_power = linear_power + (lre * lre + lim * lim) * box ^ 3 / n ^ 6 / 3
    end
    -- Against the theory: three complex Gaussian modes give a power whose
    -- ratio to P_lin(k_f) is Gamma(3, 1/3) distributed, inside [0.05, 4]
    -- with probability 0.999.
    assert.is_true(power / expected > 0.05 and power / expected < 4,
                   string.format("P(k_f) = %g, linear theory %g", power, expected))
    assert.is_true(math.abs(power / linear_power - 1) < 0.1)
  end)

  it("departs from 2LPT at small scales like an N-body run", function()
    -- Density: FastPM forms halos that 2LPT smears out, so it has more
    -- small-scale power (measured 3.4 times that of 2LPT here).
    local fast = transform(density(psi))
    local slow = transform(density(lpt))
    local p_fast = binned_power(fast, 1, 0.4, 0.75, cic_window2)
    local p_lpt = binned_power(slow, 1, 0.4, 0.75, cic_window2)
    assert.is_true(p_fast / p_lpt > 1.2,
                   string.format("density power at k = 0.4-0.75: FastPM / 2LPT = %.3f",
                                 p_fast / p_lpt))
    -- Displacement: 2LPT keeps streaming where shells have crossed and
    -- collapsed, so its displacement has more small-scale power (measured
    -- 1.45 times that of FastPM here).
    local d_fast = binned_power(d3m.fft.r2c(psi):to_table(), 3, 0.4, 0.75)
    local d_lpt = binned_power(d3m.fft.r2c(lpt):to_table(), 3, 0.4, 0.75)
    assert.is_true(d_lpt / d_fast > 1.0,
                   string.format("displacement power at k = 0.4-0.75: 2LPT / FastPM = %.3f",
                                 d_lpt / d_fast))
    -- On large scales the two agree within 5 percent (measured: 2LPT 2.5
    -- percent lower).
    local l_fast = binned_power(d3m.fft.r2c(psi):to_table(), 3, 0.04, 0.1)
    local l_lpt = binned_power(d3m.fft.r2c(lpt):to_table(), 3, 0.04, 0.1)
    assert.is_true(math.abs(l_lpt / l_fast - 1) < 0.05,
                   string.format("displacement power at k < 0.1: 2LPT / FastPM = %.3f",
                                 l_lpt / l_fast))
  end)

  it("gives the same result for the same seed", function()
    local again = d3m.sim.fastpm(field)
    local a, b = psi:to_table(), again:to_table()
    local worst = 0
    for i = 1, #a do worst = math.max(worst, math.abs(a[i] - b[i])) end
    -- float atomics may add in another order: ~1e-7 per cell, amplified
    -- by the nonlinear evolution to ~1e-5 Mpc/h.
    assert.is_true(worst < 1e-3, "repeated runs differ by " .. worst .. " Mpc/h")
  end)

  it("reports each step to a verbose function", function()
    local calls = {}
    d3m.sim.fastpm(field, {steps = {0.2, 0.5, 1}, verbose = function(step, nsteps, a0, a1)
      calls[#calls + 1] = {step, nsteps, a0, a1}
    end})
    assert.are.same({{1, 2, 0.2, 0.5}, {2, 2, 0.5, 1}}, calls)
    assert.has_error(function()
      d3m.sim.fastpm(field, {steps = 2, verbose = function() error("stop here") end})
    end)
  end)

  it("rejects bad options with a message", function()
    local ok, message = pcall(d3m.sim.fastpm, field, {steps = {0.5, 0.3}})
    assert.is_false(ok)
    assert.matches("increase", message)
    ok, message = pcall(d3m.sim.fastpm, field, {boost = 0})
    assert.is_false(ok)
    assert.matches("boost", message)
    ok, message = pcall(d3m.sim.fastpm, field, {gradient = "spectral"})
    assert.is_false(ok)
    assert.matches("gradient", message)
    ok, message = pcall(d3m.sim.fastpm, {box = box})
    assert.is_false(ok)
    assert.matches("delta_k", message)
  end)
end)
