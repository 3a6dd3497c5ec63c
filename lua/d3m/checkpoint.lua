-- d3m.checkpoint: D3M models and their Adam state in HDF5, written
-- atomically (a temporary file renamed over the old one), so a run killed
-- while saving keeps its previous checkpoint.
--
-- Layout (readable by h5py):
--   /params/<name>              float32, ML-Recon state_dict names
--                               ("layer1.0.conv1.weight", ...)
--   /buffers/<name>             batch-norm running_mean / running_var
--   /optim/exp_avg/<name>       Adam first moments, one per parameter
--   /optim/exp_avg_sq/<name>    Adam second moments
--   /optim attributes           step, lr, beta1, beta2, eps, weight_decay,
--                               decoupled (0 or 1)
--   / attributes                format = "d3m checkpoint", format_version,
--                               channels, residual (0 or 1),
--                               software_version, and what the
--                               caller adds (epoch, iteration, seed, ...)
-- A model-only file (best.h5) has no /optim.
local d3m = require "d3m"

local checkpoint = {}

checkpoint.FORMAT = "d3m checkpoint"
checkpoint.FORMAT_VERSION = 1


--- Writes model (a d3m.models.d3m network), optionally optimizer (a
-- d3m.optim.adam) and the root attributes attrs to path, atomically.
function checkpoint.save(path, model, optimizer, attrs)
  local root = {
    format = checkpoint.FORMAT, format_version = checkpoint.FORMAT_VERSION,
    channels = model.channels, residual = model.residual and 1 or 0,
    software_version = "d3m " .. d3m.version,
  }
  for name, value in pairs(attrs or {}) do
    root[name] = value
  end

  d3m.io.write_file(path, function(file)
    for _, p in ipairs(model:named_parameters()) do
      file:write("/params/" .. p.name, p.param)
    end
    for _, b in ipairs(model:named_buffers()) do
      file:write("/buffers/" .. b.name, b.tensor)
    end
    if optimizer then
      local state = optimizer:state_dict()
      for _, name in ipairs(optimizer.names) do
        file:write("/optim/exp_avg/" .. name, state.exp_avg[name])
        file:write("/optim/exp_avg_sq/" .. name, state.exp_avg_sq[name])
      end
      file:set_attributes("/optim", {
        step = state.step, lr = state.lr, beta1 = state.betas[1], beta2 = state.betas[2],
        eps = state.eps, weight_decay = state.weight_decay, decoupled = state.decoupled and 1 or 0,
      })
    end
    file:set_attributes("/", root)
  end)
end


-- Every dataset under group ("/params") as name -> tensor.
local function read_group(file, entries, group)
  local tensors, prefix = {}, group .. "/"
  for _, entry in ipairs(entries) do
    if entry.kind == "dataset" and entry.name:sub(1, #prefix) == prefix then
      tensors[entry.name:sub(#prefix + 1)] = file:read(entry.name)
    end
  end
  return tensors
end


--- Reads a checkpoint: {attrs = root attributes, params = name -> tensor,
-- buffers = name -> tensor, optim = Adam state_dict or nil}.
function checkpoint.read(path)
  local exists = io.open(path, "rb")
  if not exists then
    error(string.format("checkpoint '%s' not found", tostring(path)), 2)
  end
  exists:close()

  local file <close> = d3m.io.open(path, "r")
  local attrs = file:attributes("/")
  if attrs.format ~= checkpoint.FORMAT then
    error(string.format("'%s' is not a d3m checkpoint (its root attribute format is %s)", path,
      attrs.format and ("'" .. tostring(attrs.format) .. "'") or "missing"), 2)
  end
  local entries = file:list()
  local result = {
    attrs = attrs, params = read_group(file, entries, "/params"),
    buffers = read_group(file, entries, "/buffers"),
  }
  if file:exists("/optim") then
    local o = file:attributes("/optim")
    result.optim = {
      step = o.step, lr = o.lr, betas = {o.beta1, o.beta2}, eps = o.eps,
      weight_decay = o.weight_decay, decoupled = o.decoupled == 1,
      exp_avg = read_group(file, entries, "/optim/exp_avg"),
      exp_avg_sq = read_group(file, entries, "/optim/exp_avg_sq"),
    }
  end
  return result
end


--- Copies a checkpoint read by checkpoint.read into model and (when given)
-- optimizer. Raises when the checkpoint's width differs from the model's.
function checkpoint.restore(state, model, optimizer, path)
  local channels = state.attrs.channels
  if channels ~= model.channels then
    error(string.format("checkpoint '%s' holds a model with channels = %s, but this model has "
      .. "channels = %d; pass --channels %s or start a new output folder", path or "?",
      tostring(channels), model.channels, tostring(channels)), 2)
  end
  local residual = (state.attrs.residual or 0) == 1
  if residual ~= (model.residual or false) then
    error(string.format("checkpoint '%s' holds a model with residual = %s, but this model has "
      .. "residual = %s; pass the same --residual setting or start a new output folder",
      path or "?", tostring(residual), tostring(model.residual or false)), 2)
  end
  local combined = {}
  for name, tensor in pairs(state.params) do
    combined[name] = tensor
  end
  for name, tensor in pairs(state.buffers) do
    combined[name] = tensor
  end
  model:load_state_dict(combined)

  if optimizer then
    if not state.optim then
      error(string.format("checkpoint '%s' has no optimizer state (/optim); it cannot resume "
        .. "training. Use the last.h5 checkpoint of the run", path or "?"), 2)
    end
    optimizer:load_state_dict(state.optim)
  end
  return state.attrs
end


--- Builds the network stored at path in evaluation mode. Returns the model
-- and the checkpoint's root attributes.
function checkpoint.load_model(path)
  local state = checkpoint.read(path)
  local channels = state.attrs.channels
  if math.type(channels) ~= "integer" then
    error(string.format("checkpoint '%s' has no integer 'channels' attribute", path), 2)
  end
  local model = d3m.models.d3m{channels = channels, residual = (state.attrs.residual or 0) == 1}
  checkpoint.restore(state, model, nil, path)
  model:evaluate()
  return model, state.attrs
end


return checkpoint
