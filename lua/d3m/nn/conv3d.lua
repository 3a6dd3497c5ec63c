-- d3m.nn.Conv3d(cin, cout, k, stride [, options]): a 3-D convolution with
-- bias on [N, C, D, H, W] activations. k = 3 pads each axis periodically by
-- one voxel (no zeros); k = 1 does not pad. Output extents are
-- (n - 1) // stride + 1. Weight [cout, cin, k, k, k] and bias [cout] use
-- torch.nn.Conv3d's layout and default initialisation (see init.lua).
local d3m = require "d3m"
local Module = require "d3m.nn.module"
local init = require "d3m.nn.init_weights"

local Conv3d = Module:extend("Conv3d")

function Conv3d:__init(cin, cout, k, stride, options)
  Module.__init(self)
  k = k or 3
  stride = stride or 1
  if k ~= 1 and k ~= 3 then
    error("Conv3d: kernel size must be 1 or 3, got " .. tostring(k), 3)
  end
  self.in_channels, self.out_channels, self.kernel_size, self.stride = cin, cout, k, stride
  -- torch.nn.Conv3d: fan_in = cin k^3 for both weight and bias bounds.
  local fan_in = cin * k * k * k
  self:register_parameter("weight", init.uniform({cout, cin, k, k, k}, fan_in, options))
  self:register_parameter("bias", init.uniform({cout}, fan_in, options))
end

function Conv3d:output_shape(input)
  local shape = input:shape()
  if #shape ~= 5 or shape[2] ~= self.in_channels then
    error(string.format("Conv3d(%d -> %d): expected input [N, %d, D, H, W], got [%s]",
                        self.in_channels, self.out_channels, self.in_channels,
                        table.concat(shape, ", ")), 3)
  end
  local s = self.stride
  return {shape[1], self.out_channels, (shape[3] - 1) // s + 1, (shape[4] - 1) // s + 1,
          (shape[5] - 1) // s + 1}
end

function Conv3d:forward(input)
  local out = Module.reuse(self.output, self:output_shape(input))
  self.output = d3m.ops.conv3d_forward(input, self.weight, self.bias, self.stride, out)
  return self.output
end

function Conv3d:backward(input, grad_output)
  local grad_in = Module.reuse(self.grad_input, input:shape())
  self.grad_input = d3m.ops.conv3d_backward_input(grad_output, self.weight, self.stride,
                                                  grad_in, input:shape())
  d3m.ops.conv3d_backward_weight(grad_output, input, self.stride, self.grad_weight,
                                 self.grad_bias)
  return self.grad_input
end

function Conv3d:__tostring()
  return string.format("Conv3d(%d -> %d, k %d, stride %d)", self.in_channels, self.out_channels,
                       self.kernel_size, self.stride)
end

return Conv3d
