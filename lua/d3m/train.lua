-- d3m.train: the D3M training loop (He et al. 2019, PNAS 116, 13825): MSE
-- over all voxels and components, Adam with L2 weight decay added to the
-- gradient, validation over the whole validation set, the best model kept,
-- atomic checkpoints every epoch and on SIGINT / SIGTERM, exact resume.
--
-- `d3m train` calls train.run(config). train.step and train.evaluate are
-- the pieces for writing another loop.
--
-- Counting: an iteration is one optimizer step on one batch, and epoch e
-- (1-based) covers iterations (e - 1) B + 1 .. e B for B batches per epoch.
-- The checkpoint attribute `epoch` counts completed epochs.
local d3m = require "d3m"
local data = require "d3m.data"
local checkpoint = require "d3m.checkpoint"
local log = require "d3m.log"
local progress = require "d3m.progress"

local train = {}

-- Settings that fix the order of batches and the model, so a resumed run
-- must use the values stored in the checkpoint.
local RESUME_KEYS = {"seed", "batch_size", "input", "target", "augment", "n", "train_samples",
  "validation_samples", "lr", "weight_decay", "residual"}


local function is_finite(x)
  return x == x and x ~= math.huge and x ~= -math.huge
end


--- Runs one optimizer step on a batch and returns the loss before the
-- step. When the loss is not finite nothing is updated and the function
-- returns the loss, so the caller can stop with the model unchanged
-- (batch-norm running statistics excepted: forward already updated them).
function train.step(model, loss_function, optimizer, input, target)
  optimizer:zero_grad()
  local prediction = model:forward(input)
  local loss = loss_function:forward(prediction, target)
  if not is_finite(loss) then
    return loss
  end
  model:backward(input, loss_function:backward(prediction, target))
  optimizer:step()
  return loss
end


--- Returns the mean loss over every sample of the loader (the mean over
-- samples, voxels and components), with the model in evaluation mode
-- (batch norm uses its running statistics). The model's mode is restored.
function train.evaluate(model, loss_function, loader)
  local was_training = model.training
  model:evaluate()
  local total, count = 0.0, 0
  for _, input, target, info in loader:batches(1) do
    local loss = loss_function:forward(model:forward(input), target)
    -- Every sample has the same number of voxels, so weighting each batch
    -- mean by its sample count gives the mean over samples.
    total = total + loss * #info.indices
    count = count + #info.indices
  end
  model:train(was_training)
  return total / count
end


local function quote_shell(text)
  return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

local function make_folder(path)
  if not os.execute("mkdir -p " .. quote_shell(path)) then
    error(string.format("cannot create the output folder '%s'", path), 3)
  end
end

local function file_exists(path)
  local file = io.open(path, "rb")
  if file then
    file:close()
    return true
  end
  return false
end


-- ---- the CSV log ------------------------------------------------------------

local CSV_HEADER = "iteration,epoch,train_loss,validation_loss,samples_per_second,elapsed_seconds"

