-- d3m train: train a D3M network on a training set (ZA input, FastPM
-- target by default) with the settings of He et al. 2019: MSE loss, Adam
-- (lr 1e-4, L2 weight decay 1e-4 added to the gradient), batch 50, an
-- 80/10/10 split and augmentation by the 48 symmetries of the cube.
-- The loop itself is d3m.train.run in lua/d3m/train.lua. To change it,
-- copy this script and call the pieces of d3m.train instead.
local cli = require "d3m.cli"
local train = require "d3m.train"

local parser = cli.parser("train", "Train a D3M model on a training set.",
  "Writes OUTPUT/last.h5 (checkpoint: every epoch and on SIGINT/SIGTERM), OUTPUT/best.h5 "
  .. "(lowest validation loss), OUTPUT/train.csv, OUTPUT/train.log and "
  .. "OUTPUT/learning_curve.png. Stop with Ctrl-C or SIGTERM and continue with the same "
  .. "command plus --resume; the resumed run reaches the same parameters.")
parser:option("--dataset", "Training-set file (HDF5 with /za, /fastpm ... [N, 3, n, n, n]).")
  :count(1)
parser:option("--output", "Output folder (created when missing).", "train-output")
parser:option("--input", "Input field of the training set: za, lpt2 or fastpm.", "za")
  :choices {"za", "lpt2", "fastpm"}
parser:option("--target", "Target field of the training set: za, lpt2 or fastpm.", "fastpm")
  :choices {"za", "lpt2", "fastpm"}
parser:option("--channels", "Width: channels of the first level, 64 in He et al. 2019 (the "
  .. "deeper levels have 2x and 4x this).", "64"):convert(cli.positive_integer("--channels"))
parser:option("--epochs", "Epochs to train (counted from the start of the run, so a resumed "
  .. "run can be extended). Default 10 unless --iterations is given.")
  :convert(cli.positive_integer("--epochs"))
parser:option("--iterations", "Optimizer steps to train instead of --epochs.")
  :convert(cli.positive_integer("--iterations"))
parser:option("--batch-size", "Samples per batch.", "50"):convert(cli.positive_integer("--batch-size"))
parser:option("--lr", "Adam learning rate.", "1e-4"):convert(cli.positive("--lr"))
parser:option("--weight-decay", "L2 coefficient added to the gradient (not decoupled).", "1e-4")
  :convert(function(text)
    local value = tonumber(text)
    if not value or value < 0 then
      return nil, "--weight-decay must be a number >= 0, got '" .. text .. "'"
    end
    return value
  end)
parser:option("--validate-every", "Iterations between validations (default: once per epoch).")
  :convert(cli.positive_integer("--validate-every"))
parser:option("--split", "Train, validation and test shares as fractions (0.8,0.1,0.1) or "
  .. "sample counts (800,100,100), taken in index order.", "0.8,0.1,0.1")
  :convert(function(text)
    local values = {}
    for field in text:gmatch("[^,]+") do
      values[#values + 1] = tonumber(field)
    end
    if #values ~= 3 then
      return nil, "--split needs three comma-separated numbers, got '" .. text .. "'"
    end
    return values
  end)
parser:option("--seed", "Seed of the model initialisation, the shuffling and the augmentation.",
  "0"):convert(function(text)
    local value = math.tointeger(tonumber(text))
    if not value then
      return nil, "--seed must be an integer, got '" .. text .. "'"
    end
    return value
  end)
parser:flag("--residual", "Add the input (ZA) displacement to the network's output, so the "
  .. "network learns the correction to it. Not in He et al. 2019; it trains much faster at "
  .. "small widths and budgets.")
parser:flag("--no-augment", "Do not apply the 48 cube symmetries to training batches.")
parser:flag("--resume", "Continue the run in --output from its last.h5.")
parser:flag("--no-plot", "Do not write learning_curve.png.")
parser:option("--stop-after-iterations", "Stop with a checkpoint once the run has done this "
  .. "many iterations, as SIGTERM would (for testing resume).")
  :convert(cli.positive_integer("--stop-after-iterations"))

local options = cli.parse(parser, arg)
if not options.epochs and not options.iterations then
  options.epochs = 10
end

local ok, result = pcall(train.run, {
  dataset = options.dataset, output = options.output, input = options.input,
  target = options.target, channels = options.channels, residual = options.residual,
  epochs = options.epochs,
  iterations = options.iterations, batch_size = options.batch_size, lr = options.lr,
  weight_decay = options.weight_decay, validate_every = options.validate_every,
  split = options.split, seed = options.seed, augment = not options.no_augment,
  resume = options.resume, plot = not options.no_plot,
  stop_after_iterations = options.stop_after_iterations,
})
if not ok then
  io.stderr:write("d3m train: ", cli.message(result, "train"), "\n")
  os.exit(1)
end

-- A run stopped by a signal exits as shells expect (128 + signal number).
local exit_codes = {SIGINT = 130, SIGTERM = 143}
if result.stopped then
  print(string.format("stopped by %s at iteration %d; continue with the same command and --resume",
    result.stopped, result.iteration))
  os.exit(exit_codes[result.stopped] or 0)
end
print(string.format("iterations %d, best validation loss %.6g at iteration %d, model %s/best.h5",
  result.iteration, result.best_validation_loss or 0 / 0, result.best_iteration or 0,
  options.output))
