-- d3m.models.d3m: the D3M U-Net's size, ML-Recon parameter names,
-- initialisation, state_dict round trip, whole-model gradient and a
-- training run that overfits one sample.
local d3m = require "d3m"
local random = require "d3m.random"
local gradcheck = require "support.gradcheck"
local reference = require "support.reference_d3m"
local models = d3m.models

-- The convolution kernels come from d3m.ops; without them the tests that
-- run the network are reported as pending.
local have_conv = d3m.ops.conv3d_forward ~= nil and d3m.ops.conv_transpose3d_forward ~= nil

local function it_with_conv(name, fn)
  if have_conv then
    it(name, fn)
  else
    pending(name .. " (d3m.ops has no convolution kernels)")
  end
end

-- ML-Recon's Lpt2NbodyNet in registration order: "block" is a BasicBlock
-- (conv1 and bn1), "bn" a BatchNorm3d, "conv" a ConvTranspose3d.
local ML_RECON_LAYERS = {
  {"layer1.0", "block"}, {"layer1.1", "block"}, {"layer2.0", "block"},
  {"layer3.0", "block"}, {"layer3.1", "block"}, {"layer4.0", "block"},
  {"layer5.0", "block"}, {"layer5.1", "block"}, {"deconv1", "conv"},
  {"deconv_batchnorm1", "bn"}, {"layer6.0", "block"}, {"layer6.1", "block"},
  {"deconv2", "conv"}, {"deconv_batchnorm2", "bn"}, {"layer7.0", "block"},
  {"layer7.1", "block"}, {"deconv4", "conv"},
}

