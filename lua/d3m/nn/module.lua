-- d3m.nn.Module: the base class of the nn modules, in the style of Torch7's
-- nn.Module with PyTorch's naming of parameters and state.
--
-- A module owns its parameters (each with a gradient tensor of the same
-- shape), its buffers (state that is saved but not trained, such as batch
-- norm's running statistics) and named children. forward(input) returns the
-- output. backward(input, grad_output) returns the gradient with respect to
-- the input and adds the parameter gradients to the gradient tensors, so
-- call zero_grad() once per optimiser step. Output tensors are reused from
-- call to call while the shapes stay the same.
local d3m = require "d3m"

local Module = {}
Module.__index = Module
Module.__name = "Module"

--- Creates a subclass: `local Conv3d = Module:extend("Conv3d")`. The class
-- is callable: `Conv3d(...)` runs Conv3d:__init(...) on a new instance.
function Module:extend(name)
  local class = setmetatable({}, {__index = self, __call = function(cls, ...)
    local instance = setmetatable({}, cls)
    instance:__init(...)
    return instance
  end})
  class.__index = class
  class.__name = name
  class.__tostring = self.__tostring
  class.__call = self.__call
  return class
end

setmetatable(Module, {__call = function(cls, ...)
  local instance = setmetatable({}, cls)
  instance:__init(...)
  return instance
end})

function Module:__init()
  self.training = true
  self._parameters = {}   -- ordered {name=, param=, grad=}
  self._buffers = {}      -- ordered {name=, tensor=}
  self._children = {}     -- ordered {name=, module=}
end

function Module:__tostring()
  return string.format("%s (%d parameters)", self.__name, self:num_parameters())
end

--- Registers a trainable tensor under `name` and allocates its gradient
-- (zeros). The tensor is also reachable as self[name].
function Module:register_parameter(name, tensor)
  local grad = d3m.zeros(tensor:shape())
  self._parameters[#self._parameters + 1] = {name = name, param = tensor, grad = grad}
  self[name] = tensor
  self["grad_" .. name] = grad
  return tensor
end

--- Registers a state tensor that is saved but not trained.
function Module:register_buffer(name, tensor)
  self._buffers[#self._buffers + 1] = {name = name, tensor = tensor}
  self[name] = tensor
  return tensor
end

--- Adds a child module under `name` (reachable as self[name]).
function Module:add_module(name, module)
  name = tostring(name)
  self._children[#self._children + 1] = {name = name, module = module}
  self[name] = module
  return module
end

--- Returns the children as an ordered list of {name=, module=}.
function Module:children()
  return self._children
end

local function visit(module, prefix, fn)
  fn(module, prefix)
  for _, child in ipairs(module._children) do
    visit(child.module, prefix .. child.name .. ".", fn)
  end
end

--- Returns every parameter of this module and its descendants as an
-- ordered list of {name=, param=, grad=}, with dotted names as PyTorch's
-- named_parameters() gives them ("layer1.0.conv1.weight").
function Module:named_parameters()
  local list = {}
  visit(self, "", function(module, prefix)
    for _, p in ipairs(module._parameters) do
      list[#list + 1] = {name = prefix .. p.name, param = p.param, grad = p.grad}
    end
  end)
  return list
end

--- Returns every buffer as an ordered list of {name=, tensor=}.
function Module:named_buffers()
  local list = {}
  visit(self, "", function(module, prefix)
    for _, b in ipairs(module._buffers) do
      list[#list + 1] = {name = prefix .. b.name, tensor = b.tensor}
    end
  end)
  return list
end

--- Returns the parameter tensors (ordered as named_parameters).
function Module:parameters()
  local list = {}
  for i, p in ipairs(self:named_parameters()) do
    list[i] = p.param
  end
  return list
end

--- Returns the gradient tensors, aligned with parameters().
function Module:gradients()
  local list = {}
  for i, p in ipairs(self:named_parameters()) do
    list[i] = p.grad
  end
  return list
end

--- Returns the number of trainable scalars.
function Module:num_parameters()
  local count = 0
  for _, p in ipairs(self:named_parameters()) do
    count = count + p.param:numel()
  end
  return count
end

--- Sets every gradient to zero.
function Module:zero_grad()
  for _, p in ipairs(self:named_parameters()) do
    p.grad:fill(0)
  end
  return self
end

--- Drops the references to cached outputs and gradient buffers of this
-- module and its descendants (as Torch7's clearState), so the GC can free
-- their device memory once no caller holds them either. The next forward
-- allocates them again.
function Module:clear_state()
  visit(self, "", function(module)
    module.output = nil
    module.grad_input = nil
  end)
  return self
end

--- Switches this module and its descendants to training mode (mode true,
-- the default) or evaluation mode (mode false).
function Module:train(mode)
  if mode == nil then
    mode = true
  end
  visit(self, "", function(module)
    module.training = mode
  end)
  return self
end

--- Switches to evaluation mode (batch norm uses its running statistics).
function Module:evaluate()
  return self:train(false)
end

--- Returns the state as a table name -> tensor: parameters and buffers
-- under PyTorch's state_dict names. The tensors are the module's own (not
-- copies); copy them to keep a snapshot.
function Module:state_dict()
  local state = {}
  for _, p in ipairs(self:named_parameters()) do
    state[p.name] = p.param
  end
  for _, b in ipairs(self:named_buffers()) do
    state[b.name] = b.tensor
  end
  return state
end

--- Returns the state_dict names in PyTorch's order: each module's
-- parameters, then its buffers, then its children, depth first.
function Module:state_dict_keys()
  local keys = {}
  visit(self, "", function(module, prefix)
    for _, p in ipairs(module._parameters) do
      keys[#keys + 1] = prefix .. p.name
    end
    for _, b in ipairs(module._buffers) do
      keys[#keys + 1] = prefix .. b.name
    end
  end)
  return keys
end

-- PyTorch (>= 0.4.1) saves an integer counter with every batch norm layer;
-- it only matters for momentum = None, which d3m does not offer.
local function is_ignored_key(name)
  return name:match("%.num_batches_tracked$") ~= nil or name == "num_batches_tracked"
end

local function shape_string(shape)
  return "[" .. table.concat(shape, ", ") .. "]"
end

local function copy_into(target, value, name)
  if d3m.is_tensor(value) then
    if value:numel() ~= target:numel() then
      error(string.format("load_state_dict: '%s' has shape %s, expected %s", name,
                          shape_string(value:shape()), shape_string(target:shape())), 3)
    end
    target:copy_from(value)
  elseif type(value) == "table" then
    if #value ~= target:numel() then
      error(string.format("load_state_dict: '%s' has %d numbers, expected %d (shape %s)", name,
                          #value, target:numel(), shape_string(target:shape())), 3)
    end
    target:copy_from(d3m.from_table(value, target:shape()))
  else
    error(string.format("load_state_dict: '%s' is a %s, expected a tensor or a flat table of "
                        .. "numbers", name, type(value)), 3)
  end
end

--- Copies values from `state` (name -> tensor or flat table of numbers)
-- into the parameters and buffers. With strict (the default) every name
-- must be present and no other name may appear, except PyTorch's
-- "*.num_batches_tracked" counters, which are ignored.
function Module:load_state_dict(state, strict)
  if strict == nil then
    strict = true
  end
  local own = self:state_dict()
  if strict then
    local missing, unexpected = {}, {}
    for name in pairs(own) do
      if state[name] == nil then
        missing[#missing + 1] = name
      end
    end
    for name in pairs(state) do
      if own[name] == nil and not is_ignored_key(name) then
        unexpected[#unexpected + 1] = name
      end
    end
    if #missing > 0 or #unexpected > 0 then
      table.sort(missing)
      table.sort(unexpected)
      error("load_state_dict: missing keys {" .. table.concat(missing, ", ")
            .. "}, unexpected keys {" .. table.concat(unexpected, ", ")
            .. "}; pass strict = false to load a subset", 2)
    end
  end
  for name, target in pairs(own) do
    if state[name] ~= nil then
      copy_into(target, state[name], name)
    end
  end
  return self
end

--- Returns `t` when it is a tensor of exactly `shape`, else nil: lets
-- forward passes reuse their output tensors.
function Module.reuse(t, shape)
  if t == nil or t:is_freed() or #t:shape() ~= #shape then
    return nil
  end
  local own = t:shape()
  for i = 1, #shape do
    if own[i] ~= shape[i] then
      return nil
    end
  end
  return t
end

function Module:forward(input)
  error(self.__name .. ":forward is not implemented", 2)
end

function Module:backward(input, grad_output)
  error(self.__name .. ":backward is not implemented", 2)
end

--- Calling a module runs forward: `y = module(x)`.
function Module:__call(...)
  return self:forward(...)
end

return Module
