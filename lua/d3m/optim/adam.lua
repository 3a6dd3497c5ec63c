-- d3m.optim.adam(params, options): Adam (Kingma & Ba 2015) as
-- torch.optim.Adam computes it, or AdamW (Loshchilov & Hutter 2019) with
-- decoupled = true. Each step runs the fused update of d3m.ops.adam_step.
--
-- params: a d3m.nn module, or a list of {param = tensor, grad = tensor
-- [, name = string]} as module:named_parameters() returns.
-- options (defaults are the D3M paper's training settings):
--   lr = 1e-4, betas = {0.9, 0.999}, eps = 1e-8,
--   weight_decay = 1e-4   L2 coefficient,
--   decoupled = false     false: added to the gradient (torch.optim.Adam);
--                         true: p *= 1 - lr weight_decay (torch.optim.AdamW).
local d3m = require "d3m"

local Adam = {}
Adam.__index = Adam
Adam.__name = "d3m.optim.adam"

local function entries_of(params)
  if type(params) == "table" and type(params.named_parameters) == "function" then
    return params:named_parameters()
  end
  if type(params) ~= "table" or #params == 0 then
    error("d3m.optim.adam: params must be a d3m.nn module or a non-empty list of "
          .. "{param = tensor, grad = tensor}", 3)
  end
  for i, entry in ipairs(params) do
    if type(entry) ~= "table" or not d3m.is_tensor(entry.param) or not d3m.is_tensor(entry.grad) then
      error("d3m.optim.adam: params entry " .. i .. " must be {param = tensor, grad = tensor}", 3)
    end
  end
  return params
end

local function check_number(value, name, low, high)
  if type(value) ~= "number" or value < low or value > high then
    error(string.format("d3m.optim.adam: %s must be a number in [%g, %g], got %s", name, low,
                        high, tostring(value)), 3)
  end
  return value
end

local function new(params, options)
  options = options or {}
  local betas = options.betas or {0.9, 0.999}
  local self = setmetatable({}, Adam)
  self.lr = check_number(options.lr or 1e-4, "lr", 0, math.huge)
  self.beta1 = check_number(betas[1], "betas[1]", 0, 0.999999999)
  self.beta2 = check_number(betas[2], "betas[2]", 0, 0.999999999)
  self.eps = check_number(options.eps or 1e-8, "eps", 1e-300, math.huge)
  self.weight_decay = check_number(options.weight_decay or 1e-4, "weight_decay", 0, math.huge)
  self.decoupled = options.decoupled or false
  self.step_count = 0

  self.names, self.params, self.grads, self.exp_avg, self.exp_avg_sq = {}, {}, {}, {}, {}
  for i, entry in ipairs(entries_of(params)) do
    self.names[i] = entry.name or tostring(i)
    self.params[i] = entry.param
    self.grads[i] = entry.grad
    self.exp_avg[i] = d3m.zeros(entry.param:shape())
    self.exp_avg_sq[i] = d3m.zeros(entry.param:shape())
  end
  return self
end

--- Applies one update with the current gradients.
function Adam:step()
  self.step_count = self.step_count + 1
  d3m.ops.adam_step(self.params, self.grads, self.exp_avg, self.exp_avg_sq, self.step_count, {
    lr = self.lr, beta1 = self.beta1, beta2 = self.beta2, eps = self.eps,
    weight_decay = self.weight_decay, decoupled = self.decoupled,
  })
  return self
end

--- Sets every gradient to zero.
function Adam:zero_grad()
  for _, grad in ipairs(self.grads) do
    grad:fill(0)
  end
  return self
end

--- Returns the optimiser state for a checkpoint: step (number of updates
-- done), the hyperparameters, and exp_avg / exp_avg_sq as tables
-- name -> tensor keyed by the parameter names (the module's
-- named_parameters names, or "1", "2", ... for a plain list). The tensors
-- are the optimiser's own; copy them to keep a snapshot.
function Adam:state_dict()
  local state = {
    step = self.step_count, lr = self.lr, betas = {self.beta1, self.beta2}, eps = self.eps,
    weight_decay = self.weight_decay, decoupled = self.decoupled,
    exp_avg = {}, exp_avg_sq = {},
  }
  for i, name in ipairs(self.names) do
    state.exp_avg[name] = self.exp_avg[i]
    state.exp_avg_sq[name] = self.exp_avg_sq[i]
  end
  return state
end

--- Restores a state_dict(): the step count, the hyperparameters present
-- and the moments (tensors or flat tables of numbers) of every parameter.
function Adam:load_state_dict(state)
  if math.type(state.step) ~= "integer" or state.step < 0 then
    error("adam:load_state_dict: step must be a non-negative integer, got "
          .. tostring(state.step), 2)
  end
  for i, name in ipairs(self.names) do
    for _, key in ipairs({"exp_avg", "exp_avg_sq"}) do
      local value = state[key] and state[key][name]
      if value == nil then
        error("adam:load_state_dict: " .. key .. " of parameter '" .. name .. "' is missing", 2)
      end
      if not d3m.is_tensor(value) then
        value = d3m.from_table(value, self.params[i]:shape())
      end
      if value:numel() ~= self.params[i]:numel() then
        error(string.format("adam:load_state_dict: %s of '%s' has %d elements, expected %d", key,
                            name, value:numel(), self.params[i]:numel()), 2)
      end
      self[key][i]:copy_from(value)
    end
  end
  self.step_count = state.step
  self.lr = state.lr or self.lr
  if state.betas then
    self.beta1, self.beta2 = state.betas[1], state.betas[2]
  end
  self.eps = state.eps or self.eps
  self.weight_decay = state.weight_decay or self.weight_decay
  if state.decoupled ~= nil then
    self.decoupled = state.decoupled
  end
  return self
end

return new
