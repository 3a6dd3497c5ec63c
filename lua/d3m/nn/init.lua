-- d3m.nn: Torch7-style modules on d3m tensors, activations [N, C, D, H, W].
-- Every module has forward(input) and backward(input, grad_output), which
-- returns the input gradient and accumulates parameter gradients. The rest
-- of the protocol (parameters, gradients, modes, state_dict) is in
-- module.lua.
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
