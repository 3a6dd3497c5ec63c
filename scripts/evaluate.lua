-- d3m evaluate: Table 1 of He et al. (2019, PNAS 116, 13825) for ZA, 2LPT
-- and D3M against FastPM on the test samples of a training set, printed
-- and written to an output folder as markdown, CSV, PNG figures and
-- report.md.
local cli = require "d3m.cli"
local log = require "d3m.log"
local progress = require "d3m.progress"
local evaluate = require "d3m.evaluate"

local parser = cli.parser("evaluate", "Compare ZA, 2LPT and D3M displacements with FastPM: "
  .. "point-wise error, T(k) and r(k) of the density and the displacement, and the 3PCF "
  .. "residual (Table 1 of He et al. 2019).",
  "Writes OUTPUT/table.md, OUTPUT/table.csv (each file written whole to a temporary name, "
  .. "then renamed), the PNG figures and OUTPUT/report.md. Spectra are averaged over the "
  .. "simulations before T and r are taken; the spread is the standard deviation of the "
  .. "per-simulation values. T and r at each k are interpolated linearly in k between bin "
  .. "centres.")
parser:option("-d --dataset", "Training-set file with /za, /lpt2 and /fastpm (d3m generate)."):count(1)
parser:option("-p --predictions", "Predictions file of d3m predict; without it only ZA and 2LPT "
  .. "are evaluated.")
parser:option("--prediction-name", "Dataset of the predictions file that contains the predicted "
  .. "displacements [N, 3, n, n, n] in Mpc/h.", "d3m")
parser:option("--samples", "Dataset samples to evaluate, A-B (1-based, inclusive). Default: "
  .. "the test subset of the 80/10/10 split, the last 10 %.")
  :convert(evaluate.parse_range)
parser:flag("--all", "Evaluate every sample of the dataset.")
parser:option("--k", "Wavenumbers in h/Mpc for T and r, separated by commas.", "0.11,0.50")
  :convert(function(text)
    local values = {}
    for item in text:gmatch("[^,]+") do
      local value = tonumber(item)
      if not value or value <= 0 then
        return nil, string.format("--k takes positive wavenumbers separated by commas, got '%s'",
          text)
      end
      values[#values + 1] = value
    end
    return values
  end)
parser:option("-o --output", "Folder for the table, the figures and report.md.", "evaluation")
parser:option("--mesh", "Cells per side of the density mesh (default: the particles per side).")
  :convert(cli.positive_integer("--mesh"))
parser:option("--window", "Density window compensation: cic (the aliasing-aware CIC form), "
  .. "sinc2 or none.", "cic"):choices {"cic", "sinc2", "none"}
parser:flag("--zeta", "Also compute the 3PCF residual (the slowest part: (lmax + 1)^2 inverse "
  .. "FFTs per radial bin and field).")
parser:option("--zeta-method", "How to compute the 3PCF multipoles: mesh (FFT convolutions of "
  .. "the painted density) or particles (sums over particle pairs, no mesh smoothing, about 15 "
  .. "times slower at 32^3 with PoCL on 2 CPU cores).", "mesh"):choices {"mesh", "particles"}
parser:option("--zeta-samples", "Simulations used for the 3PCF (the first ones of the range).",
  "10"):convert(cli.positive_integer("--zeta-samples"))
parser:option("--zeta-width", "Width of the 3PCF radial bins in Mpc/h (default: 5, or 1.25 mesh "
  .. "cells when that is wider).")
  :convert(cli.positive("--zeta-width"))
parser:option("--zeta-bins", "Number of 3PCF radial bins from r = 0 (default: 10, fewer when "
  .. "r_max would pass half the box).")
  :convert(cli.positive_integer("--zeta-bins"))
parser:flag("--no-figures", "Write the tables and report.md without PNG figures.")

local options = cli.parse(parser, arg)

-- The command line, shell-quoted so that it can be pasted back.
local function command_line()
  local words = {"d3m", "evaluate"}
  for _, word in ipairs(arg) do
    if word:find("^[%w%-_./=,:]+$") then
      words[#words + 1] = word
    else
      words[#words + 1] = "'" .. word:gsub("'", "'\\''") .. "'"
    end
  end
  return table.concat(words, " ")
end

local reporter
local function show_progress(done, total)
  reporter = reporter or progress.new{total = total, label = "evaluate", unit = "simulations"}
  reporter:update(done)
end

local ok, err = pcall(function()
  local results = evaluate.run{
    dataset = options.dataset, predictions = options.predictions,
    prediction_name = options.prediction_name, samples = options.samples, all = options.all,
    k = options.k, mesh = options.mesh, window = options.window, zeta = options.zeta,
    zeta_method = options.zeta_method, zeta_samples = options.zeta_samples, zeta_width = options.zeta_width,
    zeta_bins = options.zeta_bins, progress = show_progress, warn = log.warn,
  }
  local report = require "d3m.evaluate.report"
  local written = report.write(results, options.output,
    {figures = not options.no_figures, command = command_line()})
  print(report.set_description(results) .. "\n")
  io.stdout:write(require("d3m.evaluate.tables").markdown(results))
  if options.verbose then
    log.info("wrote %s, %s and %s", written.markdown, written.csv, written.report)
  end
  print(string.format("\nwritten to %s/ (table.md, table.csv, report.md%s)", options.output,
    options.no_figures and "" or ", figures"))
end)
if not ok then
  io.stderr:write("d3m evaluate: ", cli.message(err, "evaluate"), "\n")
  os.exit(1)
end
