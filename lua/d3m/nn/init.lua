-- d3m.nn: Torch7-style modules on d3m tensors. Every module has
-- forward(input), backward(input, grad_output) (returns the input gradient
-- and accumulates parameter gradients), parameters(), gradients(),
-- named_parameters(), zero_grad(), train() / evaluate(), state_dict() and
-- load_state_dict(); see module.lua. Activations are [N, C, D, H, W].
local init = require "d3m.nn.init_weights"

local nn = {
  Module = require "d3m.nn.module",
  Sequential = require "d3m.nn.sequential",
  Conv3d = require "d3m.nn.conv3d",
  ConvTranspose3d = require "d3m.nn.conv_transpose3d",
  BatchNorm3d = require "d3m.nn.batchnorm3d",
  ReLU = require "d3m.nn.relu",
  ChannelConcat = require "d3m.nn.channel_concat",
  MSELoss = require "d3m.nn.mse_loss",
}

--- Resets the generator that initialises new modules (seed: integer).
nn.manual_seed = init.manual_seed

return nn
