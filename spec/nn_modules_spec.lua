-- d3m.nn modules other than the convolutions: forward against Lua loops,
-- backward against central differences on the device, and the Module
-- protocol (parameters, modes, state_dict, initialisation).
local d3m = require "d3m"
local nn = d3m.nn
local random = require "d3m.random"
local gradcheck = require "support.gradcheck"

local function table_of(n, fn)
  local t = {}
  for i = 1, n do
    t[i] = fn(i)
  end
  return t
end

local function max_abs_diff(a, b)
  local worst = 0
  for i = 1, #a do
    worst = math.max(worst, math.abs(a[i] - b[i]))
  end
  return worst
end

-- Central differences of float32 forwards with h = 1e-2: rounding adds
-- about 1e-7 |L| / h = 1e-5 relative and the curvature of batch norm about
-- h^2 = 1e-4, so 1e-2 relative passes while a wrong or missing term fails.
local REL, ABS = 1e-2, 1e-4

describe("d3m.nn.BatchNorm3d", function()
  local g = random.new(21)
  local shape = {2, 3, 4, 4, 8}   -- batch 2, non-cubic

  it("normalises with batch statistics in training mode", function()
    local bn = nn.BatchNorm3d(3)
    bn.weight:copy_from(d3m.from_table({1.5, 0.5, -1.0}, {3}))
    bn.bias:copy_from(d3m.from_table({0.1, 0.2, 0.3}, {3}))
    local x = gradcheck.random_tensor(g, shape)
    local y = bn:forward(x):to_table()
    local xs = x:to_table()
    local per = 4 * 4 * 8
    local w, b = {1.5, 0.5, -1.0}, {0.1, 0.2, 0.3}
    local expected, running_var = {}, {}
    for c = 1, 3 do
      local sum, sum_sq, count = 0, 0, 2 * per
      for n = 0, 1 do
        for s = 1, per do
          local v = xs[(n * 3 + c - 1) * per + s]
          sum = sum + v
        end
      end
      local mean = sum / count
      for n = 0, 1 do
        for s = 1, per do
          local d = xs[(n * 3 + c - 1) * per + s] - mean
          sum_sq = sum_sq + d * d
        end
      end
      local var = sum_sq / count
      running_var[c] = 0.9 + 0.1 * var * count / (count - 1)
      for n = 0, 1 do
        for s = 1, per do
          local i = (n * 3 + c - 1) * per + s
          expected[i] = (xs[i] - mean) / math.sqrt(var + 1e-5) * w[c] + b[c]
        end
      end
    end
    -- float32 normalisation of values in [-1, 1]: 1e-5 absolute.
    assert.is_true(max_abs_diff(expected, y) < 1e-5)
    assert.is_true(max_abs_diff(running_var, bn.running_var:to_table()) < 1e-6)
  end)

  it("uses running statistics in evaluation mode", function()
    local bn = nn.BatchNorm3d(3)
    bn.running_mean:copy_from(d3m.from_table({0.5, -0.5, 0}, {3}))
    bn.running_var:copy_from(d3m.from_table({4, 0.25, 1}, {3}))
    bn:evaluate()
    local x = gradcheck.random_tensor(g, shape)
    local xs, y = x:to_table(), bn:forward(x):to_table()
    local per = 4 * 4 * 8
    local mean, var = {0.5, -0.5, 0}, {4, 0.25, 1}
    local expected = table_of(#xs, function(i)
      local c = ((i - 1) // per) % 3 + 1
      return (xs[i] - mean[c]) / math.sqrt(var[c] + 1e-5)
    end)
    assert.is_true(max_abs_diff(expected, y) < 1e-5)
    assert.are.same({0.5, -0.5, 0}, bn.running_mean:to_table())
  end)

  it("passes the gradient check in training mode", function()
    local bn = nn.BatchNorm3d(3)
    gradcheck.assert_close(gradcheck.directional(bn, gradcheck.random_tensor(g, shape)), REL, ABS)
  end)

  it("passes the gradient check in evaluation mode", function()
    local bn = nn.BatchNorm3d(3):evaluate()
    bn.running_var:fill(0.5)
    gradcheck.assert_close(gradcheck.directional(bn, gradcheck.random_tensor(g, shape)), REL, ABS)
  end)

  it("rejects a wrong channel count", function()
    local bn = nn.BatchNorm3d(4)
    assert.has_error(function() bn:forward(d3m.zeros({1, 3, 4, 4, 4})) end,
                     "BatchNorm3d(4): expected input [N, 4, ...], got [1, 3, 4, 4, 4]")
  end)
end)

describe("d3m.nn.ReLU", function()
  it("clamps and passes gradients where the input is positive", function()
    local relu = nn.ReLU()
    local x = d3m.from_table({-1, 2, -3, 4}, {1, 1, 4})
    assert.are.same({0, 2, 0, 4}, relu:forward(x):to_table())
    local grad = relu:backward(x, d3m.from_table({10, 20, 30, 40}, {1, 1, 4}))
    assert.are.same({0, 20, 0, 40}, grad:to_table())
  end)

  it("runs forward when called", function()
    local x = d3m.from_table({-1, 2}, {1, 1, 2})
    assert.are.same({0, 2}, nn.ReLU()(x):to_table())
  end)
end)

describe("d3m.nn.ConvTranspose3d with k = 1", function()
  local g = random.new(5)

  it("mixes channels per voxel like the host loop", function()
    local layer = nn.ConvTranspose3d(4, 3, 1, {generator = g})
    assert.are.same({4, 3, 1, 1, 1}, layer.weight:shape())
    local x = gradcheck.random_tensor(g, {2, 4, 4, 4, 4})
    local xs, w, b = x:to_table(), layer.weight:to_table(), layer.bias:to_table()
    local y = layer:forward(x)
    assert.are.same({2, 3, 4, 4, 4}, y:shape())
    local per, expected = 64, {}
    for n = 0, 1 do
      for o = 0, 2 do
        for s = 1, per do
          local acc = b[o + 1]
          for i = 0, 3 do
            acc = acc + w[i * 3 + o + 1] * xs[(n * 4 + i) * per + s]
          end
          expected[(n * 3 + o) * per + s] = acc
        end
      end
    end
    assert.is_true(max_abs_diff(expected, y:to_table()) < 1e-6)
  end)

  it("passes the gradient check", function()
    local layer = nn.ConvTranspose3d(5, 3, 1, {generator = g})
    gradcheck.assert_close(gradcheck.directional(layer, gradcheck.random_tensor(g, {2, 5, 4, 8, 4})),
                           1e-3, 1e-5)
  end)
end)

describe("d3m.nn.Sequential", function()
  it("chains forward and backward through its children", function()
    local g = random.new(9)
    local model = nn.Sequential(nn.BatchNorm3d(3), nn.ReLU(), nn.ConvTranspose3d(3, 2, 1, {generator = g}),
                                nn.BatchNorm3d(2))
    local names = {}
    for _, p in ipairs(model:named_parameters()) do
      names[#names + 1] = p.name
    end
    assert.are.same({"0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"}, names)
    -- h = 3e-3 keeps the step from crossing ReLU kinks (h = 1e-2 moved the
    -- input derivative by 3%); the float32 noise grows to about 3e-4.
    local x = gradcheck.random_tensor(g, {2, 3, 4, 4, 4})
    gradcheck.assert_close(gradcheck.directional(model, x, {h = 3e-3}), REL, 1e-3)
  end)

  it("accumulates parameter gradients until zero_grad", function()
    local model = nn.Sequential(nn.ConvTranspose3d(2, 2, 1))
    local x = d3m.full({1, 2, 4, 4, 4}, 1.0)
    local r = d3m.full({1, 2, 4, 4, 4}, 1.0)
    model:zero_grad()
    model:forward(x)
    model:backward(x, r)
    local once = model:gradients()[2]:to_table()
    model:backward(x, r)
    local twice = model:gradients()[2]:to_table()
    assert.are.same({2 * once[1], 2 * once[2]}, twice)
    model:zero_grad()
    assert.are.same({0, 0}, model:gradients()[2]:to_table())
  end)
end)

describe("d3m.nn.ChannelConcat", function()
  it("stacks channels and splits the gradient", function()
    local cat = nn.ChannelConcat()
    local a = d3m.from_table({1, 2, 3, 4}, {2, 1, 2})
    local b = d3m.from_table({5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 2})
    assert.are.same({1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, cat:forward({a, b}):to_table())
    local parts = cat:backward({a, b}, cat.output)
    assert.are.same(a:to_table(), parts[1]:to_table())
    assert.are.same(b:to_table(), parts[2]:to_table())
  end)
end)

describe("d3m.nn.MSELoss", function()
  it("returns the mean squared difference and its gradient", function()
    local loss = nn.MSELoss()
    local p = d3m.from_table({1, 2, 3, 4}, {4})
    local t = d3m.from_table({0, 2, 5, 4}, {4})
    assert.are.equal((1 + 4) / 4, loss:forward(p, t))
    assert.are.same({0.5, 0, -1, 0}, loss:backward(p, t):to_table())
  end)
end)

describe("d3m.nn.Module", function()
  it("drops cached buffers in clear_state", function()
    local model = nn.Sequential(nn.BatchNorm3d(2), nn.ReLU())
    local x = d3m.full({2, 2, 4}, 1.0)
    model:forward(x)
    model:backward(x, x)
    model:clear_state()
    assert.is_nil(model.output)
    assert.is_nil(model["0"].output)
    assert.is_nil(model["1"].grad_input)
    assert.are.same({2, 2, 4}, model:forward(x):shape())
  end)

  it("switches modes recursively", function()
    local model = nn.Sequential(nn.BatchNorm3d(2), nn.Sequential(nn.BatchNorm3d(2)))
    model:evaluate()
    assert.is_false(model["1"]["0"].training)
    model:train()
    assert.is_true(model["1"]["0"].training)
  end)

  it("saves and loads its state_dict", function()
    local a = nn.Sequential(nn.BatchNorm3d(2), nn.ConvTranspose3d(2, 3, 1))
    local b = nn.Sequential(nn.BatchNorm3d(2), nn.ConvTranspose3d(2, 3, 1, {generator = random.new(99)}))
    a[0 .. ""].running_mean:copy_from(d3m.from_table({0.25, -2}, {2}))
    assert.are.same({"0.weight", "0.bias", "0.running_mean", "0.running_var", "1.weight", "1.bias"},
                    a:state_dict_keys())
    local snapshot = {}
    for name, t in pairs(a:state_dict()) do
      snapshot[name] = t:to_table()   -- flat tables load as well as tensors
    end
    snapshot["0.num_batches_tracked"] = {0}
    b:load_state_dict(snapshot)
    for name, t in pairs(b:state_dict()) do
      assert.are.same(snapshot[name], t:to_table(), name)
    end
  end)

  it("reports missing and unexpected state_dict keys", function()
    local model = nn.Sequential(nn.BatchNorm3d(2))
    assert.has_error(function() model:load_state_dict({["0.weight"] = {1, 1}, extra = {1}}) end,
                     "load_state_dict: missing keys {0.bias, 0.running_mean, 0.running_var}, "
                     .. "unexpected keys {extra}; pass strict = false to load a subset")
    model:load_state_dict({["0.weight"] = {3, 4}}, false)
    assert.are.same({3, 4}, model["0"].weight:to_table())
    assert.has_error(function() model:load_state_dict({["0.weight"] = {1, 2, 3}}, false) end,
                     "load_state_dict: '0.weight' has 3 numbers, expected 2 (shape [2])")
  end)

  it("initialises convolutions like PyTorch", function()
    -- Uniform in +-1/sqrt(fan_in): fan_in = cin k^3 for Conv3d and
    -- cout k^3 for ConvTranspose3d (PyTorch takes weight.size(1)).
    nn.manual_seed(4)
    local conv = nn.Conv3d(4, 6, 3, 1)
    local up = nn.ConvTranspose3d(8, 2, 3)
    local cases = {
      {conv.weight, 1 / math.sqrt(4 * 27)}, {conv.bias, 1 / math.sqrt(4 * 27)},
      {up.weight, 1 / math.sqrt(2 * 27)}, {up.bias, 1 / math.sqrt(2 * 27)},
    }
    for i, case in ipairs(cases) do
      local values, bound = case[1]:to_table(), case[2]
      local high = 0
      for _, v in ipairs(values) do
        high = math.max(high, math.abs(v))
      end
      assert.is_true(high <= bound, "case " .. i .. " exceeds the bound")
      if #values > 100 then
        -- 648 or more draws: the largest |v| is within 2% of the bound
        -- unless the range is wrong (the chance of failing is 0.98^648 ~ 2e-6).
        assert.is_true(high > 0.98 * bound, "case " .. i .. " does not fill the range")
      end
    end
    nn.manual_seed(4)
    assert.are.same(conv.weight:to_table(), nn.Conv3d(4, 6, 3, 1).weight:to_table())
  end)
end)

describe("d3m.nn.ReLU in place", function()
  it("overwrites its input and still back-propagates", function()
    local relu = nn.ReLU({inplace = true})
    local x = d3m.from_table({-1, 2, -3, 4}, {1, 1, 4})
    assert.are.equal(x, relu:forward(x))
    assert.are.same({0, 2, 0, 4}, x:to_table())
    local grad = relu:backward(x, d3m.from_table({10, 20, 30, 40}, {1, 1, 4}))
    assert.are.same({0, 20, 0, 40}, grad:to_table())
  end)
end)
