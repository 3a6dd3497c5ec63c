-- d3m.train, d3m.checkpoint and `d3m train`: learning, checkpoint layout,
-- exact resume after --stop-after-iterations and after a real SIGTERM,
-- and the errors. Tiny sizes: n = 8, channels = 4, a few samples.
local d3m = require "d3m"
local data = require "d3m.data"
local train = require "d3m.train"
local checkpoint = require "d3m.checkpoint"
local tiny = require "support.tiny_dataset"

local BIN = os.getenv("D3M_BIN")

local function quote(text)
  return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

-- Runs `d3m train` with the arguments; returns the exit code and stderr.
local function run_train(arguments, log_path)
  local command = quote(BIN) .. " train " .. arguments .. " >/dev/null 2>" .. quote(log_path)
  local _, _, code = os.execute(command)
  local file = io.open(log_path, "r")
  local text = file and file:read("a") or ""
  if file then file:close() end
  return code, text
end

local function exists(path)
  local file = io.open(path, "rb")
  if file then file:close() end
  return file ~= nil
end

-- Largest absolute difference over every tensor of two checkpoints.
local function checkpoint_difference(a_path, b_path)
  local a, b = checkpoint.read(a_path), checkpoint.read(b_path)
  local worst, compared = 0, 0
  local function compare(left, right)
    for name, tensor in pairs(left) do
      assert.is_not_nil(right[name], name)
      worst = math.max(worst, (tensor - right[name]):max_abs())
      compared = compared + 1
    end
  end
  compare(a.params, b.params)
  compare(a.buffers, b.buffers)
  compare(a.optim.exp_avg, b.optim.exp_avg)
  compare(a.optim.exp_avg_sq, b.optim.exp_avg_sq)
  return worst, compared, a.attrs, b.attrs
end

local function expect_error(pattern, fn, ...)
  local ok, message = pcall(fn, ...)
  assert.is_false(ok, "expected an error matching: " .. pattern)
  assert.matches(pattern, tostring(message), 1, true)
end


