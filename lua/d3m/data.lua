-- d3m.data: (input, target) batches from a training-set file for training
-- and evaluating D3M. The file has the layout d3m.io.dataset writes: /za,
-- /lpt2, /fastpm float32 [N, 3, n, n, n] and /seed [N].
--
--   local set <close> = d3m.data.open("train.h5", {input = "za", target = "fastpm"})
--   local loader = set:loader("train", {batch_size = 50, seed = 1})
--   for b, input, target, info in loader:batches(epoch) do ... end
--
-- Samples are split into train, validation and test by index ranges. The
-- training order and the augmenting symmetry of each sample are drawn from
-- a generator seeded by (seed, epoch), so a resumed run regenerates the
-- plan of any epoch without saving generator state. Augmentation applies
-- one of the 48 symmetries of the cube (d3m.ops.cube_symmetry, vector
-- components rotated too) to input and target alike.
--
-- Batches are read synchronously. On a 2-core PoCL CPU device, preparing
-- a 32^3 sample takes 11 ms (0.3 ms of it HDF5 reads) against 4.4 s for
-- a training step of the full model, so background prefetch would not pay
-- there. docs/training.md gives the GPU estimate.
local d3m = require "d3m"
local random = require "d3m.random"

local data = {}

data.SYMMETRIES = 48
data.SUBSETS = {"train", "validation", "test"}

local FIELDS = {za = true, lpt2 = true, fastpm = true}


-- The split as three sample counts. spec: fractions {0.8, 0.1, 0.1} (any
-- entry a float, sum <= 1) or counts {800, 100, 100} (all integers).
local function split_counts(count, spec)
  if type(spec) ~= "table" or #spec ~= 3 then
    error("split must be a list of three fractions {train, validation, test} or three "
      .. "sample counts, got " .. tostring(spec), 3)
  end
  local fractions, total = false, 0
  for i = 1, 3 do
    local value = spec[i]
    if type(value) ~= "number" or value < 0 or value ~= value then
      error(string.format("split entry %d must be a number >= 0, got %s", i, tostring(value)), 3)
    end
    fractions = fractions or math.type(value) == "float"
    total = total + value
  end

  local counts = {}
  if fractions then
    if total > 1 + 1e-9 then
      error(string.format("split fractions sum to %g; they must sum to at most 1", total), 3)
    end
    -- The epsilon keeps 0.7 * 10 = 6.9999999999999991 from losing a sample.
    for i = 1, 3 do
      counts[i] = math.floor(spec[i] * count + 1e-9)
    end
    -- Fractions that sum to 1 give the rounding remainder to the test set.
    if math.abs(total - 1) <= 1e-9 then
      counts[3] = count - counts[1] - counts[2]
    end
  else
    if total > count then
      error(string.format("split counts %d + %d + %d exceed the %d samples in the file",
        spec[1], spec[2], spec[3], count), 3)
    end
    counts = {spec[1], spec[2], spec[3]}
  end
  return counts
end


--- Returns the index ranges of the split: {train = {first, last},
-- validation = {...}, test = {...}}, 1-based and inclusive, consecutive
-- from sample 1 (an empty subset has last = first - 1).
function data.split(count, spec)
  local counts = split_counts(count, spec or {0.8, 0.1, 0.1})
  local ranges, first = {}, 1
  for i, name in ipairs(data.SUBSETS) do
    ranges[name] = {first, first + counts[i] - 1}
    first = first + counts[i]
  end
  return ranges
end


--- Returns the generator that plans epoch `epoch` (1-based) for `seed`.
function data.epoch_generator(seed, epoch)
  -- Multiplying by an odd constant spreads neighbouring epochs apart before
  -- splitmix64 seeding in d3m.random.
  return random.new(seed ~ (epoch * 0x9E3779B97F4A7C15))
end


local Dataset = {}
Dataset.__index = Dataset
Dataset.__name = "d3m.data.dataset"


