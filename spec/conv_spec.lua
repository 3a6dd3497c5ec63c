-- Specs of the periodic convolutions in d3m.ops as the nn library calls
-- them: results against a Lua loop, translation equivariance, optional
-- outputs, accumulation of weight gradients and shape errors. The numeric
-- checks of every pass on both paths are in tests/test_conv.c.
local d3m = require "d3m"
local ops = d3m.ops

-- Deterministic values in [-1, 1) (a linear congruential sequence).
local function random_values(count, seed)
  local values, state = {}, seed
  for i = 1, count do
    state = (state * 1103515245 + 12345) % 2147483648
    values[i] = state / 1073741824 - 1
  end
  return values
end

local function random_tensor(shape, seed)
  local count = 1
  for _, extent in ipairs(shape) do count = count * extent end
  return d3m.from_table(random_values(count, seed), shape)
end

-- Flat 1-based index of (n, c, z, y, x), all 0-based, in shape [N, C, D, H, W].
local function index_of(shape, n, c, z, y, x)
  return (((n * shape[2] + c) * shape[3] + z) * shape[4] + y) * shape[5] + x + 1
end

-- values rolled by shift voxels along spatial axis (1 = z, 2 = y, 3 = x):
-- rolled[..., i, ...] = values[..., i - shift, ...] (periodic).
local function roll(values, shape, axis, shift)
  local rolled = {}
  for n = 0, shape[1] - 1 do
    for c = 0, shape[2] - 1 do
      for z = 0, shape[3] - 1 do
        for y = 0, shape[4] - 1 do
          for x = 0, shape[5] - 1 do
            local source = {z, y, x}
            source[axis] = (source[axis] - shift) % shape[axis + 2]
            rolled[index_of(shape, n, c, z, y, x)] =
              values[index_of(shape, n, c, source[1], source[2], source[3])]
          end
        end
      end
    end
  end
  return rolled
end

