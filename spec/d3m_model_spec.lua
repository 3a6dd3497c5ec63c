-- d3m.models.d3m: the D3M U-Net's size, ML-Recon parameter names,
-- initialisation, state_dict round trip, whole-model gradient and a
-- training run that overfits one sample.
local d3m = require "d3m"
local random = require "d3m.random"
local gradcheck = require "support.gradcheck"
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

  it("rejects invalid options and inputs", function()
    assert.has_error(function() models.d3m({channels = 0}) end,
                     "d3m.models.d3m: channels must be a positive integer, got 0")
    local model = models.d3m({channels = 1})
    assert.has_error(function() model:forward(d3m.zeros({1, 3, 6, 6, 6})) end,
                     "D3M: expected input [N, 3, D, H, W] with D, H, W multiples of 4, got "
                     .. "[1, 3, 6, 6, 6]")
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

  it_with_conv("passes a whole-model gradient check", function()
    -- Batch 2 at n = 8 with 4 channels in training mode. h = 3e-3 keeps
    -- most steps off ReLU kinks; float32 rounding of L over 3072 outputs
    -- is about 1e-6 |L| / h. 2% relative catches a wrong or missing path
    -- (a dropped skip gradient changes the input derivative by O(1)).
    local model = models.d3m({channels = 4, seed = 5})
    local x = gradcheck.random_tensor(random.new(6), {2, 3, 8, 8, 8})
    local results = gradcheck.directional(model, x, {h = 3e-3, seed = 7})
    assert.are.equal(1 + #model:named_parameters(), #results)
    gradcheck.assert_close(results, 2e-2, 1e-3)
  end)

  it_with_conv("overfits one sample", function()
    -- One sample at n = 8 and 4 channels, Adam with lr 3e-3: the loss must
    -- fall by a factor of 100 within 400 steps.
    local g = random.new(12)
    local model = models.d3m({channels = 4, seed = 3})
    local x = gradcheck.random_tensor(g, {1, 3, 8, 8, 8})
    local target = gradcheck.random_tensor(g, {1, 3, 8, 8, 8})
    local criterion = d3m.nn.MSELoss()
    local optimizer = d3m.optim.adam(model, {lr = 3e-3, weight_decay = 0})

    local first, loss
    for step = 1, 400 do
      optimizer:zero_grad()
      local y = model:forward(x)
      loss = criterion:forward(y, target)
      first = first or loss
      model:backward(x, criterion:backward(y, target))
      optimizer:step()
      if loss < first / 100 then
        break
      end
    end
    assert.is_true(loss < first / 100, string.format("loss fell from %.4g to %.4g only", first, loss))
  end)
end)
