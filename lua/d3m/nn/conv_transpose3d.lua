-- d3m.nn.ConvTranspose3d(cin, cout [, k [, options]]): the D3M up-sampling
-- step. k = 3 (default): periodic pad of one voxel on the high side, a
-- stride-2 transposed convolution without padding, and a crop of 1 voxel at
-- the start and 2 at the end of each axis, so [N, cin, n, n, n] becomes
-- [N, cout, 2n, 2n, 2n] with, per axis, y[2m] = w1 x[m] and
-- y[2m+1] = w0 x[m+1 mod n] + w2 x[m]. k = 1: stride 1, a per-voxel channel
-- mix (the network's output layer). Weight [cin, cout, k, k, k] and bias
-- [cout] use torch.nn.ConvTranspose3d's layout and initialisation.
local d3m = require "d3m"
local Module = require "d3m.nn.module"
local init = require "d3m.nn.init_weights"

local ConvTranspose3d = Module:extend("ConvTranspose3d")

function ConvTranspose3d:__init(cin, cout, k, options)
  Module.__init(self)
  k = k or 3
  if k ~= 1 and k ~= 3 then
    error("ConvTranspose3d: kernel size must be 3 (stride 2) or 1 (stride 1), got "
          .. tostring(k), 3)
  end
  self.in_channels, self.out_channels, self.kernel_size = cin, cout, k
  -- PyTorch computes the fan-in from weight.size(1) = cout for transposed
  -- convolutions, so the bound is 1/sqrt(cout k^3).
  local fan_in = cout * k * k * k
  self:register_parameter("weight", init.uniform({cin, cout, k, k, k}, fan_in, options))
  self:register_parameter("bias", init.uniform({cout}, fan_in, options))
end

function ConvTranspose3d:output_shape(input)
  local shape = input:shape()
  if #shape ~= 5 or shape[2] ~= self.in_channels then
    error(string.format("ConvTranspose3d(%d -> %d): expected input [N, %d, D, H, W], got [%s]",
                        self.in_channels, self.out_channels, self.in_channels,
                        table.concat(shape, ", ")), 3)
  end
  local f = self.kernel_size == 3 and 2 or 1
  return {shape[1], self.out_channels, f * shape[3], f * shape[4], f * shape[5]}
end

function ConvTranspose3d:forward(input)
  local out = Module.reuse(self.output, self:output_shape(input))
  if self.kernel_size == 1 then
    self.output = d3m.ops.pointwise_forward(input, self.weight, self.bias, out)
  else
    self.output = d3m.ops.conv_transpose3d_forward(input, self.weight, self.bias, out)
  end
  return self.output
end

function ConvTranspose3d:backward(input, grad_output)
  local grad_in = Module.reuse(self.grad_input, input:shape())
  local ops = d3m.ops
  if self.kernel_size == 1 then
    self.grad_input = ops.pointwise_backward_input(grad_output, self.weight, grad_in)
    ops.pointwise_backward_weight(grad_output, input, self.grad_weight, self.grad_bias)
  else
    self.grad_input = ops.conv_transpose3d_backward_input(grad_output, self.weight, grad_in)
    ops.conv_transpose3d_backward_weight(grad_output, input, self.grad_weight, self.grad_bias)
  end
  return self.grad_input
end

function ConvTranspose3d:__tostring()
  return string.format("ConvTranspose3d(%d -> %d, k %d)", self.in_channels, self.out_channels,
                       self.kernel_size)
end

return ConvTranspose3d