local function field_list(path)
  local names = {}
  for _, entry in ipairs(d3m.io.list(path)) do
    if entry.kind == "dataset" then
      names[#names + 1] = entry.name
    end
  end
  table.sort(names)
  return names
end


local function check_field(path, present, role, name)
  if not FIELDS[name] then
    error(string.format("%s field '%s' is not a training-set field; use za, lpt2 or fastpm",
      role, tostring(name)), 3)
  end
  if not present["/" .. name] then
    local names = {}
    for entry in pairs(present) do
      names[#names + 1] = entry
    end
    table.sort(names)
    error(string.format("training set '%s' has no /%s (the %s); it contains %s. Choose "
      .. "another %s field or regenerate the file", path, name, role,
      #names > 0 and table.concat(names, ", ") or "no datasets", role), 3)
  end
end


--- Opens a training set read-only. options: input ("za"), target
-- ("fastpm"), split (fractions or counts, default {0.8, 0.1, 0.1}).
-- Raises when the file or a field is missing, when n is not a multiple of
-- 4 (D3M halves the grid twice) and when a subset of the split is empty.
function data.open(path, options)
  options = options or {}
  local input, target = options.input or "za", options.target or "fastpm"
  local exists = io.open(path, "rb")
  if not exists then
    error(string.format("training set '%s' not found", tostring(path)), 2)
  end
  exists:close()

  local present = {}
  for _, name in ipairs(field_list(path)) do
    present[name] = true
  end
  check_field(path, present, "input", input)
  check_field(path, present, "target", target)

  local file = d3m.io.dataset(path, {mode = "r"})
  local n, count = file:n(), file:count()
  if n % 4 ~= 0 then
    file:close()
    error(string.format("training set '%s' has n = %d particles per side; D3M halves the grid "
      .. "twice, so n must be a multiple of 4", path, n), 2)
  end
  local ok, ranges = pcall(data.split, count, options.split)
  if not ok then
    file:close()
    error(ranges, 2)
  end

  return setmetatable({
    path = path, file = file, n = n, samples = count, ranges = ranges,
    input = input, target = target, split_spec = options.split or {0.8, 0.1, 0.1},
  }, Dataset)
end


--- Returns the first and last sample index of a subset.
function Dataset:range(subset)
  local range = self.ranges[subset]
  if not range then
    error(string.format("subset must be train, validation or test, got '%s'", tostring(subset)), 2)
  end
  return range[1], range[2]
end

--- Returns the number of samples in a subset.
function Dataset:size(subset)
  local first, last = self:range(subset)
  return last - first + 1
end

function Dataset:attributes()
  return self.file:attributes()
end

function Dataset:close()
  if self.file then
    self.file:close()
    self.file = nil
  end
end

Dataset.__close = Dataset.close
Dataset.__gc = Dataset.close


local Loader = {}
Loader.__index = Loader
Loader.__name = "d3m.data.loader"


--- Returns a loader over one subset. options: batch_size (50), shuffle
-- and augment (true for "train", false otherwise), seed (0), drop_last
-- (false: the last batch of an epoch may be smaller), check_finite (true).
function Dataset:loader(subset, options)
  options = options or {}
  local first, last = self:range(subset)
  if last < first then
    error(string.format("the %s subset of '%s' is empty (%d samples, split {%s}); use more "
      .. "samples or another split (--split of d3m train and predict)", subset, self.path,
      self.samples, table.concat(self.split_spec, ", ")), 2)
  end
  local batch_size = options.batch_size or 50
  if math.type(batch_size) ~= "integer" or batch_size < 1 then
    error("batch_size must be a positive integer, got " .. tostring(batch_size), 2)
  end
  local is_train = subset == "train"
  local function option(name, default)
    if options[name] == nil then
      return default
    end
    return options[name]
  end
  return setmetatable({
    dataset = self, subset = subset, first = first, last = last,
    batch_size = batch_size, shuffle = option("shuffle", is_train),
    augment = option("augment", is_train), seed = options.seed or 0,
    drop_last = option("drop_last", false), check_finite = option("check_finite", true),
    slots = {},
  }, Loader)
end


--- Returns the number of samples the loader covers.
function Loader:size()
  return self.last - self.first + 1
end

--- Returns the number of batches per epoch.
function Loader:batch_count()
  local size = self:size()
  if self.drop_last then
    return size // self.batch_size
  end
  return (size + self.batch_size - 1) // self.batch_size
end


--- Returns the plan of an epoch (1-based): {indices = {...}, symmetries =
-- {...}}, the sample index and symmetry (0..47, 0 the identity) of every
-- position in the epoch. The same (seed, epoch) always gives the same plan.
function Loader:plan(epoch)
  local generator = data.epoch_generator(self.seed, epoch)
  local indices, symmetries = {}, {}
  for i = 1, self:size() do
    indices[i] = self.first + i - 1
  end
  if self.shuffle then
    for i = #indices, 2, -1 do
      local j = generator:integer(i)
      indices[i], indices[j] = indices[j], indices[i]
    end
  end
  for i = 1, #indices do
    symmetries[i] = self.augment and generator:integer(data.SYMMETRIES) - 1 or 0
  end
  return {epoch = epoch, indices = indices, symmetries = symmetries}
end


-- Per-position scratch tensors [1, 3, n, n, n]: the raw samples and their
-- symmetric images, reused across batches.
function Loader:slot(position)
  local slot = self.slots[position]
  if not slot then
    local n = self.dataset.n
    local shape = {1, 3, n, n, n}
    slot = {
      raw_input = d3m.zeros(shape), raw_target = d3m.zeros(shape),
      input = d3m.zeros(shape), target = d3m.zeros(shape),
    }
    self.slots[position] = slot
  end
  return slot
end


-- The batch tensors [count, 3, n, n, n] and their [1, 3 count, n, n, n]
-- views, which ops.concat fills. One set per batch size, because the last
-- batch of an epoch may be smaller than the others.
function Loader:batch_tensors(count)
  self.batch_sets = self.batch_sets or {}
  local batch = self.batch_sets[count]
  if not batch then
    local n = self.dataset.n
    local input, target = d3m.zeros{count, 3, n, n, n}, d3m.zeros{count, 3, n, n, n}
    batch = {
      input = input, target = target,
      input_view = input:reshape{1, 3 * count, n, n, n},
      target_view = target:reshape{1, 3 * count, n, n, n},
    }
    self.batch_sets[count] = batch
  end
  return batch
end


local function is_consecutive(indices, symmetries)
  for i = 1, #indices do
    if indices[i] ~= indices[1] + i - 1 or symmetries[i] ~= 0 then
      return false
    end
  end
  return true
end


-- Reads sample `index` of field `name` into out [1, 3, n, n, n]. A failure
-- (NaN or Inf found by d3m.io, a damaged chunk) names the 1-based index.
function Loader:read_sample(name, index, out)
  local file = self.dataset.file
  local ok, message = pcall(file.read, file, name, index, 1, out)
  if not ok then
    message = tostring(message):gsub("^[^\n]-%.lua:%d+: ", "")
    error(string.format("sample %d of /%s in '%s' (counting from 1) cannot be used: %s", index,
      name, self.dataset.path, message), 0)
  end
end


-- Raises naming the first sample of the batch that contains NaN or Inf.
function Loader:check_batch(batch, indices)
  if not (batch.input:has_nonfinite() or batch.target:has_nonfinite()) then
    return
  end
  local dataset = self.dataset
  for _, index in ipairs(indices) do
    for _, name in ipairs({dataset.input, dataset.target}) do
      if dataset.file:read(name, index):has_nonfinite() then
        error(string.format("sample %d of /%s in '%s' contains NaN or Inf; remove or "
          .. "regenerate that sample", index, name, dataset.path), 0)
      end
    end
  end
  error(string.format("a batch of '%s' (samples %s) contains NaN or Inf after augmentation",
    dataset.path, table.concat(indices, ", ")), 0)
end


--- Reads the samples `indices`, applies symmetry symmetries[i] (0..47) to
-- sample i, input and target alike, and returns input and target
-- [#indices, 3, n, n, n]. The returned tensors are reused by the next call.
function Loader:assemble(indices, symmetries)
  local dataset = self.dataset
  local count = #indices
  local batch = self:batch_tensors(count)

  -- Consecutive unaugmented samples (validation) are read in one call.
  -- When that fails, the sample-by-sample path names the bad sample.
  local read_whole = is_consecutive(indices, symmetries)
    and pcall(dataset.file.read, dataset.file, dataset.input, indices[1], count, batch.input)
    and pcall(dataset.file.read, dataset.file, dataset.target, indices[1], count, batch.target)
  if not read_whole then
    local inputs, targets = {}, {}
    for i, index in ipairs(indices) do
      local slot = self:slot(i)
      local k = symmetries[i] or 0
      self:read_sample(dataset.input, index, slot.raw_input)
      self:read_sample(dataset.target, index, slot.raw_target)
      if k == 0 then
        inputs[i], targets[i] = slot.raw_input, slot.raw_target
      else
        inputs[i] = d3m.ops.cube_symmetry(slot.raw_input, k, {vector = true}, slot.input)
        targets[i] = d3m.ops.cube_symmetry(slot.raw_target, k, {vector = true}, slot.target)
      end
    end
    d3m.ops.concat(inputs, batch.input_view)
    d3m.ops.concat(targets, batch.target_view)
  end

  if self.check_finite then
    self:check_batch(batch, indices)
  end
  return batch.input, batch.target
end


--- Returns batch b (1-based) of a plan: input, target and info =
-- {indices = {...}, symmetries = {...}, batch = b}.
function Loader:batch_of(plan, b)
  local start = (b - 1) * self.batch_size + 1
  local stop = math.min(start + self.batch_size - 1, #plan.indices)
  local indices, symmetries = {}, {}
  for i = start, stop do
    indices[#indices + 1] = plan.indices[i]
    symmetries[#symmetries + 1] = plan.symmetries[i]
  end
  local input, target = self:assemble(indices, symmetries)
  return input, target, {indices = indices, symmetries = symmetries, batch = b}
end


--- Iterates over the batches of an epoch (1-based), starting at batch
-- first_batch (1): `for b, input, target, info in loader:batches(epoch)`.
function Loader:batches(epoch, first_batch)
  local plan = self:plan(epoch or 1)
  local b = (first_batch or 1) - 1
  local last = self:batch_count()
  return function()
    b = b + 1
    if b > last then
      return nil
    end
    return b, self:batch_of(plan, b)
  end
end


data.Dataset = Dataset
data.Loader = Loader
return data
