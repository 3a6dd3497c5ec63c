-- d3m.evaluate: judge ZA, 2LPT and D3M displacements against FastPM with
-- the statistics of Table 1 of He et al. (2019, PNAS 116, 13825): the
-- point-wise displacement error, T(k) and r(k) of the density and of the
-- displacement field, and the relative residual of the 3PCF multipoles.
-- Spectra and multipoles are averaged over simulations before ratios are
-- taken; the spread is the standard deviation of the per-simulation values.
-- Tables go through d3m.evaluate.tables, figures through
-- d3m.evaluate.figures.
local d3m = require "d3m"
local stats = require "d3m.stats"

local evaluate = {}

evaluate.TRUTH = "fastpm"
evaluate.LABELS = {za = "ZA", lpt2 = "2LPT", d3m = "D3M", fastpm = "FastPM"}
evaluate.DEFAULT_K = {0.11, 0.50}

-- Table 1 of He et al. (2019): fiducial cosmology, 1000 test simulations of
-- 32^3 particles in 128 Mpc/h boxes, each model against FastPM. T and r are
-- listed at PAPER_K.
evaluate.PAPER_K = {0.11, 0.50}
evaluate.PAPER = {
  lpt2 = {
    pointwise = 0.093,
    density = {T = {0.96, 0.74}, r = {1.00, 0.94}},
    displacement = {T = {0.96, 1.04}, r = {1.00, 0.90}},
    zeta = 0.0782,
  },
  d3m = {
    pointwise = 0.028,
    density = {T = {1.00, 0.99}, r = {1.00, 1.00}},
    displacement = {T = {1.00, 0.99}, r = {1.00, 1.00}},
    zeta = 0.0079,
  },
}


-- ---- small helpers ---------------------------------------------------------------

local function file_exists(path)
  local file = io.open(path, "rb")
  if file then
    file:close()
  end
  return file ~= nil
end


local function mean_and_std(values)
  local count = #values
  if count == 0 then
    return 0 / 0, 0 / 0
  end
  local sum = 0
  for _, v in ipairs(values) do
    sum = sum + v
  end
  local mean = sum / count
  if count == 1 then
    return mean, 0
  end
  local squares = 0
  for _, v in ipairs(values) do
    squares = squares + (v - mean) ^ 2
  end
  return mean, math.sqrt(squares / (count - 1))
end
evaluate.mean_and_std = mean_and_std


