-- d3m demo: the D3M pipeline of He et al. (2019) end to end at a size this
-- machine can do in a time budget: generate FastPM training data, train a
-- D3M, predict the held-out simulations and compare D3M, 2LPT and ZA with
-- FastPM (Table 1 and the figures). Each stage runs one of the d3m
-- commands, printed before it runs, so every step can be rerun by hand.
-- Rerunning the demo reuses the stages that are finished.
local d3m = require "d3m"
local cli = require "d3m.cli"
local generate = require "d3m.generate"
local log = require "d3m.log"

local parser = cli.parser("demo", "Run the D3M pipeline end to end: generate FastPM simulations, "
  .. "train a D3M model, predict the test simulations and evaluate D3M, 2LPT and ZA against "
  .. "FastPM.", "By default the demo sizes the run to --minutes by timing one simulation and one "
  .. "training step first. --full runs the paper's recipe (10,000 simulations, 64 channels, batch "
  .. "50, learning rate 1e-4, no residual); it is meant for a GPU, since its training alone "
  .. "takes about 3 days on 2 CPU cores.")
parser:option("-o --output", "Folder for the dataset, the model, the predictions and the report.",
  "demo")
parser:option("--minutes", "Time budget of the whole budgeted demo in minutes (wall clock).",
  "20")
  :convert(cli.positive("--minutes"))
parser:flag("--full", "Run the paper-scale recipe instead of the budgeted demo.")
parser:flag("--quick", "A smoke test of the whole pipeline in about a minute (16^3 particles, "
  .. "10 simulations, a 4-channel model); numbers from it mean nothing.")
parser:option("--channels", "Model width (channels of the first level; default 16, 4 with "
  .. "--quick, 64 with --full).")
  :convert(cli.positive_integer("--channels"))
parser:option("--simulations", "Number of simulations, split 80/10/10 into training, validation "
  .. "and test (default: sized to the budget; 10000 with --full).")
  :convert(cli.positive_integer("--simulations"))
parser:option("--epochs", "Training epochs (default: sized to the budget; 30 with --full).")
  :convert(cli.positive_integer("--epochs"))
parser:flag("--no-zeta", "Skip the 3PCF part of the evaluation.")
local options = cli.parse(parser, arg)

-- The d3m executable running this script, to run the stages with.
local function d3m_binary()
  local i = -1
  while arg[i - 1] do i = i - 1 end
  return arg[i] or "d3m"
end

local function quote(text)
  return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

local function file_exists(path)
  local file = io.open(path, "rb")
  if file then file:close() end
  return file ~= nil
end

local function modification_time(path)
  local pipe = io.popen("stat -c %Y " .. quote(path) .. " 2>/dev/null")
  local value = tonumber(pipe:read("l") or "")
  pipe:close()
  return value
end