-- Rewrites the log keeping only rows up to iteration `last`, so a resumed
-- run does not repeat rows that a killed run wrote after its checkpoint.
local function truncate_csv(path, last)
  local rows = {}
  local file = io.open(path, "r")
  if file then
    for line in file:lines() do
      local iteration = math.tointeger(tonumber(line:match("^(%d+),")))
      if iteration and iteration <= last then
        rows[#rows + 1] = line
      end
    end
    file:close()
  end
  file = assert(io.open(path, "w"))
  file:write(CSV_HEADER, "\n")
  for _, row in ipairs(rows) do
    file:write(row, "\n")
  end
  file:close()
end

local function append_csv(path, row)
  local file = assert(io.open(path, "a"))
  file:write(string.format("%d,%d,%s,%s,%.6g,%.3f\n", row.iteration, row.epoch,
    row.train_loss and string.format("%.17g", row.train_loss) or "",
    row.validation_loss and string.format("%.17g", row.validation_loss) or "",
    row.samples_per_second or 0, row.elapsed or 0))
  file:close()
end

--- Reads a training CSV log: a list of rows {iteration=, epoch=,
-- train_loss=, validation_loss=} (absent values are nil).
function train.read_csv(path)
  local rows = {}
  local file = io.open(path, "r")
  if not file then
    error(string.format("training log '%s' not found", path), 2)
  end
  for line in file:lines() do
    local fields = {}
    for field in (line .. ","):gmatch("([^,]*),") do
      fields[#fields + 1] = field
    end
    local iteration = math.tointeger(tonumber(fields[1]))
    if iteration then
      rows[#rows + 1] = {iteration = iteration, epoch = math.tointeger(tonumber(fields[2])),
        train_loss = tonumber(fields[3]), validation_loss = tonumber(fields[4])}
    end
  end
  file:close()
  return rows
end


--- Writes the learning curve (train and validation loss against iteration,
-- log y) from a CSV log to a PNG.
function train.plot_curve(csv_path, png_path)
  local train_x, train_y, validation_x, validation_y = {}, {}, {}, {}
  for _, row in ipairs(train.read_csv(csv_path)) do
    if row.train_loss then
      train_x[#train_x + 1], train_y[#train_y + 1] = row.iteration, row.train_loss
    end
    if row.validation_loss then
      validation_x[#validation_x + 1] = row.iteration
      validation_y[#validation_y + 1] = row.validation_loss
    end
  end
  require("d3m.plot").lines{
    path = png_path, title = "D3M learning curve", xlabel = "iteration",
    ylabel = "MSE loss ((Mpc/h)^2)", logy = true,
    series = {
      {x = train_x, y = train_y, label = "train (mean since the previous point)"},
      {x = validation_x, y = validation_y, label = "validation"},
    },
  }
end


-- ---- configuration ------------------------------------------------------------

local DEFAULTS = {
  input = "za", target = "fastpm", split = {0.8, 0.1, 0.1}, channels = 64, seed = 0,
  batch_size = 50, lr = 1e-4, weight_decay = 1e-4, augment = true, plot = true,
  progress_interval = 10,
}

local function with_defaults(config)
  local full = {}
  for name, value in pairs(DEFAULTS) do
    full[name] = value
  end
  for name, value in pairs(config) do
    full[name] = value
  end
  if not full.dataset then
    error("train.run: config.dataset (the training-set file) is required", 3)
  end
  if not full.output then
    error("train.run: config.output (the output folder) is required", 3)
  end
  if not full.epochs and not full.iterations then
    error("train.run: give config.epochs or config.iterations", 3)
  end
  return full
end


local function describe(value)
  if type(value) == "table" then
    local parts = {}
    for i, v in ipairs(value) do
      parts[i] = tostring(v)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(value)
end


-- The attributes that describe the run, stored in every checkpoint.
local function run_attributes(config, dataset)
  local attrs = dataset:attributes()
  local first, last = dataset:range("validation")
  return {
    seed = config.seed, batch_size = config.batch_size, input = dataset.input,
    target = dataset.target, augment = config.augment and 1 or 0, n = dataset.n,
    box_size = attrs.box_size, dataset = dataset.path, train_samples = dataset:size("train"),
    validation_samples = last - first + 1, split = config.split, lr = config.lr,
    weight_decay = config.weight_decay, residual = config.residual and 1 or 0,
  }
end


local function check_resume_settings(stored, current, path)
  local differences = {}
  for _, key in ipairs(RESUME_KEYS) do
    if stored[key] ~= nil and stored[key] ~= current[key] then
      differences[#differences + 1] = string.format("%s = %s (now %s)", key,
        describe(stored[key]), describe(current[key]))
    end
  end
  if #differences > 0 then
    error(string.format("cannot resume from '%s': it was trained with %s. Give the same "
      .. "settings to continue, or start a new output folder", path,
      table.concat(differences, ", ")), 0)
  end
end


-- ---- the loop -------------------------------------------------------------------

local Run = {}
Run.__index = Run


function Run:checkpoint_attributes()
  local attrs = {}
  for name, value in pairs(self.attrs) do
    attrs[name] = value
  end
  attrs.epoch = self.iteration // self.batches
  attrs.iteration = self.iteration
  attrs.best_validation_loss = self.best_loss
  attrs.best_iteration = self.best_iteration
  attrs.train_loss_sum = self.loss_sum
  attrs.train_loss_count = self.loss_count
  attrs.elapsed_seconds = self.elapsed_before + (progress.now() - self.started)
  return attrs
end


function Run:save_last()
  checkpoint.save(self.last_path, self.model, self.optimizer, self:checkpoint_attributes())
end


function Run:validate()
  local loss = train.evaluate(self.model, self.loss_function, self.validation)
  if not is_finite(loss) then
    error(string.format("validation loss is %s at iteration %d; stopped without saving, %s",
      tostring(loss), self.iteration, self:last_good_checkpoint()), 0)
  end
  local elapsed = progress.now() - self.started
  append_csv(self.csv_path, {
    iteration = self.iteration, epoch = (self.iteration - 1) // self.batches + 1,
    train_loss = self.loss_count > 0 and self.loss_sum / self.loss_count or nil,
    validation_loss = loss,
    samples_per_second = self.samples_done / math.max(elapsed, 1e-9),
    elapsed = self.elapsed_before + elapsed,
  })
  self.loss_sum, self.loss_count = 0.0, 0
  log.info("iteration %d: validation loss %.6g (mean over %d samples)", self.iteration, loss,
    self.validation:size())

  if self.best_loss == nil or loss < self.best_loss then
    self.best_loss, self.best_iteration = loss, self.iteration
    local attrs = self:checkpoint_attributes()
    attrs.validation_loss = loss
    checkpoint.save(self.best_path, self.model, nil, attrs)
    log.info("new best model (validation loss %.6g) written to %s", loss, self.best_path)
  end
  return loss
end


function Run:last_good_checkpoint()
  return file_exists(self.last_path)
    and string.format("the last good checkpoint is '%s'", self.last_path)
    or "no checkpoint was written yet"
end


function Run:fail_on_loss(loss, info)
  local saved = self:last_good_checkpoint()
  error(string.format("training loss is %s at epoch %d, batch %d (iteration %d, samples %s); "
    .. "stopped without updating the model, %s. Check the data units or lower --lr",
    tostring(loss), self.epoch, info.batch, self.iteration + 1, table.concat(info.indices, ", "),
    saved), 0)
end


function Run:progress_fields(loss)
  local elapsed = progress.now() - self.started
  return {
    string.format("epoch %d/%d", self.epoch, self.epochs),
    string.format("loss %.4g", loss),
    string.format("%.3g samples/s", self.samples_done / math.max(elapsed, 1e-9)),
  }
end


-- Returns the reason to stop early ("SIGTERM", "--stop-after-iterations")
-- or nil.
function Run:stop_reason()
  local signal = d3m.signals.pending()
  if signal then
    return "SIG" .. signal
  end
  if self.config.stop_after_iterations and self.iteration >= self.config.stop_after_iterations then
    return "--stop-after-iterations"
  end
  return nil
end


function Run:loop()
  local plan
  while self.iteration < self.total do
    self.epoch = self.iteration // self.batches + 1
    local b = self.iteration % self.batches + 1
    if not plan or plan.epoch ~= self.epoch then
      plan = self.train_loader:plan(self.epoch)
    end

    local input, target, info = self.train_loader:batch_of(plan, b)
    local loss = train.step(self.model, self.loss_function, self.optimizer, input, target)
    if not is_finite(loss) then
      self:fail_on_loss(loss, info)
    end
    self.iteration = self.iteration + 1
    self.loss_sum = self.loss_sum + loss
    self.loss_count = self.loss_count + 1
    self.samples_done = self.samples_done + #info.indices
    self.bar:update(self.iteration, self:progress_fields(loss))

    local epoch_end = self.iteration % self.batches == 0
    local finished = self.iteration == self.total
    if self.iteration % self.validate_every == 0 or finished then
      self:validate()
    end
    if epoch_end or finished then
      self:save_last()
    end

    local reason = not finished and self:stop_reason()
    if reason then
      if not epoch_end then
        self:save_last()
      end
      log.info("stopped by %s at iteration %d (epoch %d, batch %d); checkpoint %s. Continue "
        .. "with the same command and --resume", reason, self.iteration, self.epoch, b,
        self.last_path)
      return reason
    end
  end
  return nil
end


-- Restores model, optimizer and counters from last.h5.
function Run:resume()
  if not file_exists(self.last_path) then
    error(string.format("cannot resume: '%s' not found. Start without --resume", self.last_path), 0)
  end
  local state = checkpoint.read(self.last_path)
  checkpoint.restore(state, self.model, self.optimizer, self.last_path)
  check_resume_settings(state.attrs, self.attrs, self.last_path)
  local a = state.attrs
  self.iteration = a.iteration
  self.best_loss, self.best_iteration = a.best_validation_loss, a.best_iteration
  self.loss_sum, self.loss_count = a.train_loss_sum or 0.0, a.train_loss_count or 0
  self.elapsed_before = a.elapsed_seconds or 0.0
  truncate_csv(self.csv_path, self.iteration)
  log.info("resumed from %s at iteration %d (epoch %d done)", self.last_path, self.iteration,
    a.epoch)
end


--- Trains a D3M model. config: dataset (path), output (folder), epochs
-- or iterations (total, counted from the start of the run), and optional
-- input ("za"), target ("fastpm"), split ({0.8, 0.1, 0.1}), channels (64),
-- residual (false: add the input to the network's output),
-- seed (0: model initialisation, shuffling, augmentation), batch_size (50),
-- lr (1e-4), weight_decay (1e-4, L2 added to the gradient), augment
-- (true), validate_every (iterations; default once per epoch), resume
-- (false), stop_after_iterations (stop with a checkpoint once the run has
-- done this many iterations, as a signal would), plot (true),
-- progress_interval (seconds between progress lines off a terminal).
-- Writes last.h5, best.h5, train.csv, train.log and learning_curve.png to
-- output. Returns {iteration=, best_validation_loss=, best_iteration=,
-- stopped = reason or nil}.
function train.run(config)
  config = with_defaults(config)
  local dataset <close> = data.open(config.dataset, {input = config.input,
    target = config.target, split = config.split})
  local self = setmetatable({config = config}, Run)
  self.train_loader = dataset:loader("train", {batch_size = config.batch_size,
    seed = config.seed, augment = config.augment})
  self.validation = dataset:loader("validation", {batch_size = config.batch_size})
  self.batches = self.train_loader:batch_count()
  self.total = config.iterations or config.epochs * self.batches
  self.epochs = (self.total + self.batches - 1) // self.batches
  self.validate_every = config.validate_every or self.batches
  self.attrs = run_attributes(config, dataset)

  make_folder(config.output)
  self.last_path = config.output .. "/last.h5"
  self.best_path = config.output .. "/best.h5"
  self.csv_path = config.output .. "/train.csv"
  if not config.resume and file_exists(self.last_path) then
    error(string.format("'%s' already contains a run (last.h5); pass --resume to continue it or "
      .. "choose another output folder", config.output), 0)
  end
  log.to_file(config.output .. "/train.log")

  self.model = d3m.models.d3m{channels = config.channels, seed = config.seed,
    residual = config.residual or false}
  self.model:train()
  self.optimizer = d3m.optim.adam(self.model, {lr = config.lr,
    weight_decay = config.weight_decay})
  self.loss_function = d3m.nn.MSELoss()
  self.iteration, self.loss_sum, self.loss_count, self.elapsed_before = 0, 0.0, 0, 0.0
  self.samples_done = 0
  if config.resume then
    self:resume()
  else
    truncate_csv(self.csv_path, -1)
  end

  log.info("training %s on %s: %d train / %d validation samples of %d^3, batch %d, %d "
    .. "batches per epoch, iterations %d to %d", tostring(self.model), config.dataset,
    self.train_loader:size(), self.validation:size(), dataset.n, config.batch_size, self.batches,
    self.iteration + 1, self.total)
  self.started = progress.now()
  self.bar = progress.new{total = self.total, done = self.iteration, label = "train",
    unit = "iterations", interval = config.progress_interval}

  d3m.signals.watch{"INT", "TERM"}
  local ok, result = pcall(self.loop, self)
  d3m.signals.unwatch()
  if not ok then
    log.error("%s", tostring(result))
    error(result, 0)
  end

  if config.plot and not result then
    local plotted, message = pcall(train.plot_curve, self.csv_path,
      config.output .. "/learning_curve.png")
    if not plotted then
      log.warn("learning curve not plotted: %s", tostring(message))
    end
  end
  if not result then
    log.info("done: %d iterations, best validation loss %.6g at iteration %d", self.iteration,
      self.best_loss or 0 / 0, self.best_iteration or 0)
  end
  return {iteration = self.iteration, best_validation_loss = self.best_loss,
    best_iteration = self.best_iteration, stopped = result}
end


return train
