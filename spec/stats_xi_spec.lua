-- d3m.stats.xi and xi_from_power through the Lua API.
local d3m = require "d3m"


describe("stats.xi", function()
  it("is zero within errors for a Poisson set", function()
    local n, box = 3000, 100
    math.randomseed(99)
    local xyz = {}
    for i = 1, 3 * n do
      xyz[i] = box * math.random()
    end
    local edges = {5, 10, 15, 20, 25}
    local result = d3m.stats.xi(d3m.from_table(xyz, {n, 3}), {box = box, edges = edges})
    assert.are.same(edges, result.edges)
    for b = 1, #result.xi do
      -- sigma of the natural estimator for Poisson pairs: sqrt(2 / DD).
      local sigma = math.sqrt(2 / result.DD[b])
      assert.is_true(math.abs(result.xi[b]) < 5 * sigma,
                     string.format("bin %d: xi = %g +- %g", b, result.xi[b], sigma))
    end
  end)

  it("rejects r_max above box / 2", function()
    local positions = d3m.from_table({1, 2, 3, 4, 5, 6}, {2, 3})
    assert.has_error(function() d3m.stats.xi(positions, {box = 20, edges = {1, 11}}) end)
  end)
end)


describe("stats.xi_from_power", function()
  it("averages A^2 / 2 cos(k.r) over the mesh separations in each bin", function()
    local n, box, amplitude = 16, 32, 0.8
    local values = {}
    for i = 0, n - 1 do
      for j = 0, n - 1 do
        for l = 0, n - 1 do
          values[#values + 1] = amplitude * math.cos(2 * math.pi * (i + 2 * l) / n)
        end
      end
    end
    local mesh = d3m.from_table(values, {n, n, n})
    local edges = {2, 4, 6, 8, 10}
    local result = d3m.stats.xi_from_power(mesh, {box = box, edges = edges})

    -- Host average over separation vectors, minimum image, h = 2.
    local h = box / n
    local sum, count = {}, {}
    for b = 1, #edges - 1 do
      sum[b], count[b] = 0, 0
    end
    local function signed(i)
      return i <= n // 2 and i or i - n
    end
    for i = 0, n - 1 do
      for j = 0, n - 1 do
        for l = 0, n - 1 do
          local r = h * math.sqrt(signed(i) ^ 2 + signed(j) ^ 2 + signed(l) ^ 2)
          for b = 1, #edges - 1 do
            if r >= edges[b] and r < edges[b + 1] then
              sum[b] = sum[b] + amplitude ^ 2 / 2 * math.cos(2 * math.pi * (i + 2 * l) / n)
              count[b] = count[b] + 1
            end
          end
        end
      end
    end
    for b = 1, #edges - 1 do
      assert.are.equal(count[b], result.count[b])
      -- float FFT round trip of an O(1) field: 1e-5 absolute.
      assert.is_true(math.abs(result.xi[b] - sum[b] / count[b]) < 1e-5,
                     string.format("bin %d: %g, expected %g", b, result.xi[b], sum[b] / count[b]))
    end
  end)
end)
