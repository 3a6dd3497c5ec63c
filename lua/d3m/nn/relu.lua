-- d3m.nn.ReLU(): max(x, 0) elementwise, into its own output tensor.
local d3m = require "d3m"
local Module = require "d3m.nn.module"

local ReLU = Module:extend("ReLU")

function ReLU:forward(input)
  self.output = d3m.ops.relu_forward(input, Module.reuse(self.output, input:shape()))
  return self.output
end

-- The forward output has the input's sign pattern, so either works here.
function ReLU:backward(input, grad_output)
  local grad_in = Module.reuse(self.grad_input, input:shape())
  self.grad_input = d3m.ops.relu_backward(grad_output, input, grad_in)
  return self.grad_input
end

function ReLU:__tostring()
  return "ReLU"
end

return ReLU
