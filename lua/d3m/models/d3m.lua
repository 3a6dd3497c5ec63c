-- d3m.models.d3m{channels = 64, seed = 0}: the D3M U-Net of He et al. 2019
-- (PNAS 116, 13825), mapping Zel'dovich displacements [N, 3, n, n, n] to
-- N-body displacements of the same shape (n a multiple of 4).
--
-- Every 3x3x3 convolution pads periodically by one voxel and is followed by
-- BatchNorm3d and ReLU. Down path: 3 -> c -> c (x1, n^3), c -> 2c stride 2,
-- 2c -> 2c twice (x2, (n/2)^3), 2c -> 4c stride 2, 4c -> 4c twice. Up path:
-- ConvTranspose3d 4c -> 2c to (n/2)^3, BN, ReLU, concat with x2, 4c -> 2c,
-- 2c -> 2c; ConvTranspose3d 2c -> c to n^3, BN, ReLU, concat with x1,
-- 2c -> c, c -> c; a 1x1x1 transposed convolution c -> 3 with bias ends it
-- (no BN, no activation, no skip from the input). c = channels = 64 gives
-- 8,415,939 trainable parameters.
--
-- Parameter and buffer names are those of ML-Recon's PyTorch model
-- (Lpt2NbodyNet with BasicBlock), so checkpoints map one to one:
--   layer1.0.conv1.{weight,bias}  layer1.0.bn1.{weight,bias,running_mean,running_var}
--   layer1.1.*  layer2.0.*  layer3.{0,1}.*  layer4.0.*  layer5.{0,1}.*
--   deconv1.{weight,bias}  deconv_batchnorm1.{weight,bias,running_mean,running_var}
--   layer6.{0,1}.*  deconv2.*  deconv_batchnorm2.*  layer7.{0,1}.*  deconv4.{weight,bias}
-- Transposed-convolution weights are [cin, cout, k, k, k]; deconv4.weight is
-- [c, 3, 1, 1, 1]. PyTorch's num_batches_tracked counters are not kept.
local d3m = require "d3m"
local nn = require "d3m.nn"
local random = require "d3m.random"

local Module = nn.Module

-- The layers in registration order. Each "blocks" entry lists its
-- BasicBlocks as {cin, cout, stride}.
local function architecture(c)
  return {
    {name = "layer1", kind = "blocks", blocks = {{3, c, 1}, {c, c, 1}}},
    {name = "layer2", kind = "blocks", blocks = {{c, 2 * c, 2}}},
    {name = "layer3", kind = "blocks", blocks = {{2 * c, 2 * c, 1}, {2 * c, 2 * c, 1}}},
    {name = "layer4", kind = "blocks", blocks = {{2 * c, 4 * c, 2}}},
    {name = "layer5", kind = "blocks", blocks = {{4 * c, 4 * c, 1}, {4 * c, 4 * c, 1}}},
    {name = "deconv1", kind = "up", cin = 4 * c, cout = 2 * c},
    {name = "deconv_batchnorm1", kind = "bn", channels = 2 * c},
    {name = "layer6", kind = "blocks", blocks = {{4 * c, 2 * c, 1}, {2 * c, 2 * c, 1}}},
    {name = "deconv2", kind = "up", cin = 2 * c, cout = c},
    {name = "deconv_batchnorm2", kind = "bn", channels = c},
    {name = "layer7", kind = "blocks", blocks = {{2 * c, c, 1}, {c, c, 1}}},
    {name = "deconv4", kind = "out", cin = c, cout = 3},
  }
end

local function check_options(options)
  options = options or {}
  local channels = options.channels or 64
  if math.type(channels) ~= "integer" or channels < 1 then
    error("d3m.models.d3m: channels must be a positive integer, got " .. tostring(channels), 3)
  end
  local seed = options.seed or 0
  if math.type(seed) ~= "integer" then
    error("d3m.models.d3m: seed must be an integer, got " .. tostring(seed), 3)
  end
  local residual = options.residual or false
  if type(residual) ~= "boolean" then
    error("d3m.models.d3m: residual must be a boolean, got " .. tostring(residual), 3)
  end
  return channels, seed, residual
end

