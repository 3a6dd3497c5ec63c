-- d3m.nn.ReLU([options]): max(x, 0) elementwise. With options.inplace the
-- result overwrites the input tensor (as torch.nn.ReLU(inplace=True)),
-- which saves one activation per layer; the input's previous values are
-- then gone, so use it only where no other module needs them later.
local d3m = require "d3m"
local Module = require "d3m.nn.module"

local ReLU = Module:extend("ReLU")

function ReLU:__init(options)
  Module.__init(self)
  self.inplace = options and options.inplace or false
end

function ReLU:forward(input)
  local out = self.inplace and input or Module.reuse(self.output, input:shape())
  self.output = d3m.ops.relu_forward(input, out)
  return self.output
end

-- The forward output has the input's sign pattern, so the mask comes from
-- it; that also works after an in-place forward.
function ReLU:backward(input, grad_output)
  local grad_in = Module.reuse(self.grad_input, input:shape())
  self.grad_input = d3m.ops.relu_backward(grad_output, self.output, grad_in)
  return self.grad_input
end

function ReLU:__tostring()
  return self.inplace and "ReLU(inplace)" or "ReLU"
end

return ReLU
