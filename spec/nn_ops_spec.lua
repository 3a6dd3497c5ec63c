-- d3m.ops bindings of the non-convolution kernels: argument forms, output
-- reuse and error messages. The numerics are checked against host loops
-- in tests/test_nn_ops.c.
local d3m = require "d3m"
local ops = d3m.ops

describe("d3m.ops", function()
  it("fills given output tensors and returns them", function()
    local x = d3m.from_table({-1, 2, -3, 4}, {1, 1, 4})
    local out = d3m.zeros({1, 1, 4})
    assert.are.equal(out, ops.relu_forward(x, out))
    assert.are.same({0, 2, 0, 4}, out:to_table())
    local grad = ops.relu_backward(d3m.full({1, 1, 4}, 1.0), x)
    assert.are.same({0, 1, 0, 1}, grad:to_table())
  end)

  it("runs batch norm forward and backward", function()
    local x = d3m.from_table({1, 3, 5, 7}, {2, 1, 2})
    local w, b = d3m.full({1}, 2.0), d3m.zeros({1})
    local rm, rv = d3m.zeros({1}), d3m.full({1}, 1.0)
    local y, mean, invstd = ops.batchnorm_forward(x, w, b, rm, rv, true, 0.1, 1e-5)
    assert.is_true(math.abs(mean:to_table()[1] - 4) < 1e-6)
    -- Biased variance 5, so y = 2 (x - 4) / sqrt(5 + 1e-5).
    assert.is_true(math.abs(y:to_table()[4] - 6 / math.sqrt(5 + 1e-5)) < 1e-6)
    -- Running variance uses the unbiased 20/3.
    assert.is_true(math.abs(rv:to_table()[1] - (0.9 + 0.1 * 20 / 3)) < 1e-6)

    local gw, gb = d3m.zeros({1}), d3m.zeros({1})
    local skipped = ops.batchnorm_backward(d3m.full({2, 1, 2}, 1.0), x, w, mean, invstd, true, gw,
                                           gb, false)
    assert.is_nil(skipped)
    assert.are.same({4}, gb:to_table())
  end)

  it("concatenates and splits along channels", function()
    local a = d3m.from_table({1, 2, 3, 4}, {2, 1, 2})
    local b = d3m.from_table({5, 6, 7, 8}, {2, 1, 2})
    local c = ops.concat({a, b})
    assert.are.same({2, 2, 2}, c:shape())
    assert.are.same({1, 2, 5, 6, 3, 4, 7, 8}, c:to_table())
    local parts = ops.split(c, {1, b})
    assert.are.same({1, 2, 3, 4}, parts[1]:to_table())
    assert.are.equal(b, parts[2])
  end)

  it("computes the MSE loss and its scaled gradient", function()
    local p, t = d3m.from_table({1, 2}, {2}), d3m.from_table({0, 0}, {2})
    assert.are.equal(2.5, ops.mse_loss(p, t))
    -- scale 2 (p - t) / numel with scale 0.5 and numel 2.
    assert.are.same({0.5, 1}, ops.mse_backward(p, t, nil, 0.5):to_table())
  end)

  it("runs an Adam step with PyTorch's defaults", function()
    local p, g = d3m.from_table({1.0}, {1}), d3m.from_table({0.5}, {1})
    ops.adam_step({p}, {g}, {d3m.zeros({1})}, {d3m.zeros({1})}, 1)
    -- lr 1e-3, no decay: one step moves by lr g / (|g| + eps).
    assert.is_true(math.abs(p:to_table()[1] - (1 - 1e-3 * 0.5 / (0.5 + 1e-8))) < 1e-7)
  end)

  it("names the problem in its errors", function()
    local x = d3m.zeros({2, 3, 4})
    assert.has_error(function() ops.concat({x, d3m.zeros({2, 3, 5})}) end,
                     "concat output: input 2 has shape [2, 3, 5], which differs from [2, 6, 4] "
                     .. "in an axis other than the channels (axis 2)")
    assert.has_error(function() ops.relu_backward(d3m.zeros({5}), x) end,
                     "relu backward (grad_output and input): sizes differ, [5] (5 elements) and "
                     .. "[2, 3, 4] (24 elements)")
    assert.has_error(function()
      ops.adam_step({x}, {x, x}, {x}, {x}, 1)
    end, "adam_step grads: expected 1 tensors, one per parameter")
    assert.has_error(function()
      ops.batchnorm_forward(d3m.zeros({1, 2, 1}), d3m.zeros({2}), d3m.zeros({2}), d3m.zeros({2}),
                            d3m.zeros({2}), true, 0.1, 1e-5)
    end, "batchnorm in training mode needs at least 2 values per channel, got 1 (batch 1 of "
         .. "one voxel); use evaluation mode")
  end)
end)