--- Returns the trainable parameters of the network with these options as an
-- ordered list of {name=, shape=}, without allocating anything.
local function parameter_shapes(options)
  local channels = check_options(options)
  local list = {}
  local function add(name, shape)
    list[#list + 1] = {name = name, shape = shape}
  end
  for _, layer in ipairs(architecture(channels)) do
    if layer.kind == "blocks" then
      for i, b in ipairs(layer.blocks) do
        local prefix = layer.name .. "." .. (i - 1) .. "."
        add(prefix .. "conv1.weight", {b[2], b[1], 3, 3, 3})
        add(prefix .. "conv1.bias", {b[2]})
        add(prefix .. "bn1.weight", {b[2]})
        add(prefix .. "bn1.bias", {b[2]})
      end
    elseif layer.kind == "bn" then
      add(layer.name .. ".weight", {layer.channels})
      add(layer.name .. ".bias", {layer.channels})
    else
      local k = layer.kind == "up" and 3 or 1
      add(layer.name .. ".weight", {layer.cin, layer.cout, k, k, k})
      add(layer.name .. ".bias", {layer.cout})
    end
  end
  return list
end

--- Returns the number of trainable scalars, without allocating anything.
local function count_parameters(options)
  local total = 0
  for _, p in ipairs(parameter_shapes(options)) do
    local n = 1
    for _, extent in ipairs(p.shape) do
      n = n * extent
    end
    total = total + n
  end
  return total
end


-- ML-Recon's BasicBlock: periodic 3x3x3 convolution, BatchNorm3d, ReLU.
local BasicBlock = Module:extend("BasicBlock")

function BasicBlock:__init(cin, cout, stride, init_options)
  Module.__init(self)
  self:add_module("conv1", nn.Conv3d(cin, cout, 3, stride, init_options))
  self:add_module("bn1", nn.BatchNorm3d(cout))
  -- In place, as in ML-Recon: batch norm's backward needs its input, not
  -- its output, so the output can hold the activation.
  self:add_module("relu", nn.ReLU({inplace = true}))
end

function BasicBlock:forward(input)
  local h = self.conv1:forward(input)
  h = self.bn1:forward(h)
  self.output = self.relu:forward(h)
  return self.output
end

function BasicBlock:backward(input, grad_output)
  local g = self.relu:backward(self.bn1.output, grad_output)
  g = self.bn1:backward(self.conv1.output, g)
  self.grad_input = self.conv1:backward(input, g)
  return self.grad_input
end


local D3M = Module:extend("D3M")

function D3M:__init(options)
  Module.__init(self)
  local channels, seed, residual = check_options(options)
  self.channels = channels
  -- residual = true adds the input to the output, so the network learns the
  -- correction to the Zel'dovich displacement. This is not in He et al.
  -- (2019), whose network has no skip from the input; it trains much
  -- faster at small widths and budgets.
  self.residual = residual
  local init_options = {generator = random.new(seed)}

  for _, layer in ipairs(architecture(channels)) do
    if layer.kind == "blocks" then
      local sequence = nn.Sequential()
      for _, b in ipairs(layer.blocks) do
        sequence:add(BasicBlock(b[1], b[2], b[3], init_options))
      end
      self:add_module(layer.name, sequence)
    elseif layer.kind == "bn" then
      self:add_module(layer.name, nn.BatchNorm3d(layer.channels))
    elseif layer.kind == "up" then
      self:add_module(layer.name, nn.ConvTranspose3d(layer.cin, layer.cout, 3, init_options))
    else
      self:add_module(layer.name, nn.ConvTranspose3d(layer.cin, layer.cout, 1, init_options))
    end
  end
  -- Stateless pieces of the up path; not children, so they add no names.
  self.up_relu1, self.up_relu2 = nn.ReLU({inplace = true}), nn.ReLU({inplace = true})
  self.concat1, self.concat2 = nn.ChannelConcat(), nn.ChannelConcat()
end

function D3M:forward(input)
  local shape = input:shape()
  if #shape ~= 5 or shape[2] ~= 3 or shape[3] % 4 ~= 0 or shape[4] % 4 ~= 0
     or shape[5] % 4 ~= 0 then
    error("D3M: expected input [N, 3, D, H, W] with D, H, W multiples of 4, got ["
          .. table.concat(shape, ", ") .. "]", 2)
  end
  local x1 = self.layer1:forward(input)
  local x2 = self.layer3:forward(self.layer2:forward(x1))
  local h = self.layer5:forward(self.layer4:forward(x2))

  h = self.deconv1:forward(h)
  h = self.up_relu1:forward(self.deconv_batchnorm1:forward(h))
  h = self.layer6:forward(self.concat1:forward({h, x2}))

  h = self.deconv2:forward(h)
  h = self.up_relu2:forward(self.deconv_batchnorm2:forward(h))
  h = self.layer7:forward(self.concat2:forward({h, x1}))

  self.output = self.deconv4:forward(h)
  if self.residual then
    -- In place: the 1x1x1 layer's backward needs its input, not its output.
    self.output:add(input)
  end
  return self.output
end

function D3M:backward(input, grad_output)
  local x1, x2 = self.layer1.output, self.layer3.output

  local g = self.deconv4:backward(self.layer7.output, grad_output)
  g = self.layer7:backward(self.concat2.output, g)
  local parts = self.concat2:backward({self.up_relu2.output, x1}, g)
  local grad_x1 = parts[2]
  g = self.up_relu2:backward(self.deconv_batchnorm2.output, parts[1])
  g = self.deconv_batchnorm2:backward(self.deconv2.output, g)
  g = self.deconv2:backward(self.layer6.output, g)

  g = self.layer6:backward(self.concat1.output, g)
  parts = self.concat1:backward({self.up_relu1.output, x2}, g)
  local grad_x2 = parts[2]
  g = self.up_relu1:backward(self.deconv_batchnorm1.output, parts[1])
  g = self.deconv_batchnorm1:backward(self.deconv1.output, g)
  g = self.deconv1:backward(self.layer5.output, g)
  g = self.layer5:backward(self.layer4.output, g)
  g = self.layer4:backward(x2, g)

  -- x2 and x1 feed both the next layer and a skip connection, so their
  -- gradients are sums. The split outputs are overwritten every backward,
  -- so adding into them is safe.
  grad_x2:add(g)
  g = self.layer3:backward(self.layer2.output, grad_x2)
  g = self.layer2:backward(x1, g)
  grad_x1:add(g)
  self.grad_input = self.layer1:backward(input, grad_x1)
  if self.residual then
    self.grad_input:add(grad_output)
  end
  return self.grad_input
end

function D3M:__tostring()
  return string.format("D3M(channels %d, %d parameters%s)", self.channels, self:num_parameters(),
    self.residual and ", residual" or "")
end


local models_d3m = {
  D3M = D3M,
  BasicBlock = BasicBlock,
  parameter_shapes = parameter_shapes,
  count_parameters = count_parameters,
}

return setmetatable(models_d3m, {__call = function(_, options)
  return D3M(options)
end})
