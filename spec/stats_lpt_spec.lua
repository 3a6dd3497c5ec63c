-- d3m.stats on linear fields and Zel'dovich displacements from d3m.sim:
-- the power conventions of the two parts must agree mode by mode.
local d3m = require "d3m"

local N, BOX = 32, 128.0
local K_F = 2 * math.pi / BOX


local function signed(i)
  return i <= N // 2 and i or i - N
end


-- Bin averages over full-grid modes of f(|k|, |delta_hat|^2) from the
-- half-space spectrum delta_k [N, N, N/2+1, 2] (delta_hat = delta_k / N^3).
local function mode_average(delta_k, edges, f)
  local values = delta_k:to_table()
  local half = N // 2 + 1
  local sum, count = {}, {}
  for b = 1, #edges - 1 do
    sum[b], count[b] = 0, 0
  end
  for i = 0, N - 1 do
    for j = 0, N - 1 do
      for l = 0, half - 1 do
        local k = K_F * math.sqrt(signed(i) ^ 2 + signed(j) ^ 2 + l ^ 2)
        local index = 2 * ((i * N + j) * half + l)
        local re, im = values[index + 1] / N ^ 3, values[index + 2] / N ^ 3
        local weight = (l == 0 or l == N // 2) and 1 or 2
        for b = 1, #edges - 1 do
          if k > 0 and k >= edges[b] and k < edges[b + 1] then
            sum[b] = sum[b] + weight * f(k, re * re + im * im)
            count[b] = count[b] + weight
          end
        end
      end
    end
  end
  for b = 1, #sum do
    sum[b] = sum[b] / count[b]
  end
  return sum, count
end


describe("stats with d3m.sim", function()
  local cosmology = d3m.cosmology{}
  local field = d3m.sim.linear_field{cosmology = cosmology, box = BOX, n = N, seed = 42}
  -- Bins below half the Nyquist frequency hold no Nyquist-plane modes.
  local edges = {}
  for i = 1, N // 4 do
    edges[i] = i * K_F
  end

  it("measures V |delta_hat|^2 of the linear field", function()
    local delta = d3m.fft.c2r(field.delta_k, N)
    local p = d3m.stats.power(delta, {box = BOX, edges = edges})
    local expected, modes = mode_average(field.delta_k, edges, function(_, d2) return BOX ^ 3 * d2 end)
    for b = 1, #expected do
      assert.are.equal(modes[b], p.modes[b])
      -- A float c2r and r2c round trip: 1e-4 relative.
      assert.is_true(math.abs(p.P[b] / expected[b] - 1) < 1e-4,
                     string.format("bin %d: %g, expected %g", b, p.P[b], expected[b]))
    end
  end)

  it("matches the linear power within cosmic variance", function()
    local delta = d3m.fft.c2r(field.delta_k, N)
    local p = d3m.stats.power(delta, {box = BOX, edges = edges})
    local expected = mode_average(field.delta_k, edges, function(k) return cosmology:linear_power(k) end)
    for b = 1, #expected do
      -- modes / 2 independent Gaussian modes: 5 sigma of sqrt(2 / modes).
      local sigma = math.sqrt(2 / p.modes[b])
      assert.is_true(math.abs(p.P[b] / expected[b] - 1) < 5 * sigma,
                     string.format("bin %d: P / P_lin = %g", b, p.P[b] / expected[b]))
    end
  end)

  it("gives the Zel'dovich displacement power V |delta_hat|^2 / k^2", function()
    local displacement = d3m.sim.lpt(field, {order = 1})
    local p = d3m.stats.power(displacement, {box = BOX, edges = edges})
    assert.are.equal("displacement", p.kind)
    local expected = mode_average(field.delta_k, edges, function(k, d2) return BOX ^ 3 * d2 / (k * k) end)
    for b = 1, #expected do
      -- D1(a = 1) = 1; float FFTs: 1e-4 relative.
      assert.is_true(math.abs(p.P[b] / expected[b] - 1) < 1e-4,
                     string.format("bin %d: %g, expected %g", b, p.P[b], expected[b]))
    end
  end)

  it("gives r near 1 on large scales for 2LPT against ZA", function()
    local za = d3m.sim.lpt(field, {order = 1})
    local lpt2 = d3m.sim.lpt(field, {order = 2})
    local c = d3m.stats.compare(lpt2, za, {box = BOX})
    for b = 1, #c.r do
      -- Cauchy-Schwarz bounds r by 1 up to round-off.
      assert.is_true(c.r[b] <= 1 + 1e-9, string.format("bin %d: r = %g", b, c.r[b]))
    end
    -- The second-order term grows with k (measured r = 0.998 in the first
    -- bin and 0.88 near Nyquist for this seed).
    assert.is_true(c.r[1] > 0.99, string.format("r = %g in the first bin", c.r[1]))
    assert.is_true(c.r[#c.r] < c.r[1], "r does not fall with k")
    assert.is_true(math.abs(c.T[1] - 1) < 0.05, string.format("T = %g in the first bin", c.T[1]))
  end)
end)
