-- d3m.nn.Sequential(m1, m2, ...): applies its children in order. Children
-- are named "0", "1", ... as in torch.nn.Sequential, so parameter names
-- read "layer1.0.conv1.weight".
local Module = require "d3m.nn.module"

local Sequential = Module:extend("Sequential")

function Sequential:__init(...)
  Module.__init(self)
  for _, module in ipairs({...}) do
    self:add(module)
  end
end

--- Appends a module; returns self for chaining.
function Sequential:add(module)
  self:add_module(tostring(#self._children), module)
  return self
end

function Sequential:forward(input)
  local x = input
  for _, child in ipairs(self._children) do
    x = child.module:forward(x)
  end
  self.output = x
  return x
end

function Sequential:backward(input, grad_output)
  local grad = grad_output
  for i = #self._children, 1, -1 do
    local previous = i > 1 and self._children[i - 1].module.output or input
    grad = self._children[i].module:backward(previous, grad)
  end
  self.grad_input = grad
  return grad
end

function Sequential:__tostring()
  local lines = {"Sequential"}
  for _, child in ipairs(self._children) do
    lines[#lines + 1] = "  (" .. child.name .. "): " .. tostring(child.module)
  end
  return table.concat(lines, "\n")
end

return Sequential
