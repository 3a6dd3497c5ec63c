-- d3m.nn.ChannelConcat(): forward({a, b, ...}) stacks activations along the
-- channel axis (torch.cat(dim=1)); backward({a, b, ...}, grad) returns the
-- list of gradient blocks, one per input.
local d3m = require "d3m"
local Module = require "d3m.nn.module"

local ChannelConcat = Module:extend("ChannelConcat")

local function concat_shape(inputs)
  local shape = inputs[1]:shape()
  shape[2] = 0
  for _, t in ipairs(inputs) do
    shape[2] = shape[2] + t:shape()[2]
  end
  return shape
end

function ChannelConcat:forward(inputs)
  self.output = d3m.ops.concat(inputs, Module.reuse(self.output, concat_shape(inputs)))
  return self.output
end

function ChannelConcat:backward(inputs, grad_output)
  local previous = self.grad_input or {}
  local parts = {}
  for i, t in ipairs(inputs) do
    parts[i] = Module.reuse(previous[i], t:shape()) or t:shape()[2]
  end
  self.grad_input = d3m.ops.split(grad_output, parts)
  return self.grad_input
end

function ChannelConcat:__tostring()
  return "ChannelConcat"
end

return ChannelConcat
