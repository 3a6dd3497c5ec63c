-- Tensors from Lua: creation, transfers, views, arithmetic, reductions,
-- release by the garbage collector, and the error messages of bad calls.
local d3m = require "d3m"

describe("d3m tensor", function()
  it("round-trips nested and flat tables", function()
    local t = d3m.from_table{{1, 2, 3}, {4, 5, 6}}
    assert.are.same({2, 3}, t:shape())
    assert.are.same({1, 2, 3, 4, 5, 6}, t:to_table())
    local f = d3m.from_table({1, 2, 3, 4}, {2, 2})
    assert.are.same({2, 2}, f:shape())
    assert.are.equal(4, f:get(2, 2))
    assert.are.equal(3, f:get(3))
  end)

  it("round-trips binary float32 strings", function()
    local s = string.pack("<ffff", 1.5, -2, 0.25, 8)
    local t = d3m.from_string(s, {4})
    assert.are.equal(s, t:to_string())
  end)

  it("sets and gets single elements", function()
    local t = d3m.zeros{2, 3, 4}
    t:set(7, 2, 3, 4)
    assert.are.equal(7, t:get(2, 3, 4))
    assert.are.equal(7, t:sum())
  end)

  it("does elementwise arithmetic like a host loop", function()
    local a = d3m.from_table{1, 2, 3}
    local b = d3m.from_table{4, 5, 6}
    assert.are.same({5, 7, 9}, (a + b):to_table())
    assert.are.same({-3, -3, -3}, (a - b):to_table())
    assert.are.same({4, 10, 18}, (a * b):to_table())
    assert.are.same({2, 4, 6}, (a * 2):to_table())
    assert.are.same({-1, -2, -3}, (-a):to_table())
    assert.are.same({9, 12, 15}, d3m.add(a, b):axpy(1, b):to_table())
    local out = d3m.zeros{3}
    d3m.mul(a, b, out)
    assert.are.same({4, 10, 18}, out:to_table())
    a:add(b):scale(0.5)
    assert.are.same({2.5, 3.5, 4.5}, a:to_table())
  end)

  it("reduces like double-precision host sums", function()
    local values, sum, dot, max_abs = {}, 0, 0, 0
    for i = 1, 10000 do
      values[i] = math.sin(i) + 0.25
      sum = sum + values[i]
      dot = dot + values[i] * values[i]
      max_abs = math.max(max_abs, math.abs(values[i]))
    end
    local t = d3m.from_table(values)
    -- Inputs are rounded to float32 (relative 6e-8); 1e-6 relative covers
    -- that and the compensated device sum.
    assert.is_true(math.abs(t:sum() - sum) < 1e-6 * 10000)
    assert.is_true(math.abs(t:mean() - sum / 10000) < 1e-6)
    assert.is_true(math.abs(t:dot(t) - dot) < 1e-6 * dot)
    assert.is_true(math.abs(t:max_abs() - max_abs) < 1e-6)
    assert.is_false(t:has_nonfinite())
    t:set(0 / 0, 5)
    assert.is_true(t:has_nonfinite())
  end)

  it("makes views that share the buffer", function()
    local t = d3m.zeros{2, 6}
    local v = t:reshape{3, 4}
    v:fill(2)
    assert.are.equal(24, t:sum())
    assert.are.same({12}, t:reshape(12):shape())
    local c = t:copy()
    c:fill(0)
    assert.are.equal(24, t:sum())
  end)

  it("is released by the garbage collector", function()
    collectgarbage()
    local before = d3m.memory()
    do
      for _ = 1, 50 do
        local _ = d3m.zeros{1000}
      end
    end
    assert.is_true(d3m.memory().tensors >= before.tensors)
    collectgarbage()
    collectgarbage()
    local after = d3m.memory()
    assert.are.equal(before.tensors, after.tensors)
    assert.are.equal(before.bytes, after.bytes)
  end)

  it("frees explicitly, once, and rejects use after free", function()
    local t = d3m.zeros{10}
    t:free()
    t:free()
    assert.is_true(t:is_freed())
    local ok, err = pcall(t.sum, t)
    assert.is_false(ok)
    assert.matches("the tensor was freed", err, 1, true)
    do
      local c <close> = d3m.zeros{10}
      c:fill(1)
    end
  end)

  it("names both shapes in a size mismatch", function()
    local a, b = d3m.zeros{3, 4}, d3m.zeros{13}
    local ok, err = pcall(d3m.add, a, b)
    assert.is_false(ok)
    assert.matches("[3, 4]", err, 1, true)
    assert.matches("[13]", err, 1, true)
    ok, err = pcall(function() return a:reshape{5, 5} end)
    assert.is_false(ok)
    assert.matches("cannot reshape [3, 4] (12 elements) to [5, 5] (25 elements)", err, 1, true)
  end)

  it("rejects wrong argument types and bad shapes", function()
    local t = d3m.zeros{3}
    assert.has_error(function() t:add(3) end,
      "bad argument #1 to 'add' (d3m.tensor expected, got number)")
    local ok, err = pcall(d3m.zeros, {3, 0})
    assert.is_false(ok)
    assert.matches("shape extent 2 must be a positive integer, got 0", err, 1, true)
    ok, err = pcall(d3m.from_table, {{1, 2}, {3}})
    assert.is_false(ok)
    assert.matches("has 1 entries, expected 2", err, 1, true)
    ok, err = pcall(d3m.from_string, "abc", {1})
    assert.is_false(ok)
    assert.matches("3 bytes given, the shape needs 4", err, 1, true)
  end)

  it("describes itself", function()
    local t = d3m.from_table{1, -3}
    assert.matches("d3m.tensor[2] float32, mean -1.0", tostring(t), 1, true)
  end)
end)

describe("d3m fft", function()
  local default_backend = d3m.fft.backend()

  for _, backend in ipairs{"fftw", "vkfft", "clfft"} do
    it("transforms a delta function to a constant and back with " .. backend, function()
      d3m.fft.use_backend(backend)
      assert.are.equal(backend, d3m.fft.backend())
      local n = 8
      local field = d3m.zeros{n, n, n}
      field:set(1, 1, 1, 1)
      local spectrum = d3m.fft.r2c(field)
      assert.are.same({n, n, n / 2 + 1, 2}, spectrum:shape())
      -- Real parts all 1, imaginary parts 0: the sum is the mode count.
      assert.is_true(math.abs(spectrum:sum() - n * n * (n / 2 + 1)) < 1e-4)
      local back = d3m.fft.c2r(spectrum, n)
      assert.is_true((back - field):max_abs() < 1e-6)
    end)

    it("names the unsupported size and the supported radices with " .. backend, function()
      d3m.fft.use_backend(backend)
      local ok, err = pcall(d3m.fft.r2c, d3m.zeros{17, 8, 8})
      assert.is_false(ok)
      assert.matches("mesh size 17 is not supported", err, 1, true)
      assert.matches("2, 3, 5, 7", err, 1, true)
    end)
  end

  it("uses FFTW on a CPU device by default", function()
    if d3m.device().type == "CPU" then
      assert.are.equal("fftw", default_backend)
    else
      assert.are.equal("vkfft", default_backend)
    end
  end)

  it("rejects an unknown backend by name", function()
    local ok, err = pcall(d3m.fft.use_backend, "mkl")
    assert.is_false(ok)
    assert.matches("unknown FFT backend 'mkl'", err, 1, true)
  end)
end)