describe("training", function()
  local folder, set_path

  setup(function()
    folder = tiny.folder()
    set_path = tiny.write(folder .. "/set.h5", {n = 8, count = 12})
  end)

  teardown(function()
    collectgarbage()
    tiny.remove(folder)
  end)

  local function config(output, extra)
    local c = {dataset = set_path, output = folder .. "/" .. output, channels = 4, seed = 3,
      batch_size = 2, lr = 3e-3, split = {8, 2, 2}, plot = false, progress_interval = 1e9}
    for name, value in pairs(extra or {}) do
      c[name] = value
    end
    return c
  end

  it("lowers the validation loss in two epochs", function()
    local set <close> = data.open(set_path, {split = {8, 2, 2}})
    local fresh = d3m.models.d3m{channels = 4, seed = 3}
    local before = train.evaluate(fresh, d3m.nn.MSELoss(), set:loader("validation"))

    local result = train.run(config("two", {epochs = 2}))
    assert.are.equal(8, result.iteration)
    local rows = train.read_csv(folder .. "/two/train.csv")
    assert.are.equal(2, #rows)
    assert.are.same({4, 8}, {rows[1].iteration, rows[2].iteration})
    assert.is_true(rows[2].validation_loss < before,
      string.format("validation loss %g after two epochs, %g before", rows[2].validation_loss,
        before))
    assert.are.equal(math.min(rows[1].validation_loss, rows[2].validation_loss),
      result.best_validation_loss)
  end)

  it("averages the validation loss over every sample", function()
    -- Seven validation samples in batches of 3 (3 + 3 + 1) against the
    -- mean of per-sample losses. Float32 sums of 1536 squares per sample
    -- agree to about 1e-7 relative, so 1e-5 leaves margin.
    local set <close> = data.open(set_path, {split = {5, 7, 0}})
    local model = d3m.models.d3m{channels = 4, seed = 5}
    local loss = d3m.nn.MSELoss()
    local mean = train.evaluate(model, loss, set:loader("validation", {batch_size = 3}))
    model:evaluate()
    local total = 0
    for index = 6, 12 do
      local input = set.file:read("za", index):reshape{1, 3, 8, 8, 8}
      local target = set.file:read("fastpm", index):reshape{1, 3, 8, 8, 8}
      total = total + loss:forward(model:forward(input), target)
    end
    assert.is_true(math.abs(mean - total / 7) <= 1e-5 * total / 7,
      string.format("batched %.9g, per sample %.9g", mean, total / 7))
  end)

  it("writes the checkpoint layout", function()
    local output = folder .. "/two"
    local model = d3m.models.d3m{channels = 4}
    local state = checkpoint.read(output .. "/last.h5")
    for _, p in ipairs(model:named_parameters()) do
      assert.is_not_nil(state.params[p.name], "/params/" .. p.name)
      assert.is_not_nil(state.optim.exp_avg[p.name], "/optim/exp_avg/" .. p.name)
      assert.is_not_nil(state.optim.exp_avg_sq[p.name], "/optim/exp_avg_sq/" .. p.name)
    end
    for _, b in ipairs(model:named_buffers()) do
      assert.is_not_nil(state.buffers[b.name], "/buffers/" .. b.name)
    end
    assert.are.equal(8, state.optim.step)
    assert.are.equal(2, state.attrs.epoch)
    assert.are.equal(8, state.attrs.iteration)
    assert.are.equal(3, state.attrs.seed)
    assert.are.equal(4, state.attrs.channels)
    local rows = train.read_csv(output .. "/train.csv")
    assert.are.equal(math.min(rows[1].validation_loss, rows[2].validation_loss),
      state.attrs.best_validation_loss)

    local best = checkpoint.read(output .. "/best.h5")
    assert.is_nil(best.optim)
    assert.are.equal(state.attrs.best_validation_loss, best.attrs.validation_loss)
    local loaded = checkpoint.load_model(output .. "/best.h5")
    assert.is_false(loaded.training)
  end)

  it("refuses to overwrite a run without --resume", function()
    expect_error("already contains a run (last.h5); pass --resume", train.run,
      config("two", {epochs = 2}))
  end)

  it("names a checkpoint of another width", function()
    expect_error("holds a model with channels = 4, but this model has channels = 8", train.run,
      config("two", {epochs = 3, channels = 8, resume = true}))
  end)

  it("refuses to resume with another batch order", function()
    expect_error("it was trained with seed = 3 (now 4)", train.run,
      config("two", {epochs = 3, seed = 4, resume = true}))
  end)

  it("stops on a non-finite loss and keeps the last good checkpoint", function()
    -- Two files alike but for sample 1: targets of 1e30 Mpc/h are finite
    -- in float32, but their squares are not, so the loss is Inf at the
    -- batch that contains sample 1. One epoch on the good file writes
    -- last.h5; resuming on the bad one must stop and leave it unchanged.
    local function write_constant(file, first_value)
      local writer <close> = d3m.io.dataset(file, {n = 8, box = 32.0})
      for s = 1, 4 do
        local field = d3m.full({3, 8, 8, 8}, s == 1 and first_value or 0.1)
        writer:append{za = field, lpt2 = field, fastpm = field, seed = s}
      end
    end
    local good, huge = folder .. "/good.h5", folder .. "/huge.h5"
    write_constant(good, 0.2)
    write_constant(huge, 1e30)

    local c = config("huge", {dataset = good, split = {3, 1, 0}, batch_size = 1, epochs = 1})
    train.run(c)
    local last = folder .. "/huge/last.h5"
    assert.are.equal(3, checkpoint.read(last).attrs.iteration)

    c.dataset, c.epochs, c.resume = huge, 2, true
    local ok, message = pcall(train.run, c)
    assert.is_false(ok)
    assert.matches("training loss is inf at epoch 2, batch %d+ %(iteration %d+, samples 1%)",
      message)
    assert.matches("stopped without updating the model, the last good checkpoint is '" .. last
      .. "'", message, 1, true)
    assert.are.equal(3, checkpoint.read(last).attrs.iteration)
  end)
end)


describe("d3m train", function()
  local folder, set_path
  local common

  setup(function()
    folder = tiny.folder()
    set_path = tiny.write(folder .. "/set.h5", {n = 8, count = 10})
    common = "--dataset " .. quote(set_path) .. " --channels 4 --batch-size 2 --lr 1e-3 "
      .. "--split 6,2,2 --seed 5 --no-plot"
  end)

  teardown(function()
    collectgarbage()
    tiny.remove(folder)
  end)

  it("resumes to the uninterrupted result", function()
    local straight, resumed = folder .. "/straight", folder .. "/resumed"
    local code, text = run_train(common .. " --epochs 3 --output " .. quote(straight),
      folder .. "/straight.log")
    assert.are.equal(0, code, text)

    -- Stop in the middle of epoch 2 (3 batches per epoch), then resume.
    code, text = run_train(common .. " --epochs 3 --stop-after-iterations 5 --output "
      .. quote(resumed), folder .. "/stop.log")
    assert.are.equal(0, code, text)
    assert.matches("stopped by --stop-after-iterations at iteration 5", text, 1, true)
    assert.are.equal(5, checkpoint.read(resumed .. "/last.h5").attrs.iteration)
    code, text = run_train(common .. " --epochs 3 --resume --output " .. quote(resumed),
      folder .. "/resume.log")
    assert.are.equal(0, code, text)

    -- Same kernels on the same data in the same order: bit-identical is
    -- expected; 1e-6 allows for a device with nondeterministic sums.
    local worst, compared, a, b = checkpoint_difference(straight .. "/last.h5",
      resumed .. "/last.h5")
    assert.is_true(compared > 100)
    assert.is_true(worst <= 1e-6, "parameters differ by " .. worst)
    assert.are.equal(a.iteration, b.iteration)
    assert.are.equal(a.best_validation_loss, b.best_validation_loss)
    assert.are.same(train.read_csv(straight .. "/train.csv"),
      train.read_csv(resumed .. "/train.csv"))
  end)

  it("checkpoints on SIGTERM and resumes", function()
    local straight, killed = folder .. "/straight40", folder .. "/killed"
    local arguments = common .. " --epochs 40 --output "
    local code, text = run_train(arguments .. quote(straight), folder .. "/straight40.log")
    assert.are.equal(0, code, text)

    -- The inner shell prints its pid and replaces itself with d3m; the
    -- outer one prints d3m's exit status.
    local log_path = folder .. "/killed.log"
    local script = assert(io.open(folder .. "/exec.sh", "w"))
    script:write('echo $$\nexec "$@" >/dev/null 2>"$TRAIN_LOG"\n')
    script:close()
    local pipe = io.popen("TRAIN_LOG=" .. quote(log_path) .. " sh " .. quote(folder .. "/exec.sh")
      .. " " .. quote(BIN) .. " train " .. arguments .. quote(killed) .. "; echo exit $?")
    local pid = math.tointeger(tonumber(pipe:read("l")))
    assert.is_not_nil(pid)
    -- Wait for the first epoch's checkpoint, then interrupt.
    local start = os.time()
    while not exists(killed .. "/last.h5") and os.time() - start < 60 do
      os.execute("sleep 0.05")
    end
    assert.is_true(os.execute("kill -TERM " .. pid))
    local status_line = pipe:read("l")
    pipe:close()
    local log = io.open(log_path):read("a")
    assert.are.equal("exit 143", status_line, log)
    assert.matches("stopped by SIGTERM at iteration", log, 1, true)
    local stopped_at = checkpoint.read(killed .. "/last.h5").attrs.iteration
    assert.is_true(stopped_at < 120, "the run ended before the signal arrived")

    code, text = run_train(arguments .. quote(killed) .. " --resume", folder .. "/resume40.log")
    assert.are.equal(0, code, text)
    local worst = checkpoint_difference(straight .. "/last.h5", killed .. "/last.h5")
    assert.is_true(worst <= 1e-6, "parameters differ by " .. worst .. " after a stop at "
      .. stopped_at)
  end)

  it("writes the learning curve", function()
    if not os.execute("command -v gnuplot >/dev/null 2>&1") then
      pending("gnuplot is not installed")
      return
    end
    local output = folder .. "/plot"
    local code, text = run_train("--dataset " .. quote(set_path) .. " --channels 4 "
      .. "--batch-size 3 --split 6,2,2 --epochs 2 --output " .. quote(output), folder .. "/plot.log")
    assert.are.equal(0, code, text)
    local png = io.open(output .. "/learning_curve.png", "rb")
    assert.is_not_nil(png)
    assert.are.equal("\137PNG", png:read(4))
    png:close()
  end)

  it("names a dataset without the target field", function()
    local file = folder .. "/za_only.h5"
    d3m.io.write(file, "/za", d3m.zeros{2, 3, 8, 8, 8})
    local code, text = run_train("--dataset " .. quote(file) .. " --output "
      .. quote(folder .. "/none"), folder .. "/none.log")
    assert.are.equal(1, code)
    assert.matches("has no /fastpm (the target); it contains /za", text, 1, true)
  end)
end)


describe("d3m.signals", function()
  after_each(function()
    d3m.signals.unwatch()
  end)

  it("records a watched signal once", function()
    d3m.signals.watch{"INT", "TERM"}
    assert.is_nil(d3m.signals.pending())
    d3m.signals.raise("TERM")
    assert.are.equal("TERM", d3m.signals.pending())
    assert.is_nil(d3m.signals.pending())
    d3m.signals.raise("SIGINT")
    assert.are.equal("INT", d3m.signals.pending())
  end)

  it("rejects an unknown signal name", function()
    expect_error("unknown signal 'KILL'", d3m.signals.watch, {"KILL"})
  end)
end)
