-- d3m.nn.MSELoss(): the mean over all elements of (prediction - target)^2,
-- as torch.nn.MSELoss(reduction = "mean"). forward returns a Lua number;
-- backward returns d loss / d prediction.
local d3m = require "d3m"
local Module = require "d3m.nn.module"

local MSELoss = Module:extend("MSELoss")

function MSELoss:forward(prediction, target)
  self.output = d3m.ops.mse_loss(prediction, target)
  return self.output
end

function MSELoss:backward(prediction, target)
  local grad_in = Module.reuse(self.grad_input, prediction:shape())
  self.grad_input = d3m.ops.mse_backward(prediction, target, grad_in)
  return self.grad_input
end

function MSELoss:__tostring()
  return "MSELoss"
end

return MSELoss
