-- d3m.predict: displacements from a trained D3M model, for grids of any
-- size that is a multiple of 4. The network is fully convolutional and
-- periodic, so a box larger than the training box runs as one piece when
-- device memory allows. Otherwise it runs as periodic tiles. Each tile is
-- cut from the field with a halo on every side and predicted on its own,
-- and only its centre is kept. A halo at least as wide as the receptive
-- radius gives the same result as one piece (up to float rounding).
local d3m = require "d3m"
local checkpoint = require "d3m.checkpoint"
local data = require "d3m.data"

local predict = {}

-- Receptive radius in input voxels per axis: the output at x depends on
-- inputs within x +- 26. A 3x3x3 convolution at grid spacing s adds s, a
-- stride-2 convolution from spacing s adds s, and the transposed step to
-- spacing s adds s (y[2m+1] reads x[m] and x[m+1]). Along the deepest
-- path: layer1 2, layer2 1, layer3 4, layer4 2, layer5 8, deconv1 2,
-- layer6 4, deconv2 1, layer7 2. The 1x1x1 output layer adds nothing.
predict.RECEPTIVE_RADIUS = 26
-- The smallest multiple of 4 that covers it: tiles must start on multiples
-- of 4 so that the two stride-2 levels sample the same voxels as in one piece.
predict.DEFAULT_HALO = 28

-- Device bytes of one forward pass in evaluation mode, per input voxel and
-- first-level channel: 17.6 to 18.3 measured with d3m.memory() for
-- channels 4 to 16 on 32^3 grids (PoCL), so 20 leaves some margin.
local BYTES_PER_VOXEL_CHANNEL = 4 * 20


local function check_multiple_of_4(value, name)
  if math.type(value) ~= "integer" or value < 4 or value % 4 ~= 0 then
    error(string.format("%s must be a positive multiple of 4, got %s", name, tostring(value)), 3)
  end
end


--- Returns an estimate of the device bytes a one-piece forward pass of a
-- model with `channels` needs for an m^3 grid.
function predict.forward_bytes(m, channels)
  local parameters = d3m.models.d3m.count_parameters{channels = channels}
  return BYTES_PER_VOXEL_CHANNEL * m ^ 3 * channels + 4 * parameters
end


