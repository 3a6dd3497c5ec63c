-- d3m predict: displacements from a trained D3M model for every field of
-- an HDF5 file (a training set or any file with [N, 3, n, n, n] or
-- [3, n, n, n] ZA displacements in Mpc/h). Grids larger than the training
-- box work: the network is periodic and fully convolutional.
local cli = require "d3m.cli"
local log = require "d3m.log"
local progress = require "d3m.progress"
local predict = require "d3m.predict"

local parser = cli.parser("predict", "Predict N-body displacements from ZA displacements with a "
  .. "trained D3M model.",
  "Writes OUTPUT atomically with /d3m (same shape as the input field, Mpc/h), /seed when the "
  .. "input has one, and the input's root attributes. A grid that does not fit in device "
  .. "memory runs in periodic tiles with a halo of at least the network's receptive radius "
  .. "(26 voxels), which gives the same result as one piece.")
parser:option("--checkpoint", "Trained model: best.h5 or last.h5 of a d3m train run."):count(1)
parser:option("--input", "HDF5 file with the input displacements."):count(1)
parser:option("--output", "HDF5 file to write.", "prediction.h5")
parser:option("--field", "Dataset of the input file to predict from.", "za")
parser:option("--subset", "Which samples: all, or train, validation or test of the split the "
  .. "model was trained with.", "all"):choices {"all", "train", "validation", "test"}
parser:option("--tile", "Tile size (a multiple of 4 that divides n); 0 runs one piece. Default: "
  .. "one piece when it fits in half the device memory, else the largest tile that fits.")
  :convert(function(text)
    local value = math.tointeger(tonumber(text))
    if not value or value < 0 or value % 4 ~= 0 then
      return nil, "--tile must be 0 or a positive multiple of 4, got '" .. text .. "'"
    end
    return value
  end)
parser:option("--halo", "Halo width of a tile in voxels (a multiple of 4, at least 28).", "28")
  :convert(cli.positive_integer("--halo"))

local options = cli.parse(parser, arg)

-- A progress line with samples/s and the time left.
local reporter
local function show_progress(done, total)
  reporter = reporter or progress.new{total = total, label = "predict", unit = "samples"}
  reporter:update(done)
end

local ok, result = pcall(predict.file, {
  checkpoint = options.checkpoint, input = options.input, output = options.output,
  field = options.field, subset = options.subset, tile = options.tile, halo = options.halo,
  log = options.verbose and log.info or nil, progress = show_progress,
})
if not ok then
  io.stderr:write("d3m predict: ", cli.message(result, "predict"), "\n")
  os.exit(1)
end
print(string.format("%d sample(s) of %d^3 (indices %d to %d) written to %s", result.count,
  result.n, result.first, result.last, options.output))