-- Run one stage's command, echoing it; raises when it fails.
local function run_stage(title, words)
  local command = {quote(d3m_binary())}
  for _, word in ipairs(words) do
    command[#command + 1] = quote(word)
  end
  local text = table.concat(command, " ")
  print("")
  print(string.format("== %s", title))
  print("$ " .. text:gsub("'([%w%._/=,:+-]+)'", "%1"))
  io.stdout:flush()
  local start = d3m.time()
  local ok, _, code = os.execute(text)
  if not ok then
    error(string.format("the %s stage failed (exit status %s); fix the problem above and rerun "
      .. "the demo, which continues where it stopped", title, tostring(code)), 0)
  end
  return d3m.time() - start
end


-- ---- the plan ----------------------------------------------------------------

local plan = {
  n = 32, box = 128.0, steps = 10, boost = 2, channels = 16, batch_size = 8, lr = 1e-3,
  residual = true, zeta = not options.no_zeta, zeta_samples = 5,
}

if options.quick then
  plan.n, plan.box, plan.steps, plan.channels, plan.batch_size = 16, 64.0, 5, 4, 2
  plan.simulations, plan.epochs, plan.zeta_samples = 10, 1, 2
elseif options.full then
  plan.channels, plan.batch_size, plan.lr, plan.residual = 64, 50, 1e-4, false
  plan.simulations, plan.epochs = 10000, 30
end
plan.channels = options.channels or plan.channels
plan.simulations = options.simulations or plan.simulations
plan.epochs = options.epochs or plan.epochs

-- Seconds for one simulation and one training sample, measured here.
local function calibrate()
  local settings = generate.settings{n = plan.n, box = plan.box, steps = plan.steps,
    boost = plan.boost}
  generate.free(generate.sample(settings, 1))   -- builds the kernels
  local start = d3m.time()
  generate.free(generate.sample(settings, 2))
  d3m.finish()
  local simulation = d3m.time() - start

  local model = d3m.models.d3m{channels = plan.channels, residual = plan.residual}
  model:train()
  local batch = d3m.zeros{plan.batch_size, 3, plan.n, plan.n, plan.n}
  local loss = d3m.nn.MSELoss()
  local function step()
    model:zero_grad()
    local out = model:forward(batch)
    loss:forward(out, batch)
    model:backward(batch, loss:backward(out, batch))
    d3m.finish()
  end
  step()
  start = d3m.time()
  step()
  local sample = (d3m.time() - start) / plan.batch_size
  model:clear_state()
  collectgarbage()
  return simulation, sample
end

-- Fill in the simulation count and epochs from the budget: a fifth of the
-- time for the simulations, two thirds for training, the rest for
-- prediction, evaluation and margin.
local function size_to_budget(simulation_seconds, sample_seconds)
  local budget = options.minutes * 60
  if not plan.simulations then
    local count = math.floor(0.2 * budget / simulation_seconds / 10) * 10
    plan.simulations = math.max(40, math.min(count, 2000))
  end
  local train_samples = math.floor(plan.simulations * 0.8)
  if not plan.epochs then
    plan.epochs = math.max(1, math.floor(0.65 * budget / sample_seconds / train_samples))
  end
  return train_samples
end

-- The device first, so that an unknown one fails before the output folder
-- is made.
local dev = d3m.device()

local output = options.output
os.execute("mkdir -p " .. quote(output))
log.to_file(output .. "/demo.log")

-- The plan of the first run is kept in OUTPUT/plan.lua, so a rerun reuses
-- the finished stages instead of re-planning from new timings.
local plan_path = output .. "/plan.lua"

local function save_plan(simulation_seconds, sample_seconds)
  local lines = {"return {"}
  local names = {}
  for name in pairs(plan) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    lines[#lines + 1] = string.format("  %s = %q,", name, plan[name])
  end
  lines[#lines + 1] = string.format("  simulation_seconds = %q,", simulation_seconds)
  lines[#lines + 1] = string.format("  sample_seconds = %q,", sample_seconds)
  lines[#lines + 1] = "}"
  local file = assert(io.open(plan_path, "w"))
  file:write(table.concat(lines, "\n"), "\n")
  file:close()
end

print(string.format("d3m demo on %s (%s)", dev.name, dev.type))
local simulation_seconds, sample_seconds
if file_exists(plan_path) then
  local saved = dofile(plan_path)
  for name, value in pairs(saved) do
    if plan[name] ~= nil or name == "simulations" or name == "epochs" then plan[name] = value end
  end
  plan.epochs = options.epochs or plan.epochs   -- a larger --epochs extends the training
  simulation_seconds, sample_seconds = saved.simulation_seconds, saved.sample_seconds
  log.info("reusing the plan of the first run in %s (delete it to plan again)", plan_path)
else
  log.info("calibrating: one %d^3 FastPM simulation and one training step of a %d-channel model",
    plan.n, plan.channels)
  simulation_seconds, sample_seconds = calibrate()
end
local train_samples = size_to_budget(simulation_seconds, sample_seconds)
save_plan(simulation_seconds, sample_seconds)
local estimate = plan.simulations * simulation_seconds
  + plan.epochs * train_samples * sample_seconds * 1.15   -- validation passes
  + 0.05 * plan.simulations * 1.0 + 60
-- "1 epoch", "2 epochs".
local function count(number, noun)
  return string.format("%d %s%s", number, noun, number == 1 and "" or "s")
end

local minutes = math.max(1, math.floor(estimate / 60 + 0.5))
print(string.format([[
plan: %s of %d^3 particles in a %.0f Mpc/h box (FastPM, %d scale factors, boost %d),
      split 80/10/10; a D3M of %d channels%s trained for %s (batch %d, Adam lr %g);
      then prediction and evaluation of the %s.
measured: %.2f s per simulation, %.3f s per training sample.
estimate: about %s in all%s.]],
  count(plan.simulations, "simulation"), plan.n, plan.box, plan.steps, plan.boost, plan.channels,
  plan.residual and " (residual: learns the correction to ZA)" or "", count(plan.epochs, "epoch"),
  plan.batch_size, plan.lr,
  count(plan.simulations - train_samples - math.floor(plan.simulations * 0.1), "test simulation"),
  simulation_seconds, sample_seconds, count(minutes, "minute"),
  options.full and " on this device" or ""))
io.stdout:flush()


-- ---- the stages --------------------------------------------------------------

local dataset = output .. "/dataset.h5"
local train_folder = output .. "/train"
local prediction = output .. "/prediction.h5"
local report = output .. "/report"
local times = {}

times.generate = run_stage("1/4 generate FastPM, 2LPT and ZA displacements", {"generate",
  "--output", dataset, "--count", tostring(plan.simulations), "--first-seed", "1",
  "--n", tostring(plan.n), "--box", tostring(plan.box), "--steps", tostring(plan.steps),
  "--boost", tostring(plan.boost)})

local train_words = {"train", "--dataset", dataset, "--output", train_folder,
  "--channels", tostring(plan.channels), "--epochs", tostring(plan.epochs),
  "--batch-size", tostring(plan.batch_size), "--lr", tostring(plan.lr)}
if plan.residual then train_words[#train_words + 1] = "--residual" end
local last = train_folder .. "/last.h5"
local trained_epochs = file_exists(last) and d3m.io.attributes(last).epoch or nil
if trained_epochs and trained_epochs >= plan.epochs then
  print(string.format("\n== 2/4 train: %s already holds %d epochs; reusing it", last, trained_epochs))
else
  if trained_epochs then train_words[#train_words + 1] = "--resume" end
  times.train = run_stage("2/4 train D3M", train_words)
end

local best = train_folder .. "/best.h5"
local prediction_time, best_time = modification_time(prediction), modification_time(best)
if prediction_time and best_time and prediction_time >= best_time then
  print("\n== 3/4 predict: " .. prediction .. " is newer than the model; reusing it")
else
  times.predict = run_stage("3/4 predict the test simulations", {"predict", "--checkpoint", best,
    "--input", dataset, "--subset", "test", "--output", prediction})
end

local evaluate_words = {"evaluate", "--dataset", dataset, "--predictions", prediction,
  "--output", report}
if plan.zeta then
  evaluate_words[#evaluate_words + 1] = "--zeta"
  evaluate_words[#evaluate_words + 1] = "--zeta-samples"
  evaluate_words[#evaluate_words + 1] = tostring(plan.zeta_samples)
end
times.evaluate = run_stage("4/4 evaluate D3M, 2LPT and ZA against FastPM", evaluate_words)

local parts = {}
for _, stage in ipairs({"generate", "train", "predict", "evaluate"}) do
  if times[stage] then
    parts[#parts + 1] = string.format("%s %s", stage, require("d3m.progress").format_seconds(times[stage]))
  end
end
print("")
print(string.format("demo finished (%s); the report is %s/report.md", table.concat(parts, ", "),
  report))
log.info("demo finished: %s", table.concat(parts, ", "))