--- Returns nil when an n^3 grid fits in one piece, else the largest tile
-- (a multiple of 4 that divides n) whose grid with halo fits. budget is in
-- bytes (default: half the device's global memory).
function predict.choose_tile(n, channels, halo, budget)
  halo = halo or predict.DEFAULT_HALO
  local device = d3m.device()
  budget = budget or device.global_memory / 2
  -- The largest single tensor is the concatenation at full resolution.
  local function fits(m)
    return predict.forward_bytes(m, channels) <= budget
      and 4 * 2 * channels * m ^ 3 <= device.max_allocation
  end
  if fits(n) then
    return nil
  end
  for tile = n - 4, 4, -4 do
    if n % tile == 0 and fits(tile + 2 * halo) then
      return tile
    end
  end
  error(string.format("an %d^3 grid does not fit in %.0f MiB even as 4^3 tiles with halo %d; "
    .. "use a device with more memory", n, budget / 2 ^ 20, halo), 2)
end


-- The 0-based runs {first, count} that cover positions start .. start +
-- length - 1 of a periodic axis of n points.
local function periodic_runs(start, length, n)
  local runs, position, left = {}, start % n, length
  while left > 0 do
    local count = math.min(left, n - position)
    runs[#runs + 1] = {position, count}
    left = left - count
    position = 0
  end
  return runs
end

local function periodic_indices(start, length, n)
  local indices = {}
  for t = 0, length - 1 do
    indices[t + 1] = (start + t) % n
  end
  return indices
end


-- The block [3, m, m, m] starting at origin (0-based, may be negative) of
-- a periodic [3, n, n, n] field given as float32 bytes, as a tensor
-- [1, 3, m, m, m].
local function cut_block(bytes, n, origin, m)
  local rows0 = periodic_indices(origin[1], m, n)
  local rows1 = periodic_indices(origin[2], m, n)
  local runs = periodic_runs(origin[3], m, n)
  local parts = {}
  for c = 0, 2 do
    for _, i in ipairs(rows0) do
      for _, j in ipairs(rows1) do
        local base = ((c * n + i) * n + j) * n
        for _, run in ipairs(runs) do
          parts[#parts + 1] = bytes:sub(4 * (base + run[1]) + 1, 4 * (base + run[1] + run[2]))
        end
      end
    end
  end
  return d3m.from_string(table.concat(parts), {1, 3, m, m, m})
end


--- Predicts one sample [1, 3, n, n, n] in periodic tiles of tile^3 with
-- halo voxels on each side and returns [1, 3, n, n, n]. Does not check
-- that halo covers the receptive radius (predict.field does).
function predict.tiled(model, input, tile, halo)
  local n = input:shape()[3]
  check_multiple_of_4(tile, "tile")
  check_multiple_of_4(halo, "halo")
  if n % tile ~= 0 then
    error(string.format("tile %d does not divide the grid size %d", tile, n), 2)
  end
  local bytes = input:to_string()
  local m = tile + 2 * halo
  local tiles = n // tile
  -- rows[(c * n + i) * n + j + 1][t2] is the part of output row (c, i, j)
  -- that tile t2 along the last axis predicts.
  local rows = {}
  for t0 = 0, tiles - 1 do
    for t1 = 0, tiles - 1 do
      for t2 = 0, tiles - 1 do
        local origin = {t0 * tile - halo, t1 * tile - halo, t2 * tile - halo}
        local out = model:forward(cut_block(bytes, n, origin, m)):to_string()
        for c = 0, 2 do
          for a = 0, tile - 1 do
            for b = 0, tile - 1 do
              local from = ((c * m + halo + a) * m + halo + b) * m + halo
              local row = (c * n + t0 * tile + a) * n + t1 * tile + b + 1
              rows[row] = rows[row] or {}
              rows[row][t2 + 1] = out:sub(4 * from + 1, 4 * (from + tile))
            end
          end
        end
      end
    end
  end
  local parts = {}
  for r = 1, 3 * n * n do
    parts[r] = table.concat(rows[r])
  end
  return d3m.from_string(table.concat(parts), {1, 3, n, n, n})
end


--- Predicts one sample (input [1, 3, n, n, n] or [3, n, n, n]) and returns
-- a new tensor of the input's shape. options: tile (nil: one piece when it
-- fits, else tiles chosen by memory; 0: one piece), halo (28, a multiple
-- of 4 of at least the receptive radius 26).
function predict.field(model, input, options)
  options = options or {}
  local shape = input:shape()
  local rank = #shape
  if (rank ~= 4 and rank ~= 5) or shape[rank - 3] ~= 3 then
    error("predict: expected a displacement field [3, n, n, n] or [1, 3, n, n, n], got ["
      .. table.concat(shape, ", ") .. "]", 2)
  end
  local n = shape[rank]
  if shape[rank - 1] ~= n or shape[rank - 2] ~= n or (rank == 5 and shape[1] ~= 1) then
    error("predict: expected one cubic field [1, 3, n, n, n], got ["
      .. table.concat(shape, ", ") .. "]", 2)
  end
  if n % 4 ~= 0 then
    error(string.format("predict: the grid has n = %d particles per side; D3M halves the grid "
      .. "twice, so n must be a multiple of 4", n), 2)
  end
  local halo = options.halo or predict.DEFAULT_HALO
  check_multiple_of_4(halo, "halo")
  if halo < predict.RECEPTIVE_RADIUS then
    error(string.format("halo %d is smaller than the receptive radius %d of D3M; tiles would "
      .. "differ from one piece. Use a halo of at least %d", halo, predict.RECEPTIVE_RADIUS,
      predict.DEFAULT_HALO), 2)
  end
  local tile = options.tile
  if tile == nil then
    tile = predict.choose_tile(n, model.channels, halo)
  elseif tile == 0 or tile == n then
    tile = nil
  end

  local single = rank == 5 and input or input:reshape{1, 3, n, n, n}
  local output
  if tile then
    output = predict.tiled(model, single, tile, halo)
  else
    output = model:forward(single):copy()
  end
  return rank == 5 and output or output:reshape{3, n, n, n}
end


-- ---- files ----------------------------------------------------------------------

-- Samples of a file: a training set (read one by one) or any HDF5 file
-- whose dataset `field` is [N, 3, n, n, n] or [3, n, n, n].
local function open_source(path, field)
  local exists = io.open(path, "rb")
  if not exists then
    error(string.format("input file '%s' not found", tostring(path)), 3)
  end
  exists:close()
  local file = d3m.io.open(path, "r")
  if not file:exists(field) then
    local names = {}
    for _, entry in ipairs(file:list()) do
      if entry.kind == "dataset" then
        names[#names + 1] = entry.name
      end
    end
    file:close()
    error(string.format("input file '%s' has no dataset /%s; it contains %s. Choose the field "
      .. "with --field", path, field, #names > 0 and table.concat(names, ", ") or "none"), 3)
  end
  local info = file:info(field)
  local shape = info.shape
  local rank = #shape
  local n = shape[rank]
  if (rank ~= 4 and rank ~= 5) or shape[rank - 3] ~= 3 or shape[rank - 1] ~= n
     or shape[rank - 2] ~= n then
    file:close()
    error(string.format("dataset /%s in '%s' has shape [%s]; expected [N, 3, n, n, n] or "
      .. "[3, n, n, n]", field, path, table.concat(shape, ", ")), 3)
  end
  local source = {path = path, n = n, rank = rank, count = rank == 5 and shape[1] or 1,
    attributes = file:attributes("/")}
  if file:exists("seed") then
    source.seeds = file:read_integers("seed")
  end

  -- A training set is read one sample at a time, other files whole.
  local is_training_set, reader = false, nil
  if field == "za" or field == "lpt2" or field == "fastpm" then
    is_training_set, reader = pcall(d3m.io.dataset, path, {mode = "r"})
  end
  if is_training_set then
    file:close()
    source.reader = reader
    function source.read(i)
      return reader:read(field, i, 1, d3m.zeros{1, 3, n, n, n})
    end
    return source
  end

  local whole = file:read(field):to_string()
  file:close()
  local floats = 3 * n ^ 3
  function source.read(i)
    return d3m.from_string(whole:sub(4 * floats * (i - 1) + 1, 4 * floats * i), {1, 3, n, n, n})
  end
  return source
end


--- Predicts every sample (or a subset) of a file and writes the result
-- atomically. options: checkpoint (path), input (path), output (path),
-- field ("za"), subset ("all", or "train" / "validation" / "test" of the
-- split stored in the checkpoint), tile, halo, log (function(format, ...)
-- called per sample), progress (function(done, total) called per sample). The output has /d3m of the input field's shape (rank 4
-- for a single field), /seed when the input has one, the input's root
-- attributes, and checkpoint, channels, iteration, field, first_sample.
function predict.file(options)
  local field = options.field or "za"
  local model, model_attrs = checkpoint.load_model(options.checkpoint)
  local source = open_source(options.input, field)

  local first, last = 1, source.count
  local subset = options.subset or "all"
  if subset ~= "all" then
    if not model_attrs.split then
      error(string.format("checkpoint '%s' stores no split; use --subset all",
        options.checkpoint), 2)
    end
    local ranges = data.split(source.count, model_attrs.split)
    if not ranges[subset] then
      error(string.format("subset must be all, train, validation or test, got '%s'", subset), 2)
    end
    first, last = ranges[subset][1], ranges[subset][2]
    if last < first then
      error(string.format("the %s subset of '%s' is empty", subset, options.input), 2)
    end
  end

  local parts = {}
  if options.progress then
    options.progress(0, last - first + 1)
  end
  for i = first, last do
    local output = predict.field(model, source.read(i), {tile = options.tile, halo = options.halo})
    parts[#parts + 1] = output:to_string()
    if options.log then
      options.log("sample %d of %d-%d predicted", i, first, last)
    end
    if options.progress then
      options.progress(i - first + 1, last - first + 1)
    end
  end
  local count = last - first + 1
  local n = source.n
  local shape = (source.rank == 4 and count == 1) and {3, n, n, n} or {count, 3, n, n, n}
  local result = d3m.from_string(table.concat(parts), shape)

  local attrs = {}
  for name, value in pairs(source.attributes) do
    attrs[name] = value
  end
  attrs.software_version = "d3m " .. d3m.version
  attrs.checkpoint = options.checkpoint
  attrs.channels = model.channels
  attrs.iteration = model_attrs.iteration
  attrs.field = field
  attrs.subset = subset
  attrs.first_sample = first
  d3m.io.write_file(options.output, function(file)
    file:write("/d3m", result, {units = "Mpc/h"})
    if source.seeds then
      local seeds = {}
      for i = first, last do
        seeds[#seeds + 1] = source.seeds[i]
      end
      -- The empty attribute table works around file:write raising "table
      -- expected" for an integer table without attributes.
      file:write("/seed", seeds, {})
    end
    file:set_attributes("/", attrs)
  end)
  if source.reader then
    source.reader:close()
  end
  return {count = count, n = n, first = first, last = last}
end


return predict
