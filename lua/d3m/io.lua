-- d3m.io: HDF5 and .npy files. Path-based functions open, act and close;
-- file objects (d3m.io.open, d3m.io.create_atomic) and training-set objects
-- (d3m.io.dataset) come from the C half, d3m.core.io. Sample indices count
-- from 1. Errors name the file, the object in it and the problem.
local core = require "d3m.core"

local cio = core.io
local io_module = {}

for name, value in pairs(cio) do
  io_module[name] = value
end

-- Root attributes that d3m.io.dataset manages itself.
local MANAGED_ATTRIBUTES = { box_size = true, n = true, software_version = true }


-- Errors raised by the C half carry the position of the call inside this
-- file. Stripping it lets error(message, level) name the user's line.
local function strip_position(message)
  if type(message) == "string" then
    return (message:gsub("^[^\n]-d3m/io%.lua:%d+: ", ""))
  end
  return message
end


-- Open path, run action(file) and close the file, also on errors, which
-- are raised at the line that called the public function.
-- Callers must not tail-call it (write "local v = with_file(...)"): a tail
-- call removes their frame, and level 3 would then name the wrong line.
local function with_file(path, mode, action)
  local ok, result, extra = pcall(function()
    local file <close> = cio.open(path, mode)
    return action(file)
  end)
  if not ok then
    error(strip_position(result), 3)
  end
  return result, extra
end


--- Write a tensor (float32) or a table of integers (int64) as dataset name,
-- creating the file and parent groups as needed. attrs go on the dataset.
function io_module.write(path, name, value, attrs)
  with_file(path, "a", function(file) file:write(name, value, attrs) end)
end


--- Read a floating-point dataset as a tensor (float64 converts to float32).
function io_module.read(path, name)
  local value = with_file(path, "r", function(file) return file:read(name) end)
  return value
end


--- Read an integer dataset: a flat table of integers and its shape.
function io_module.read_integers(path, name)
  local values, shape = with_file(path, "r", function(file) return file:read_integers(name) end)
  return values, shape
end


--- Attributes of object ("/" when absent) as a table name -> value.
function io_module.attributes(path, object)
  local value = with_file(path, "r", function(file) return file:attributes(object or "/") end)
  return value
end


function io_module.set_attributes(path, object, attrs)
  with_file(path, "r+", function(file) file:set_attributes(object, attrs) end)
end


--- Every group and dataset: {{name="/za", kind="dataset", shape={...}, dtype="float32"}, ...}
function io_module.list(path)
  local value = with_file(path, "r", function(file) return file:list() end)
  return value
end


function io_module.info(path, name)
  local value = with_file(path, "r", function(file) return file:info(name) end)
  return value
end


--- Write a whole file atomically: fill(file) writes into a temporary file
-- in the same folder, which replaces path only after fill returns. If fill
-- raises, the temporary file is removed and path keeps its old contents.
function io_module.write_file(path, fill)
  local created, file = pcall(cio.create_atomic, path)
  if not created then
    error(strip_position(file), 2)
  end
  local guard <close> = file
  fill(file)
  local committed, message = pcall(file.commit, file)
  if not committed then
    error(strip_position(message), 2)
  end
end


local function same_value(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    return a == b
  end
  if #a ~= #b then
    return false
  end
  for i = 1, #a do
    if a[i] ~= b[i] then
      return false
    end
  end
  return true
end


local function describe(value)
  if type(value) == "table" then
    local parts = {}
    for i = 1, #value do
      parts[i] = tostring(value[i])
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(value)
end


-- On reopen, each attribute given must equal the stored one: appending
-- samples of another cosmology or box to a file would mix two data sets.
local function check_attributes(writer, attrs)
  local stored = writer:attributes()
  local missing = {}
  for name, value in pairs(attrs) do
    if stored[name] == nil then
      missing[name] = value
    elseif not same_value(stored[name], value) then
      error(string.format("training set '%s' has attribute %s = %s, but %s was given; "
        .. "use another file for other settings", writer:path(), name, describe(stored[name]),
        describe(value)), 0)
    end
  end
  if next(missing) ~= nil then
    writer:set_attributes(missing)
  end
end


--- Open a training-set file for appending (created when missing), or for
-- reading with opts.mode = "r". Options: n (particles per side), box
-- (Mpc/h), attrs (root attributes: a_final, Omega_m, ...; checked against
-- the file on reopen), compression (gzip level 0..9, true or "gzip").
-- The object has :count(), :n(), :append{za=, lpt2=, fastpm=, seed=},
-- :read(name, i [, count [, out]]), :attributes(), :close().
local DATASET_OPTIONS = { n = true, box = true, attrs = true, compression = true, mode = true }

function io_module.dataset(path, opts)
  opts = opts or {}
  for name in pairs(opts) do
    if not DATASET_OPTIONS[name] then
      error(string.format("d3m.io.dataset: unknown option '%s'; the options are n, box, attrs, "
        .. "compression and mode", tostring(name)), 2)
    end
  end
  local opened, writer = pcall(cio.dataset, path, opts)
  if not opened then
    error(strip_position(writer), 2)
  end
  local attrs = opts.attrs
  if attrs ~= nil and opts.mode ~= "r" then
    for name in pairs(attrs) do
      if MANAGED_ATTRIBUTES[name] then
        writer:close()
        error(string.format("attribute '%s' is set by d3m.io.dataset itself; pass n and box "
          .. "as options instead", name), 2)
      end
    end
    local ok, message = pcall(check_attributes, writer, attrs)
    if not ok then
      writer:close()
      error(strip_position(message), 2)
    end
  end
  return writer
end


--- Import ML-Recon's per-simulation .npy files, each (n, n, n, 10) channels
-- last (0 density, 1-3 ZA, 4-6 2LPT, 7-9 FastPM; component d along array
-- axis d), into the training set at h5_path, appending after the samples it
-- already has. The density channel is dropped. attrs are root attributes;
-- box_size among them sets the box (Mpc/h, default 128 as in ML-Recon's
-- runs). opts: seeds (one integer per file, default -1 for unknown), scale
-- (factor applied to every displacement, default 1 because the files are
-- taken to be in Mpc/h) and compression. Returns the sample count.
function io_module.import_mlrecon(npy_paths, h5_path, attrs, opts)
  attrs = attrs or {}
  opts = opts or {}
  if type(npy_paths) == "string" then
    npy_paths = { npy_paths }
  end
  if #npy_paths == 0 then
    error("import_mlrecon: no .npy files given", 2)
  end
  local read, header = pcall(cio.npy_info, npy_paths[1])
  if not read then
    error(strip_position(header), 2)
  end
  local shape = header.shape
  if #shape ~= 4 or shape[4] ~= 10 then
    error(string.format("import_mlrecon: '%s' has shape {%s}; ML-Recon files are (n, n, n, 10)",
      npy_paths[1], table.concat(shape, ", ")), 2)
  end

  local settings = {}
  for name, value in pairs(attrs) do
    if name ~= "box_size" then
      settings[name] = value
    end
  end
  local ok, result = pcall(function()
    local writer <close> = io_module.dataset(h5_path, {
      n = shape[1], box = attrs.box_size or 128.0, attrs = settings,
      compression = opts.compression,
    })
    local seeds = opts.seeds or {}
    for i, npy_path in ipairs(npy_paths) do
      writer:append_mlrecon(npy_path, seeds[i] or -1, opts.scale or 1.0)
    end
    return writer:count()
  end)
  if not ok then
    error(strip_position(result), 2)
  end
  return result
end


return io_module
