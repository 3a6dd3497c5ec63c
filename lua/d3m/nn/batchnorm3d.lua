-- d3m.nn.BatchNorm3d(c [, options]): batch normalisation of [N, c, D, H, W]
-- activations as torch.nn.BatchNorm3d (affine, with running statistics).
-- Training mode normalises with the batch mean and biased variance over
-- N, D, H, W. It also updates running_mean and running_var (unbiased) with
-- options.momentum (0.1). Evaluation mode uses the running statistics.
-- options.eps (1e-5) is added to the variance. Weight starts at 1, bias at
-- 0, running_mean at 0 and running_var at 1.
local d3m = require "d3m"
local Module = require "d3m.nn.module"

local BatchNorm3d = Module:extend("BatchNorm3d")

function BatchNorm3d:__init(channels, options)
  Module.__init(self)
  options = options or {}
  self.num_features = channels
  self.momentum = options.momentum or 0.1
  self.eps = options.eps or 1e-5
  self:register_parameter("weight", d3m.full({channels}, 1.0))
  self:register_parameter("bias", d3m.zeros({channels}))
  self:register_buffer("running_mean", d3m.zeros({channels}))
  self:register_buffer("running_var", d3m.full({channels}, 1.0))
  self.save_mean = d3m.zeros({channels})
  self.save_invstd = d3m.zeros({channels})
end

function BatchNorm3d:forward(input)
  local shape = input:shape()
  if #shape < 2 or shape[2] ~= self.num_features then
    error(string.format("BatchNorm3d(%d): expected input [N, %d, ...], got [%s]",
                        self.num_features, self.num_features, table.concat(shape, ", ")), 2)
  end
  -- The mode is remembered so that backward differentiates what forward did.
  self.forward_training = self.training
  local out = Module.reuse(self.output, shape)
  self.output = d3m.ops.batchnorm_forward(input, self.weight, self.bias, self.running_mean,
                                          self.running_var, self.training, self.momentum,
                                          self.eps, out, self.save_mean, self.save_invstd)
  return self.output
end

function BatchNorm3d:backward(input, grad_output)
  local grad_in = Module.reuse(self.grad_input, input:shape())
  self.grad_input = d3m.ops.batchnorm_backward(grad_output, input, self.weight, self.save_mean,
                                               self.save_invstd, self.forward_training,
                                               self.grad_weight, self.grad_bias, grad_in)
  return self.grad_input
end

function BatchNorm3d:__tostring()
  return string.format("BatchNorm3d(%d, momentum %g, eps %g)", self.num_features, self.momentum,
                       self.eps)
end

return BatchNorm3d
