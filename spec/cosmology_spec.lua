-- d3m.cosmology: parameters, defaults, growth, power and errors from Lua.
local d3m = require "d3m"
local power_table = require "support.power_table"

-- Heath integral for the growth of a flat model, computed here
-- independently: D1 is proportional to E(a) * int_0^a ds / (s E(s))^3,
-- integrated with s = t^2 by Simpson's rule (error ~1e-12 with 2000 steps).
local function heath_growth(omega_m, a)
  local function E(s) return math.sqrt(omega_m / s ^ 3 + 1 - omega_m) end
  local function integral(top)
    local n, sum = 2000, 0
    local h = math.sqrt(top) / n
    for i = 1, n do
      local t = i * h
      local s = t * t
      local f = 2 * t / (s * E(s)) ^ 3
      sum = sum + (i == n and 1 or (i % 2 == 1 and 4 or 2)) * f
    end
    return sum * h / 3
  end
  return E(a) * integral(a) / (E(1) * integral(1))
end

describe("d3m.cosmology", function()
  it("defaults to Planck 2015", function()
    local c = d3m.cosmology{}
    assert.are.equal(0.3089, c.Omega_m)
    assert.are.equal(0.0486, c.Omega_b)
    assert.are.equal(0.6774, c.h)
    assert.are.equal(0.9667, c.n_s)
    assert.are.equal(2.142e-9, c.A_s)
    assert.are.equal(0, c.Omega_k)
    assert.are.equal(0.06, c.m_nu)
    assert.are.equal(1, c.N_nu)
    assert.is_true(math.abs(c.Omega_nu - 0.06 / (93.14 * 0.6774 ^ 2)) < 1e-15)
    assert.is_true(math.abs(c.Omega_Lambda - (1 - 0.3089)) < 1e-15)
    assert.are.equal("eh98", c.power)
    assert.matches("Omega_m=0.3089", tostring(c), 1, true)
  end)

  it("reports sigma8 of the Planck 2015 A_s", function()
    local s8 = d3m.cosmology{}:sigma8()
    local massless = d3m.cosmology{m_nu = 0}:sigma8()
    print(string.format("sigma8 (EH98, A_s = 2.142e-9) = %.5f with 0.06 eV of neutrino mass, "
      .. "%.5f without", s8, massless))
    -- Planck 2015 quotes 0.816 (with 0.06 eV); CAMB gives 0.816 and 0.831
    -- for these parameters, and EH98 sits about 1 % above both.
    assert.is_true(s8 > 0.80 and s8 < 0.83)
    assert.is_true(massless > 0.82 and massless < 0.845)
    -- The neutrinos lower P(k) below their free-streaming scale only.
    local c, c0 = d3m.cosmology{}, d3m.cosmology{m_nu = 0}
    assert.is_true(math.abs(c:linear_power(1e-4) / c0:linear_power(1e-4) - 1) < 3e-3)
    local ratio = c:linear_power(1.0) / c0:linear_power(1.0)
    assert.is_true(ratio > 0.95 and ratio < 0.98)
  end)

  -- Tolerance 1e-5: the library's table is good to ~1e-9, the Lua Simpson
  -- integral to ~1e-12.
  it("matches the Heath integral for D1 and f1 ~ Omega_m(a)^0.55", function()
    for _, omega_m in ipairs{0.3, 0.3089} do
      local c = d3m.cosmology{Omega_m = omega_m}
      local d1, f1, d2, f2 = c:growth(0.5)
      local expected = heath_growth(omega_m, 0.5)
      assert.is_true(math.abs(d1 - expected) < 1e-5 * expected,
                     string.format("D1(0.5) = %.9f, Heath %.9f", d1, expected))
      local fit = c:omega_m(0.5) ^ 0.55
      assert.is_true(math.abs(f1 - fit) < 0.01 * fit)
      -- D2 ~ -3/7 D1^2 Omega_m(a)^(-1/143) within 1 %.
      local d2_fit = -3 / 7 * d1 * d1 * c:omega_m(0.5) ^ (-1 / 143)
      assert.is_true(math.abs(d2 - d2_fit) < 0.01 * math.abs(d2_fit))
      assert.is_true(f2 > 1.5 and f2 < 2.0)
    end
  end)

  it("has D1(1) = 1 and dD1/da equal to the slope of D1", function()
    local c = d3m.cosmology{}
    assert.is_true(math.abs(c:growth(1) - 1) < 1e-12)
    local h = 1e-3
    local slope = (c:growth(0.7 + h) - c:growth(0.7 - h)) / (2 * h)
    -- Central difference with h = 1e-3: truncation ~1e-7.
    assert.is_true(math.abs(c:dD1da(0.7) - slope) < 1e-5 * slope)
    assert.is_true(math.abs(c:E(1) - 1) < 1e-14)
  end)

  it("normalises by sigma8 and derives A_s", function()
    local c = d3m.cosmology{sigma8 = 0.8}
    assert.is_true(math.abs(c:sigma8() - 0.8) < 1e-12)
    assert.is_true(math.abs(c:sigma_r(8) - 0.8) < 1e-8)
    -- A_s scales as sigma8^2 at fixed shape.
    local reference = d3m.cosmology{}
    local expected = 2.142e-9 * (0.8 / reference:sigma8()) ^ 2
    assert.is_true(math.abs(c.A_s - expected) < 1e-8 * expected)
  end)

  it("evaluates P(k) for a number or a table of k", function()
    local c = d3m.cosmology{}
    local values = c:linear_power{0.01, 0.1}
    assert.are.equal(c:linear_power(0.01), values[1])
    assert.are.equal(c:linear_power(0.1), values[2])
    assert.are.equal(0, c:linear_power(0))
    assert.is_true(c:transfer(1e-5) > 0.999)
  end)

  it("has a no-wiggle transfer with the same large-scale power", function()
    local wiggle = d3m.cosmology{}
    local smooth = d3m.cosmology{transfer = "eh98_nowiggle"}
    assert.are.equal("eh98_nowiggle", smooth.power)
    local ratio = smooth:linear_power(1e-3) / wiggle:linear_power(1e-3)
    assert.is_true(math.abs(ratio - 1) < 1e-3)
  end)

  it("reads a power table with comments and rejects k outside it", function()
    local reference = d3m.cosmology{transfer = "eh98_nowiggle"}
    local path = os.tmpname()
    power_table.write(path, reference, 200)
    local c = d3m.cosmology{power_table = path}
    -- A table is used as given, so a mass beyond the range of the
    -- neutrino fit is accepted with it and leaves P(k) unchanged.
    local heavy = d3m.cosmology{power_table = path, m_nu = 5}
    os.remove(path)
    assert.are.equal("table", c.power)
    assert.are.equal(5, heavy.m_nu)
    assert.are.equal(c:linear_power(0.2), heavy:linear_power(0.2))
    -- 40 points per decade of a smooth spectrum: log-log error < 1e-3.
    local p, expected = c:linear_power(0.123), reference:linear_power(0.123)
    assert.is_true(math.abs(p - expected) < 1e-3 * expected)
    assert.has_error(function() c:linear_power(50) end)
    local ok, message = pcall(c.linear_power, c, 50)
    assert.is_false(ok)
    assert.matches("power table", message, 1, true)
  end)

  it("rejects invalid parameters and names them", function()
    local cases = {
      {{Omega_m = 0}, "Omega_m"},
      {{Omega_m = 1.5}, "Omega_m"},
      {{h = -0.7}, "h = -0.7"},
      {{Omega_b = 0.5}, "Omega_b"},
      {{A_s = -1}, "A_s"},
      {{A_s = 2e-9, sigma8 = 0.8}, "both A_s"},
      {{omega_m = 0.3}, "unknown parameter 'omega_m'"},
      {{transfer = "bbks"}, "invalid transfer"},
      {{Omega_k = 0.95}, "Omega_k"},
      {{m_nu = -0.06}, "m_nu = -0.06"},
      {{m_nu = 0.1, N_nu = 5}, "N_nu = 5"},
      {{m_nu = 8}, "m_nu = 8 eV makes Omega_nu 0.606 of Omega_m"},
      {{m_nu = 50}, "raise Omega_m, lower Omega_b or use a smaller m_nu"},
      {{power_table = "/nonexistent/pk.txt"}, "cannot open power table"},
    }
    for _, case in ipairs(cases) do
      local ok, message = pcall(d3m.cosmology, case[1])
      assert.is_false(ok)
      assert.matches(case[2], message, 1, true)
    end
  end)

  it("raises for a scale factor outside the growth table", function()
    local c = d3m.cosmology{}
    local ok, message = pcall(c.growth, c, -1)
    assert.is_false(ok)
    assert.matches("a = -1", message, 1, true)
  end)
end)
