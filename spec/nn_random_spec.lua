-- d3m.random: xoshiro256** seeded by splitmix64, checked against the
-- authors' reference outputs and for the distribution of its draws.
local random = require "d3m.random"

describe("d3m.random", function()
  it("seeds with splitmix64", function()
    -- splitmix64 from state 0 produces 0xe220a8397b1dcdaf,
    -- 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec.
    local state = random.new(0):state()
    assert.are.equal(0xe220a8397b1dcdaf, state[1])
    assert.are.equal(0x6e789e6aa1b965f4, state[2])
    assert.are.equal(0x06c45d188009454f, state[3])
    assert.are.equal(0xf88bb8a8724c81ec, state[4])
  end)

  it("matches xoshiro256** from state 1, 2, 3, 4", function()
    local g = random.new(0):set_state({1, 2, 3, 4})
    assert.are.equal(11520, g:next_integer())
    assert.are.equal(0, g:next_integer())
    assert.are.equal(1509978240, g:next_integer())
    assert.are.equal(1215971899390074240, g:next_integer())
  end)

  it("repeats a sequence from a saved state", function()
    local g = random.new(42)
    g:uniform()
    local saved = g:state()
    local first = {g:uniform(), g:normal(), g:integer(10)}
    g:set_state(saved)
    assert.are.same(first, {g:uniform(), g:normal(), g:integer(10)})
  end)

  it("gives different streams for different seeds", function()
    assert.are_not.equal(random.new(1):next_integer(), random.new(2):next_integer())
    assert.are.equal(random.new(7):next_integer(), random.new(7):next_integer())
  end)

  it("draws uniform values with the right moments", function()
    -- 1e5 draws: the standard error of the mean is 0.29/316 = 9e-4, so
    -- 5e-3 is more than 5 sigma; likewise for the variance 1/12.
    local g = random.new(3)
    local n, sum, sum_sq, low, high = 100000, 0, 0, 1, 0
    for _ = 1, n do
      local u = g:uniform()
      sum, sum_sq = sum + u, sum_sq + u * u
      low, high = math.min(low, u), math.max(high, u)
    end
    local mean = sum / n
    assert.is_true(math.abs(mean - 0.5) < 5e-3)
    assert.is_true(math.abs(sum_sq / n - mean * mean - 1 / 12) < 2e-3)
    assert.is_true(low >= 0)
    assert.is_true(high < 1)
  end)

  it("draws uniform integers in 1..n", function()
    -- 6e4 rolls of a die: each face 1e4 +- 100 (1 sigma); allow 5 sigma.
    local g = random.new(5)
    local counts = {0, 0, 0, 0, 0, 0}
    for _ = 1, 60000 do
      local k = g:integer(6)
      counts[k] = counts[k] + 1
    end
    for face = 1, 6 do
      assert.is_true(math.abs(counts[face] - 10000) < 500, "face " .. face .. ": " .. counts[face])
    end
  end)

  it("draws standard normal values", function()
    -- 1e5 draws: mean within 5 standard errors (0.016), variance within 0.02.
    local g = random.new(11)
    local n, sum, sum_sq = 100000, 0, 0
    for _ = 1, n do
      local z = g:normal()
      sum, sum_sq = sum + z, sum_sq + z * z
    end
    assert.is_true(math.abs(sum / n) < 0.016)
    assert.is_true(math.abs(sum_sq / n - 1) < 0.02)
  end)

  it("rejects a non-integer seed", function()
    assert.has_error(function() random.new(1.5) end,
                     "d3m.random.new: seed must be an integer, got 1.5")
  end)
end)