--- Interpolate values (one per bin) at k, linearly in k between the bin
-- centres xs (the mode-weighted mean |k| of each bin, increasing). Between
-- the lower edge of the first bin and its centre, and between the last
-- centre and the upper edge of the last bin, the value of that bin is
-- returned. Returns NaN outside the bin edges, because no bin covers k there.
function evaluate.interpolate(xs, values, k, edges)
  for i = 1, #xs - 1 do
    if k >= xs[i] and k <= xs[i + 1] then
      local t = (k - xs[i]) / (xs[i + 1] - xs[i])
      return values[i] + t * (values[i + 1] - values[i])
    end
  end
  local lo, hi = xs[1], xs[#xs]
  if edges then
    lo, hi = edges[1], edges[#xs + 1]
  end
  if k >= lo and k <= xs[1] then
    return values[1]
  elseif k >= xs[#xs] and k < hi then
    return values[#xs]
  end
  return 0 / 0
end


--- The test subset {first, last} (1-based, inclusive) of the default split
-- of d3m train: samples split by index into 80 % training, 10 %
-- validation and the rest for testing, each count rounded down except the
-- test count, which takes the remainder.
function evaluate.test_range(count)
  local train = math.floor(0.8 * count + 1e-9)
  local validation = math.floor(0.1 * count + 1e-9)
  return {train + validation + 1, count}
end


--- Parse a sample range "A-B", "A:B" or "A" (1-based, inclusive).
function evaluate.parse_range(text)
  local first, last = text:match("^%s*(%d+)%s*[-:]%s*(%d+)%s*$")
  if not first then
    first = text:match("^%s*(%d+)%s*$")
    last = first
  end
  first, last = math.tointeger(tonumber(first)), math.tointeger(tonumber(last))
  if not first or first < 1 or last < first then
    return nil, string.format("invalid sample range '%s'; give A-B with 1 <= A <= B (1-based, "
      .. "inclusive) or a single index", text)
  end
  return {first, last}
end


-- ---- inputs ----------------------------------------------------------------------

local function open_dataset(path)
  if type(path) ~= "string" then
    error("no dataset given: pass the training-set file made by d3m generate", 0)
  end
  if not file_exists(path) then
    error(string.format("dataset file '%s' not found; give the HDF5 file made by d3m generate",
      path), 0)
  end
  local ok, set = pcall(d3m.io.dataset, path, {mode = "r"})
  if not ok then
    error(tostring(set), 0)
  end
  local box = set:attributes().box_size
  if type(box) ~= "number" or box <= 0 then
    set:close()
    error(string.format("dataset '%s' has no positive root attribute box_size (Mpc/h), got %s",
      path, tostring(box)), 0)
  end
  return set, box
end


local function shape_text(shape)
  return "[" .. table.concat(shape, ", ") .. "]"
end


-- Map each evaluated dataset sample to a row of the predictions: by /seed
-- when both files have unique seeds, else by the root attribute
-- first_sample (written by d3m predict), else row i for sample i when the
-- counts agree.
local function prediction_rows(file, path, rows, set, samples)
  local seed_of_row
  if file:exists("seed") then
    local seeds = file:read_integers("seed")
    seed_of_row = {}
    for row, seed in ipairs(seeds) do
      if seed_of_row[seed] then
        seed_of_row = nil
        break
      end
      seed_of_row[seed] = row
    end
  end

  local attrs = file:attributes("/")
  local map = {}
  for _, i in ipairs(samples) do
    local row
    if seed_of_row then
      local seed = set:read("seed", i)
      row = seed_of_row[seed]
      if row == nil then
        error(string.format("predictions '%s' contain no sample with seed %d (dataset sample %d); "
          .. "predict that sample or choose other samples with --samples", path, seed, i), 0)
      end
    elseif math.type(attrs.first_sample) == "integer" then
      row = i - attrs.first_sample + 1
      if row < 1 or row > rows then
        error(string.format("predictions '%s' cover dataset samples %d to %d, not sample %d; "
          .. "predict that sample or choose other samples with --samples", path,
          attrs.first_sample, attrs.first_sample + rows - 1, i), 0)
      end
    elseif rows == set:count() then
      row = i
    else
      error(string.format("predictions '%s' contain %d samples for a dataset of %d and have no "
        .. "/seed or first_sample attribute to match them; write predictions for every sample",
        path, rows, set:count()), 0)
    end
    map[i] = row
  end
  return map
end


--- Open the predictions of a model: dataset `name` of shape [N, 3, n, n, n]
-- (or [3, n, n, n]) in Mpc/h. Returns a function giving the prediction
-- [3, n, n, n] for dataset sample i.
-- NOTE: the whole dataset is read into host memory (0.4 MB per 32^3
-- sample), because d3m.io reads named datasets only whole.
function evaluate.open_predictions(path, name, set, samples, box)
  if not file_exists(path) then
    error(string.format("predictions file '%s' not found; run d3m predict or leave out "
      .. "--predictions to evaluate ZA and 2LPT only", path), 0)
  end
  local file <close> = d3m.io.open(path, "r")
  if file:exists(name) ~= "dataset" then
    local names = {}
    for _, entry in ipairs(file:list()) do
      if entry.kind == "dataset" then
        names[#names + 1] = entry.name
      end
    end
    error(string.format("predictions '%s' have no dataset /%s; the file contains %s; choose the "
      .. "dataset with --prediction-name", path, name,
      #names > 0 and table.concat(names, ", ") or "no datasets"), 0)
  end

  local n = set:n()
  local shape = file:info(name).shape
  local rows
  if #shape == 5 and shape[2] == 3 and shape[3] == n and shape[4] == n and shape[5] == n then
    rows = shape[1]
  elseif #shape == 4 and shape[1] == 3 and shape[2] == n and shape[3] == n and shape[4] == n then
    rows = 1
  else
    error(string.format("predictions /%s in '%s' have shape %s, but the dataset '%s' has %d^3 "
      .. "particles: expected [N, 3, %d, %d, %d]", name, path, shape_text(shape), set:path(), n,
      n, n, n), 0)
  end
  local attrs = file:attributes("/")
  if type(attrs.box_size) == "number" and math.abs(attrs.box_size - box) > 1e-6 * box then
    error(string.format("predictions '%s' are for a %g Mpc/h box, the dataset '%s' for %g Mpc/h",
      path, attrs.box_size, set:path(), box), 0)
  end

  local map = prediction_rows(file, path, rows, set, samples)
  local data = file:read(name)
  local bytes = data:to_string()
  data:free()
  local sample_bytes = 3 * n * n * n * 4
  return function(i)
    local offset = (map[i] - 1) * sample_bytes
    return d3m.from_string(bytes:sub(offset + 1, offset + sample_bytes), {3, n, n, n})
  end
end


-- ---- per-simulation statistics ---------------------------------------------------

-- Default radial bins of the 3PCF: 10 bins of 5 Mpc/h from 0, fewer when
-- r_max would pass box / 2, and at least 1.25 mesh cells wide so that the
-- first bin contains mesh separations.
function evaluate.zeta_edges(box, mesh, width, bins)
  width = width or math.max(5, 1.25 * box / mesh)
  bins = bins or math.min(10, math.floor(box / 2 / width + 1e-9))
  if bins < 1 then
    error(string.format("3PCF bins of %g Mpc/h do not fit in half the %g Mpc/h box; use "
      .. "narrower bins", width, box), 0)
  end
  if bins * width > box / 2 + 1e-9 then
    error(string.format("%d 3PCF bins of %g Mpc/h reach r = %g Mpc/h, beyond half the %g Mpc/h "
      .. "box; lower --zeta-bins or --zeta-width", bins, width, bins * width, box), 0)
  end
  local edges = {}
  for b = 0, bins do
    edges[b + 1] = b * width
  end
  return edges
end


-- 3PCF multipoles of one field: from the painted mesh rho, or from the
-- particles of displacement psi with context.zeta_method = "particles".
local function zeta_of(context, psi, rho)
  if context.zeta_method == "particles" then
    return stats.zeta(psi, context.zeta_opts)
  end
  return stats.zeta_mesh(rho, context.zeta_opts)
end


-- Auto power of a model's field and its cross power with the truth.
local function compare_spectra(pred, truth, opts)
  local auto = stats.power(pred, opts)
  local cross = stats.cross_power(pred, truth, opts)
  return auto, cross
end


-- T and r at the requested k for one simulation.
local function ratios_at(k_values, auto, truth, cross)
  local T = stats.transfer(auto, truth)
  local r = stats.correlation(cross, auto, truth)
  local T_at, r_at = {}, {}
  for j, k in ipairs(k_values) do
    T_at[j] = evaluate.interpolate(truth.k, T, k, truth.edges)
    r_at[j] = evaluate.interpolate(truth.k, r, k, truth.edges)
  end
  return T_at, r_at
end


-- The particles of a slab of final positions 0 <= x_0 < thickness (axis 0,
-- the first displacement component) and the mean |Psi_pred - Psi_true| over
-- the first lattice layers of the same thickness, for the slice figures.
local function slab_positions(psi, box, thickness)
  local positions = stats.positions(psi, {box = box}):to_table()
  local count = #positions // 3
  local x, y = {}, {}
  for p = 1, count do
    if positions[p] < thickness then
      -- Row 2 is axis 1 (y), row 3 axis 2 (x).
      x[#x + 1] = positions[2 * count + p]
      y[#y + 1] = positions[count + p]
    end
  end
  return {x = x, y = y}
end


local function slab_error(pred, truth, n, layers)
  local difference = pred:copy():sub(truth):to_table()
  local cells = n * n * n
  local matrix = {}
  for j = 1, n do
    local row = {}
    for i = 1, n do
      local sum = 0
      for layer = 1, layers do
        local node = (layer - 1) * n * n + (j - 1) * n + (i - 1)
        local d0, d1, d2 = difference[node + 1], difference[cells + node + 1],
          difference[2 * cells + node + 1]
        sum = sum + math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
      end
      row[i] = sum / layers
    end
    matrix[j] = row
  end
  return matrix
end


local function add_zeta(sum, zeta)
  for l, table_l in pairs(zeta) do
    sum[l] = sum[l] or {}
    for b1, row in ipairs(table_l) do
      sum[l][b1] = sum[l][b1] or {}
      for b2, value in ipairs(row) do
        sum[l][b1][b2] = (sum[l][b1][b2] or 0) + value
      end
    end
  end
end


local function scale_zeta(sum, factor)
  for _, table_l in pairs(sum) do
    for _, row in ipairs(table_l) do
      for b2 = 1, #row do
        row[b2] = row[b2] * factor
      end
    end
  end
  return sum
end


-- ---- the evaluation ----------------------------------------------------------------

local FIELDS = {"density", "displacement"}


local function check_options(opts)
  local k_values = opts.k or evaluate.DEFAULT_K
  for _, k in ipairs(k_values) do
    if type(k) ~= "number" or not (k > 0) then
      error(string.format("k values must be positive numbers in h/Mpc, got %s", tostring(k)), 0)
    end
  end
  return k_values
end


local function sample_list(opts, count, path)
  local range = opts.all and {1, count} or opts.samples or evaluate.test_range(count)
  if count == 0 then
    error(string.format("dataset '%s' contains no complete sample", path), 0)
  end
  if range[1] < 1 or range[2] > count or range[2] < range[1] then
    error(string.format("samples %d to %d requested, but '%s' contains samples 1 to %d", range[1],
      range[2], path, count), 0)
  end
  local samples = {}
  for i = range[1], range[2] do
    samples[#samples + 1] = i
  end
  return samples, range
end


-- Accumulators for one model.
local function new_model_state()
  local state = {pointwise = {}, pointwise_max = 0, pointwise_sum = 0, particles = 0,
    zeta_residuals = {}}
  for _, field in ipairs(FIELDS) do
    state[field] = {auto = {}, cross = {}, T = {}, r = {}}
  end
  return state
end


-- Statistics of one model in one simulation, added to its accumulators.
-- truth: the FastPM displacement, its painted mesh, spectra and 3PCF (nil
-- when this simulation has no 3PCF).
local function evaluate_model(context, model, psi, truth, first)
  local box, n = context.box, context.n
  local state = context.states[model]
  local pointwise = stats.pointwise_error(psi, truth.psi)
  state.pointwise[#state.pointwise + 1] = pointwise.mean
  state.pointwise_sum = state.pointwise_sum + pointwise.mean * pointwise.particles
  state.particles = state.particles + pointwise.particles
  state.pointwise_max = math.max(state.pointwise_max, pointwise.max)

  local rho = d3m.pm.paint_displacement(psi, context.mesh, box)
  local inputs = {density = {rho, truth.rho, context.density_opts},
    displacement = {psi, truth.psi, context.displacement_opts}}
  for _, field in ipairs(FIELDS) do
    local pred, true_field, field_opts = table.unpack(inputs[field])
    local auto, cross = compare_spectra(pred, true_field, field_opts)
    local spectra = state[field]
    spectra.auto[#spectra.auto + 1] = auto
    spectra.cross[#spectra.cross + 1] = cross
    local T_at, r_at = ratios_at(context.k, auto, truth.spectra[field], cross)
    spectra.T[#spectra.T + 1] = T_at
    spectra.r[#spectra.r + 1] = r_at
  end

  if truth.zeta then
    local zeta = zeta_of(context, psi, rho)
    add_zeta(context.zeta_sum[model], zeta.zeta)
    state.zeta_residuals[#state.zeta_residuals + 1] =
      stats.zeta_residual(zeta, truth.zeta, {lmax = context.zeta_opts.lmax})
  end

  if first then
    context.slab[model] = {positions = slab_positions(psi, box, context.slab_thickness),
      error = slab_error(psi, truth.psi, n, context.slab_layers)}
  end
  rho:free()
end


-- Statistics of one simulation for every model, added to the accumulators.
local function evaluate_sample(context, index, first)
  local set, box = context.set, context.box
  local psi = set:read(evaluate.TRUTH, index)
  local rho = d3m.pm.paint_displacement(psi, context.mesh, box)
  local truth = {psi = psi, rho = rho, spectra = {
    density = stats.power(rho, context.density_opts),
    displacement = stats.power(psi, context.displacement_opts)}}
  for _, field in ipairs(FIELDS) do
    table.insert(context.truth[field], truth.spectra[field])
  end

  if context.zeta and #context.zeta_samples < context.zeta_limit then
    truth.zeta = zeta_of(context, psi, rho)
    context.zeta_convention = truth.zeta.convention
    context.zeta_samples[#context.zeta_samples + 1] = index
    add_zeta(context.zeta_sum.truth, truth.zeta.zeta)
  end

  for _, model in ipairs(context.models) do
    local prediction = model == "d3m" and context.prediction(index) or set:read(model, index)
    evaluate_model(context, model, prediction, truth, first)
    prediction:free()
  end

  if first then
    context.slab.fastpm = {positions = slab_positions(psi, box, context.slab_thickness)}
  end
  rho:free()
end


-- Column j of a list of per-simulation arrays.
local function column(rows, j)
  local values = {}
  for i, row in ipairs(rows) do
    values[i] = row[j]
  end
  return values
end


-- Spectra averaged over simulations, then T, r and 1 - r^2 per bin and at
-- the requested k, with the spread of the per-simulation values.
local function summarise_spectra(context, model, field, truth_mean)
  local spectra = context.states[model][field]
  local auto, cross = stats.average(spectra.auto), stats.average(spectra.cross)
  local T = stats.transfer(auto, truth_mean)
  local r = stats.correlation(cross, auto, truth_mean)
  local summary = {P = auto.P, P_cross = cross.P, T = T, r = r,
    stochasticity = stats.stochasticity(r), T_at = {}, r_at = {}, T_std = {}, r_std = {}}
  for j, k in ipairs(context.k) do
    summary.T_at[j] = evaluate.interpolate(truth_mean.k, T, k, truth_mean.edges)
    summary.r_at[j] = evaluate.interpolate(truth_mean.k, r, k, truth_mean.edges)
    summary.T_std[j] = select(2, mean_and_std(column(spectra.T, j)))
    summary.r_std[j] = select(2, mean_and_std(column(spectra.r, j)))
  end
  return summary
end


-- Per-l and total residuals of the simulation-averaged multipoles, and the
-- ratio zeta_pred / zeta_true per l.
local function summarise_zeta(context)
  local count = #context.zeta_samples
  local lmax = context.zeta_opts.lmax
  local truth = scale_zeta(context.zeta_sum.truth, 1 / count)
  local result = {edges = context.zeta_opts.edges, lmax = lmax, samples = context.zeta_samples,
    method = context.zeta_method, truth = truth, models = {}}
  for _, model in ipairs(context.models) do
    local mean = scale_zeta(context.zeta_sum[model], 1 / count)
    local residual, convention, left_out = stats.zeta_residual(mean, {zeta = truth,
      convention = context.zeta_convention}, {lmax = lmax})
    local per_l = {}
    for l = 0, lmax do
      local sum, terms = 0, 0
      for b1 = 1, #truth[l] do
        for b2 = b1, #truth[l] do
          if truth[l][b1][b2] ~= 0 then
            sum = sum + math.abs(mean[l][b1][b2] - truth[l][b1][b2]) / math.abs(truth[l][b1][b2])
            terms = terms + 1
          end
        end
      end
      per_l[l] = terms > 0 and sum / terms or 0 / 0
    end
    local _, spread = mean_and_std(context.states[model].zeta_residuals)
    result.models[model] = {zeta = mean, residual = residual, std = spread, per_l = per_l,
      left_out = left_out, per_simulation = context.states[model].zeta_residuals}
    result.convention = convention
  end
  return result
end


local function summarise(context)
  local results = {dataset = context.path, predictions = context.predictions, box = context.box,
    attributes = context.attributes, n = context.n, mesh = context.mesh, k = context.k,
    range = context.range, samples = context.samples, models = context.models, slab = context.slab,
    slab_thickness = context.slab_thickness, slab_layers = context.slab_layers,
    window = context.window or "cic", pointwise = {}, spectra = {}}

  for _, field in ipairs(FIELDS) do
    local truth_mean = stats.average(context.truth[field])
    local field_result = {k = truth_mean.k, modes = truth_mean.modes, edges = truth_mean.edges,
      truth = truth_mean.P, models = {}}
    for _, model in ipairs(context.models) do
      field_result.models[model] = summarise_spectra(context, model, field, truth_mean)
    end
    results.spectra[field] = field_result
  end

  for _, model in ipairs(context.models) do
    local state = context.states[model]
    local _, spread = mean_and_std(state.pointwise)
    results.pointwise[model] = {mean = state.pointwise_sum / math.max(state.particles, 1),
      std = spread, max = state.pointwise_max, per_simulation = state.pointwise}
  end

  if context.zeta and #context.zeta_samples > 0 then
    results.zeta = summarise_zeta(context)
  end
  return results
end


-- Messages for requested k outside the bins of a field's spectra.
local function k_warnings(results)
  local messages = {}
  for _, field in ipairs(FIELDS) do
    local edges = results.spectra[field].edges
    for _, k in ipairs(results.k) do
      if k < edges[1] or k >= edges[#edges] then
        messages[#messages + 1] = string.format("k = %g h/Mpc lies outside the %s bins [%g, %g) "
          .. "h/Mpc of this box and mesh, so T and r there are n/a", k, field, edges[1],
          edges[#edges])
      end
    end
  end
  return messages
end


--- Evaluate ZA, 2LPT and (with predictions) D3M against FastPM.
-- opts:
--   dataset: training-set file with /za, /lpt2, /fastpm (required).
--   predictions, prediction_name ("d3m"): the predictions file and its
--     dataset [N, 3, n, n, n]; without predictions only ZA and 2LPT.
--   samples = {first, last} (1-based, inclusive), or all = true; default
--     the test subset of the 80/10/10 split.
--   k: wavenumbers in h/Mpc for T and r (default {0.11, 0.50}).
--   mesh: density painting mesh per side (default n); window: density
--     compensation, "cic" (default), "sinc2" or "none".
--   zeta (false): compute the 3PCF residual on the first zeta_samples
--     (default 10) simulations. zeta_method: "mesh" (default,
--     d3m.stats.zeta_mesh on the painted density) or "particles"
--     (d3m.stats.zeta on the particles, self terms kept).
--     zeta_width (Mpc/h) and zeta_bins (count) set the radial bins, lmax
--     the highest multipole (8).
--   slab_layers: lattice layers in the slice figures (default 2).
--   progress: a function(done, total) called before the first simulation
--     and after each one.
--   warn: a function(message) for requested k outside the bins.
-- Returns the results table that d3m.evaluate.tables and
-- d3m.evaluate.figures take.
function evaluate.run(opts)
  local k_values = check_options(opts)
  local set, box = open_dataset(opts.dataset)
  local n = set:n()
  local samples, range = sample_list(opts, set:count(), opts.dataset)
  local mesh = opts.mesh or n
  if opts.zeta_method ~= nil and opts.zeta_method ~= "mesh" and opts.zeta_method ~= "particles" then
    error(string.format("zeta_method must be \"mesh\" or \"particles\", got %s",
      tostring(opts.zeta_method)), 0)
  end

  local models = {"za", "lpt2"}
  local prediction
  if opts.predictions then
    prediction = evaluate.open_predictions(opts.predictions, opts.prediction_name or "d3m", set,
      samples, box)
    models[#models + 1] = "d3m"
  end

  local slab_layers = math.min(opts.slab_layers or 2, n)
  local context = {set = set, path = opts.dataset, predictions = opts.predictions, box = box,
    attributes = set:attributes(), n = n, mesh = mesh, k = k_values, samples = samples,
    range = range, models = models, prediction = prediction, window = opts.window,
    truth = {density = {}, displacement = {}},
    states = {}, slab = {}, slab_layers = slab_layers, slab_thickness = slab_layers * box / n,
    zeta = opts.zeta, zeta_limit = opts.zeta_samples or 10, zeta_samples = {},
    zeta_method = opts.zeta_method or "mesh",
    zeta_sum = {truth = {}}}
  context.density_opts = {box = box, kind = "density", particles = n * n * n,
    window = opts.window}
  context.displacement_opts = {box = box, kind = "displacement"}
  if opts.zeta then
    context.zeta_opts = {box = box, lmax = opts.lmax or 8,
      edges = evaluate.zeta_edges(box, mesh, opts.zeta_width, opts.zeta_bins)}
  end
  for _, model in ipairs(models) do
    context.states[model] = new_model_state()
    context.zeta_sum[model] = {}
  end

  if opts.progress then
    opts.progress(0, #samples)
  end
  for position, index in ipairs(samples) do
    evaluate_sample(context, index, position == 1)
    if opts.progress then
      opts.progress(position, #samples)
    end
    collectgarbage()
  end
  set:close()
  local results = summarise(context)
  for _, message in ipairs(k_warnings(results)) do
    if opts.warn then
      opts.warn(message)
    end
  end
  return results
end


return evaluate