local function ml_recon_keys()
  local keys = {}
  local function bn(prefix)
    for _, suffix in ipairs({"weight", "bias", "running_mean", "running_var"}) do
      keys[#keys + 1] = prefix .. "." .. suffix
    end
  end
  for _, layer in ipairs(ML_RECON_LAYERS) do
    local name, kind = layer[1], layer[2]
    if kind == "block" then
      keys[#keys + 1] = name .. ".conv1.weight"
      keys[#keys + 1] = name .. ".conv1.bias"
      bn(name .. ".bn1")
    elseif kind == "bn" then
      bn(name)
    else
      keys[#keys + 1] = name .. ".weight"
      keys[#keys + 1] = name .. ".bias"
    end
  end
  return keys
end

-- name -> flat table of numbers for the reference forward.
local function state_tables(model)
  local state = {}
  for name, t in pairs(model:state_dict()) do
    state[name] = t:to_table()
  end
  return state
end

local function dot(a, b)
  local sum = 0
  for i = 1, #a do
    sum = sum + a[i] * b[i]
  end
  return sum
end

local function max_abs_diff(a, b)
  local worst = 0
  for i = 1, #a do
    worst = math.max(worst, math.abs(a[i] - b[i]))
  end
  return worst
end

local function shape_of(list, name)
  for _, p in ipairs(list) do
    if p.name == name then
      return p.shape
    end
  end
end

describe("d3m.models.d3m", function()
  it("has 8,415,939 parameters at 64 channels", function()
    assert.are.equal(8415939, models.d3m.count_parameters({channels = 64}))
  end)

  it("uses ML-Recon's shapes at 64 channels", function()
    local shapes = models.d3m.parameter_shapes({channels = 64})
    assert.are.same({64, 3, 3, 3, 3}, shape_of(shapes, "layer1.0.conv1.weight"))
    assert.are.same({128, 64, 3, 3, 3}, shape_of(shapes, "layer2.0.conv1.weight"))
    assert.are.same({256, 256, 3, 3, 3}, shape_of(shapes, "layer5.1.conv1.weight"))
    assert.are.same({256, 128, 3, 3, 3}, shape_of(shapes, "deconv1.weight"))
    assert.are.same({128, 256, 3, 3, 3}, shape_of(shapes, "layer6.0.conv1.weight"))
    assert.are.same({128, 64, 3, 3, 3}, shape_of(shapes, "deconv2.weight"))
    assert.are.same({64, 128, 3, 3, 3}, shape_of(shapes, "layer7.0.conv1.weight"))
    assert.are.same({64, 3, 1, 1, 1}, shape_of(shapes, "deconv4.weight"))
    assert.are.same({3}, shape_of(shapes, "deconv4.bias"))
  end)

  it("builds the full-width network with that many parameters", function()
    local model = models.d3m({channels = 64})
    assert.are.equal(8415939, model:num_parameters())
  end)

  it("names its state as ML-Recon's PyTorch model", function()
    local model = models.d3m({channels = 4})
    assert.are.same(ml_recon_keys(), model:state_dict_keys())
    local list = model:named_parameters()
    local expected = models.d3m.parameter_shapes({channels = 4})
    assert.are.equal(#expected, #list)
    for i, p in ipairs(list) do
      assert.are.equal(expected[i].name, p.name)
      assert.are.same(expected[i].shape, p.param:shape(), p.name)
    end
  end)

  it("initialises from its seed", function()
    local a = models.d3m({channels = 2, seed = 7}):state_dict()
    local b = models.d3m({channels = 2, seed = 7}):state_dict()
    local c = models.d3m({channels = 2, seed = 8}):state_dict()
    for _, name in ipairs({"layer1.0.conv1.weight", "layer7.1.conv1.bias", "deconv4.weight"}) do
      assert.are.same(a[name]:to_table(), b[name]:to_table(), name)
      assert.are_not.same(a[name]:to_table(), c[name]:to_table(), name)
    end
  end)

  it("copies every tensor in a state_dict round trip", function()
    local a = models.d3m({channels = 2, seed = 1})
    a.layer3["1"].bn1.running_var:fill(2.5)
    local b = models.d3m({channels = 2, seed = 2}):load_state_dict(a:state_dict())
    local state_b = b:state_dict()
    for name, t in pairs(a:state_dict()) do
      assert.are.same(t:to_table(), state_b[name]:to_table(), name)
    end
    assert.are.same({2.5, 2.5, 2.5, 2.5}, b.layer3["1"].bn1.running_var:to_table())
  end)

  it("rejects invalid options and inputs", function()
    assert.has_error(function() models.d3m({channels = 0}) end,
                     "d3m.models.d3m: channels must be a positive integer, got 0")
    local model = models.d3m({channels = 1})
    assert.has_error(function() model:forward(d3m.zeros({1, 3, 6, 6, 6})) end,
                     "D3M: expected input [N, 3, D, H, W] with D, H, W multiples of 4, got "
                     .. "[1, 3, 6, 6, 6]")
  end)

  it_with_conv("adds the input in the residual variant", function()
    local g = random.new(5)
    local x = gradcheck.random_tensor(g, {2, 3, 8, 8, 8})
    local grad_out = gradcheck.random_tensor(g, {2, 3, 8, 8, 8})
    local plain = models.d3m({channels = 2, seed = 4})
    local residual = models.d3m({channels = 2, seed = 4, residual = true})
    local y_plain = plain:forward(x):copy()
    local y_residual = residual:forward(x)
    -- One float addition per element: results agree to a rounding.
    assert.is_true((y_residual - (y_plain + x)):max_abs() <= 1e-6 * (y_plain + x):max_abs())
    local g_plain = plain:backward(x, grad_out):copy()
    local g_residual = residual:backward(x, grad_out)
    assert.is_true((g_residual - (g_plain + grad_out)):max_abs()
      <= 1e-6 * (g_plain + grad_out):max_abs())
    assert.matches("residual", tostring(residual), 1, true)
    assert.has_error(function() models.d3m({residual = 1}) end,
                     "d3m.models.d3m: residual must be a boolean, got 1")
  end)

  it_with_conv("maps [N, 3, n, n, n] to the same shape", function()
    local model = models.d3m({channels = 2})
    local y = model:forward(d3m.zeros({2, 3, 8, 8, 4}))
    assert.are.same({2, 3, 8, 8, 4}, y:shape())
  end)

  it_with_conv("gives identical outputs after a state_dict round trip", function()
    local g = random.new(3)
    local a = models.d3m({channels = 4, seed = 1})
    local x = gradcheck.random_tensor(g, {2, 3, 8, 8, 8})
    a:forward(x)   -- moves the running statistics away from 0 and 1
    local snapshot = {}
    for name, t in pairs(a:state_dict()) do
      snapshot[name] = t:copy()
    end

    local b = models.d3m({channels = 4, seed = 2}):load_state_dict(snapshot)
    a:evaluate()
    b:evaluate()
    assert.are.same(a:forward(x):to_table(), b:forward(x):to_table())
    a:train()
    b:train()
    assert.are.same(a:forward(x):to_table(), b:forward(x):to_table())
  end)

  it_with_conv("gives identical outputs after an HDF5 round trip", function()
    local a = models.d3m({channels = 2, seed = 4})
    local x = gradcheck.random_tensor(random.new(8), {1, 3, 8, 8, 8})
    a:forward(x)   -- training mode: moves the running statistics
    a:evaluate()
    local path = os.tmpname()
    d3m.checkpoint.save(path, a)
    local b = d3m.checkpoint.load_model(path)
    os.remove(path)
    assert.are.same(a:forward(x):to_table(), b:forward(x):to_table())
  end)

  it_with_conv("matches the double-precision host forward", function()
    local model = models.d3m({channels = 4, seed = 5})
    local shape = {2, 3, 8, 8, 4}
    local x = gradcheck.random_tensor(random.new(6), shape)
    for _, training in ipairs({true, false}) do
      model:train(training)
      local y = model:forward(x):to_table()
      local state = state_tables(model)
      local expected = reference.d3m(state, x:to_table(), shape, training)
      -- float32 through 17 layers of O(1) activations: 1e-4 absolute (the
      -- largest difference seen is 6e-6 on outputs of size 2).
      assert.is_true(max_abs_diff(y, expected) < 1e-4, "training " .. tostring(training))
    end
  end)

  it_with_conv("passes a whole-model gradient check", function()
    -- Batch 2 at n = 8 with 4 channels in training mode. The device's
    -- gradients are compared with central differences (h = 1e-7) of the
    -- double-precision host forward, along one random direction for the
    -- input and for every parameter tensor. At that h no ReLU kink is
    -- crossed and the difference quotient is exact to ~1e-6. The float32
    -- backward sets the tolerance to 1e-3 relative. The 1e-3 absolute term
    -- is for the conv biases: batch norm removes a per-channel offset, so
    -- their exact gradient is 0 and the device returns float noise.
    local g = random.new(6)
    local shape = {2, 3, 8, 8, 8}
    local model = models.d3m({channels = 4, seed = 5})
    local x = gradcheck.random_tensor(g, shape)
    local r = gradcheck.random_tensor(g, shape)
    model:zero_grad()
    model:forward(x)
    local grad_input = model:backward(x, r):to_table()

    local state, xs, rs = state_tables(model), x:to_table(), r:to_table()
    local function loss(input)
      return dot(rs, reference.d3m(state, input, shape, true))
    end
    local h = 1e-7
    local function check(name, analytic_grad, values, set)
      local direction = g:uniform_table(#values, -1, 1)
      local plus, minus = {}, {}
      for i = 1, #values do
        plus[i] = values[i] + h * direction[i]
        minus[i] = values[i] - h * direction[i]
      end
      local numeric = (set(plus) - set(minus)) / (2 * h)
      set(values)
      local analytic = dot(analytic_grad, direction)
      local scale = math.max(math.abs(analytic), math.abs(numeric))
      assert.is_true(math.abs(analytic - numeric) <= 1e-3 * scale + 1e-3,
                     string.format("%s: analytic %.7g, central difference %.7g", name, analytic,
                                   numeric))
    end

    check("input", grad_input, xs, function(values) return loss(values) end)
    for _, p in ipairs(model:named_parameters()) do
      local original = state[p.name]
      check(p.name, p.grad:to_table(), original, function(values)
        state[p.name] = values
        return loss(xs)
      end)
    end
  end)

  it_with_conv("overfits one sample", function()
    -- A smooth periodic input (four Fourier modes per component) and a
    -- quadratic function of it as the target, n = 8, 4 channels. Adam's lr
    -- is 2e-2, far above the 1e-4 of He et al. 2019, so that the loss falls
    -- by 100x within 400 steps. Seeds 1 to 6 needed 115 to 170 steps (PoCL
    -- on 2 CPU cores; the count does not depend on the device beyond
    -- rounding).
    local g = random.new(12)
    local n = 8
    local input, target = {}, {}
    for component = 1, 3 do
      local modes = {}
      for m = 1, 4 do
        modes[m] = {g:integer(3) - 2, g:integer(3) - 2, g:integer(3) - 2, g:uniform(0, 2 * math.pi),
                    g:uniform(0.3, 1)}
      end
      for z = 0, n - 1 do
        for y = 0, n - 1 do
          for x = 0, n - 1 do
            local v = 0
            for _, m in ipairs(modes) do
              v = v + m[5] * math.cos(2 * math.pi * (m[1] * z + m[2] * y + m[3] * x) / n + m[4])
            end
            input[#input + 1] = v
            target[#target + 1] = 1.2 * v + 0.3 * v * v - 0.2
          end
        end
      end
    end
    local x = d3m.from_table(input, {1, 3, n, n, n})
    local y_true = d3m.from_table(target, {1, 3, n, n, n})

    local model = models.d3m({channels = 4, seed = 3})
    local criterion = d3m.nn.MSELoss()
    local optimizer = d3m.optim.adam(model, {lr = 2e-2, weight_decay = 0})
    local first, loss
    for _ = 1, 400 do
      optimizer:zero_grad()
      local y = model:forward(x)
      loss = criterion:forward(y, y_true)
      first = first or loss
      model:backward(x, criterion:backward(y, y_true))
      optimizer:step()
      if loss < first / 100 then
        break
      end
    end
    assert.is_true(loss < first / 100, string.format("loss fell from %.4g to %.4g only", first, loss))
  end)
end)