local function max_difference(a, b)
  assert.are.equal(#a, #b)
  local worst = 0
  for i = 1, #a do worst = math.max(worst, math.abs(a[i] - b[i])) end
  return worst
end

local function sum(values)
  local total = 0
  for i = 1, #values do total = total + values[i] end
  return total
end

-- Float32 sums of at most a few hundred products of values in [-1, 1]:
-- rounding stays below 1e-5 in absolute terms, while an indexing error
-- moves values by O(1).
local TOLERANCE = 1e-4

for _, path in ipairs({"fast", "reference"}) do
  describe("conv3d on the " .. path .. " path", function()
    local previous
    setup(function() previous = ops.conv_path(path) end)
    teardown(function() ops.conv_path(previous) end)

    it("matches a Lua loop (k = 3, bias)", function()
      local shape, ci, co = {2, 2, 4, 4, 8}, 2, 3
      local input = random_values(2 * ci * 4 * 4 * 8, 1)
      local weight = random_values(co * ci * 27, 2)
      local bias = {0.5, -0.25, 1.0}
      local out = ops.conv3d_forward(d3m.from_table(input, shape),
        d3m.from_table(weight, {co, ci, 3, 3, 3}), d3m.from_table(bias, {co}), 1)
      assert.are.same({2, co, 4, 4, 8}, out:shape())

      local expected, out_shape = {}, {2, co, 4, 4, 8}
      for n = 0, 1 do
        for o = 0, co - 1 do
          for z = 0, 3 do
            for y = 0, 3 do
              for x = 0, 7 do
                local total = bias[o + 1]
                for i = 0, ci - 1 do
                  for dz = 0, 2 do
                    for dy = 0, 2 do
                      for dx = 0, 2 do
                        local w = weight[((o * ci + i) * 3 + dz) * 9 + dy * 3 + dx + 1]
                        total = total + w * input[index_of(shape, n, i, (z + dz - 1) % 4,
                          (y + dy - 1) % 4, (x + dx - 1) % 8)]
                      end
                    end
                  end
                end
                expected[index_of(out_shape, n, o, z, y, x)] = total
              end
            end
          end
        end
      end
      assert.is_true(max_difference(out:to_table(), expected) < TOLERANCE)
    end)

    it("commutes with rolls at stride 1", function()
      -- Rolling the input by one voxel rolls the output by one.
      local shape = {1, 2, 4, 8, 4}
      local input = random_values(2 * 4 * 8 * 4, 3)
      local weight = random_tensor({3, 2, 3, 3, 3}, 4)
      local out = ops.conv3d_forward(d3m.from_table(input, shape), weight, nil, 1):to_table()
      for axis = 1, 3 do
        local rolled_out = ops.conv3d_forward(d3m.from_table(roll(input, shape, axis, 1), shape),
          weight, nil, 1):to_table()
        assert.is_true(max_difference(rolled_out, roll(out, {1, 3, 4, 8, 4}, axis, 1)) < TOLERANCE)
      end
    end)

    it("halves rolls at stride 2", function()
      -- Rolling the input by two voxels rolls the output by one.
      local shape = {1, 2, 8, 4, 8}
      local input = random_values(2 * 8 * 4 * 8, 5)
      local weight = random_tensor({3, 2, 3, 3, 3}, 6)
      local out = ops.conv3d_forward(d3m.from_table(input, shape), weight, nil, 2):to_table()
      for axis = 1, 3 do
        local rolled_out = ops.conv3d_forward(d3m.from_table(roll(input, shape, axis, 2), shape),
          weight, nil, 2):to_table()
        assert.is_true(max_difference(rolled_out, roll(out, {1, 3, 4, 2, 4}, axis, 1)) < TOLERANCE)
      end
    end)

    it("doubles rolls when transposed", function()
      -- Rolling the input by one voxel rolls the output by two.
      local shape = {1, 3, 2, 4, 2}
      local input = random_values(3 * 2 * 4 * 2, 7)
      local weight = random_tensor({3, 2, 3, 3, 3}, 8)
      local bias = d3m.from_table({0.1, -0.2}, {2})
      local out = ops.conv_transpose3d_forward(d3m.from_table(input, shape), weight, bias):to_table()
      for axis = 1, 3 do
        local rolled_out = ops.conv_transpose3d_forward(
          d3m.from_table(roll(input, shape, axis, 1), shape), weight, bias):to_table()
        assert.is_true(max_difference(rolled_out, roll(out, {1, 2, 4, 8, 4}, axis, 2)) < TOLERANCE)
      end
    end)

    it("reuses given output tensors", function()
      local input = random_tensor({1, 2, 4, 4, 4}, 9)
      local weight = random_tensor({5, 2, 3, 3, 3}, 10)
      local out = d3m.zeros{1, 5, 2, 2, 2}
      assert.are.equal(out, ops.conv3d_forward(input, weight, nil, 2, out))
      local grad_in = d3m.zeros{1, 2, 4, 4, 4}
      assert.are.equal(grad_in, ops.conv3d_backward_input(out, weight, 2, grad_in, {1, 2, 4, 4, 4}))
      local t_out = d3m.zeros{1, 2, 4, 4, 4}
      local t_weight = random_tensor({5, 2, 3, 3, 3}, 11)
      assert.are.equal(t_out, ops.conv_transpose3d_forward(out, t_weight, nil, t_out))
      local t_grad_in = d3m.zeros{1, 5, 2, 2, 2}
      assert.are.equal(t_grad_in, ops.conv_transpose3d_backward_input(t_out, t_weight, t_grad_in))
    end)

    it("overwrites grad_in, accumulates grad_weight", function()
      local input = random_tensor({2, 3, 4, 4, 4}, 12)
      local weight = random_tensor({5, 3, 3, 3, 3}, 13)
      local grad_out = random_tensor({2, 5, 4, 4, 4}, 14)

      local first = ops.conv3d_backward_input(grad_out, weight, 1, nil, {2, 3, 4, 4, 4}):to_table()
      local grad_in = d3m.full({2, 3, 4, 4, 4}, 7)
      ops.conv3d_backward_input(grad_out, weight, 1, grad_in)
      assert.is_true(max_difference(grad_in:to_table(), first) < TOLERANCE)

      local grad_weight, grad_bias = d3m.zeros{5, 3, 3, 3, 3}, d3m.zeros{5}
      ops.conv3d_backward_weight(grad_out, input, 1, grad_weight, grad_bias)
      local once_w, once_b = grad_weight:to_table(), grad_bias:to_table()
      local gw, gb = ops.conv3d_backward_weight(grad_out, input, 1, grad_weight, grad_bias)
      assert.are.equal(grad_weight, gw)
      assert.are.equal(grad_bias, gb)
      local twice_w, twice_b = grad_weight:to_table(), grad_bias:to_table()
      for i = 1, #once_w do assert.is_true(math.abs(twice_w[i] - 2 * once_w[i]) < TOLERANCE) end
      for i = 1, #once_b do assert.is_true(math.abs(twice_b[i] - 2 * once_b[i]) < TOLERANCE) end

      -- The bias gradient is the sum of grad_out over batch and voxels.
      local g = grad_out:to_table()
      for c = 0, 4 do
        local expected = 0
        for n = 0, 1 do
          for v = 1, 64 do expected = expected + g[(n * 5 + c) * 64 + v] end
        end
        assert.is_true(math.abs(once_b[c + 1] - expected) < TOLERANCE)
      end

      local t_weight = d3m.zeros{5, 3, 3, 3, 3}
      local t_grad_out = random_tensor({2, 3, 8, 8, 8}, 15)
      ops.conv_transpose3d_backward_weight(t_grad_out, grad_out, t_weight, nil)
      local once = t_weight:to_table()
      ops.conv_transpose3d_backward_weight(t_grad_out, grad_out, t_weight)
      local twice = t_weight:to_table()
      for i = 1, #once do assert.is_true(math.abs(twice[i] - 2 * once[i]) < TOLERANCE) end
    end)

    it("satisfies the adjoint identities", function()
      -- Linearity: sum(conv(x) * r) = sum(x * backward_input(r)), and
      -- with the bias as well, sum(w * backward_weight(r, x)) + bias terms.
      local x = random_tensor({1, 3, 8, 4, 4}, 16)
      local w = random_tensor({4, 3, 3, 3, 3}, 17)
      local r = random_tensor({1, 4, 4, 2, 2}, 18)
      local loss = sum((ops.conv3d_forward(x, w, nil, 2) * r):to_table())
      local via_input = sum((x * ops.conv3d_backward_input(r, w, 2)):to_table())
      local grad_w = ops.conv3d_backward_weight(r, x, 2, d3m.zeros{4, 3, 3, 3, 3})
      local via_weight = sum((w * grad_w):to_table())
      assert.is_true(math.abs(loss - via_input) < TOLERANCE * 10)
      assert.is_true(math.abs(loss - via_weight) < TOLERANCE * 10)
    end)
  end)
end

describe("conv3d shape errors", function()
  local input = d3m.zeros{1, 4, 8, 8, 8}

  it("name expected and received weight shapes", function()
    local ok, message = pcall(ops.conv3d_forward, input, d3m.zeros{6, 3, 3, 3, 3}, nil, 1)
    assert.is_false(ok)
    assert.matches("expected shape [Co, 4, k, k, k]", message, 1, true)
    assert.matches("got [6, 3, 3, 3, 3]", message, 1, true)
  end)

  it("name expected and received output shapes", function()
    local ok, message = pcall(ops.conv3d_forward, input, d3m.zeros{6, 4, 3, 3, 3}, nil, 2,
      d3m.zeros{1, 6, 8, 8, 8})
    assert.is_false(ok)
    assert.matches("expected shape [1, 6, 4, 4, 4], got [1, 6, 8, 8, 8]", message, 1, true)
  end)

  it("reject a bias of the wrong length", function()
    local ok, message = pcall(ops.conv3d_forward, input, d3m.zeros{6, 4, 3, 3, 3},
      d3m.zeros{4}, 1)
    assert.is_false(ok)
    assert.matches("expected shape [6], got [4]", message, 1, true)
  end)

  it("reject a stride other than 1 or 2", function()
    local ok, message = pcall(ops.conv3d_forward, input, d3m.zeros{6, 4, 3, 3, 3}, nil, 3)
    assert.is_false(ok)
    assert.matches("stride must be 1 or 2, got 3", message, 1, true)
  end)

  it("reject extents not divisible by the stride", function()
    local ok, message = pcall(ops.conv3d_forward, d3m.zeros{1, 4, 6, 5, 6},
      d3m.zeros{6, 4, 3, 3, 3}, nil, 2)
    assert.is_false(ok)
    assert.matches("divisible by the stride 2, got shape [1, 4, 6, 5, 6]", message, 1, true)
  end)

  it("reject an input_shape that does not match grad_out", function()
    local ok, message = pcall(ops.conv3d_backward_input, d3m.zeros{1, 6, 4, 4, 4},
      d3m.zeros{6, 4, 3, 3, 3}, 2, nil, {1, 4, 8, 8, 4})
    assert.is_false(ok)
    assert.matches("input_shape [1, 4, 8, 8, 4]", message, 1, true)
    assert.matches("shape [1, 4, 8, 8, 8]", message, 1, true)
  end)

  it("name the transposed weight shapes", function()
    local ok, message = pcall(ops.conv_transpose3d_forward, input, d3m.zeros{2, 4, 3, 3, 3})
    assert.is_false(ok)
    assert.matches("expected shape [4, Co, 3, 3, 3]", message, 1, true)
    assert.matches("got [2, 4, 3, 3, 3]", message, 1, true)
  end)

  it("reject an output aliasing the input", function()
    local x = d3m.zeros{1, 4, 8, 8, 8}
    local ok, message = pcall(ops.conv3d_forward, x, d3m.zeros{4, 4, 3, 3, 3}, nil, 1, x)
    assert.is_false(ok)
    assert.matches("conv3d output shares its buffer with an input", message, 1, true)
  end)

  it("name the grad_weight shapes", function()
    local ok, message = pcall(ops.conv3d_backward_weight, d3m.zeros{1, 6, 8, 8, 8}, input, 1,
      d3m.zeros{6, 5, 3, 3, 3})
    assert.is_false(ok)
    assert.matches("expected shape [6, 4, 3, 3, 3], got [6, 5, 3, 3, 3]", message, 1, true)
  end)
end)
