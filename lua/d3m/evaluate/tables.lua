-- Table 1 of He et al. (2019, PNAS 116, 13825) from the results of
-- d3m.evaluate.run, as markdown (with the conventions stated below it) and
-- as CSV with one statistic per row.
local evaluate = require "d3m.evaluate"

local tables = {}

local FIELDS = {"density", "displacement"}


-- Index j of PAPER_K for wavenumber k, or nil when the paper lists no
-- value there.
local function paper_k_index(k)
  for j, paper_k in ipairs(evaluate.PAPER_K) do
    if math.abs(k - paper_k) < 1e-9 then
      return j
    end
  end
  return nil
end


-- The paper's value of a statistic, or nil.
local function paper_value(model, field, statistic, k)
  local paper = evaluate.PAPER[model]
  if paper == nil then
    return nil
  end
  if statistic == "pointwise_mean" then
    return field == "displacement" and paper.pointwise or nil
  elseif statistic == "zeta_residual" then
    return field == "density" and paper.zeta or nil
  elseif statistic == "T" or statistic == "r" then
    local j = paper_k_index(k)
    return j and paper[field][statistic][j] or nil
  end
  return nil
end


local function is_number(value)
  return type(value) == "number" and value == value
end


-- The rows of the table: {model, field, statistic, k, value, std, paper}.
-- With a single simulation the spread over simulations is undefined, so
-- std is left out rather than shown as 0.
function tables.rows(results)
  local rows = {}
  local single = #results.samples == 1
  local function add(model, field, statistic, k, value, std)
    rows[#rows + 1] = {model = model, field = field, statistic = statistic, k = k, value = value,
      std = not single and std or nil, paper = paper_value(model, field, statistic, k)}
  end
  for _, model in ipairs(results.models) do
    for _, field in ipairs(FIELDS) do
      if field == "displacement" then
        local pointwise = results.pointwise[model]
        add(model, field, "pointwise_mean", nil, pointwise.mean, pointwise.std)
        add(model, field, "pointwise_max", nil, pointwise.max, nil)
      end
      local spectra = results.spectra[field].models[model]
      for j, k in ipairs(results.k) do
        add(model, field, "T", k, spectra.T_at[j], spectra.T_std[j])
        add(model, field, "r", k, spectra.r_at[j], spectra.r_std[j])
      end
      if field == "density" and results.zeta then
        local zeta = results.zeta.models[model]
        add(model, field, "zeta_residual", nil, zeta.residual, zeta.std)
      end
    end
  end
  return rows
end


-- Digits of the paper's values in Table 1 of He et al. (2019).
local PAPER_FORMATS = {T = "%.2f", r = "%.2f", pointwise_mean = "%.3f", zeta_residual = "%.4f"}


local function format_value(value, std, paper, digits, paper_digits)
  if not is_number(value) then
    return "n/a"
  end
  local text = string.format(digits, value)
  if is_number(std) then
    text = text .. string.format(" ± %.2g", std)
  end
  if paper then
    text = text .. string.format(" [" .. paper_digits .. "]", paper)
  end
  return text
end


local function find_row(rows, model, field, statistic, k)
  for _, row in ipairs(rows) do
    if row.model == model and row.field == field and row.statistic == statistic
        and (k == nil or math.abs(row.k - k) < 1e-12) then
      return row
    end
  end
  return nil
end


local function cell(rows, model, field, statistic, k, digits)
  local row = find_row(rows, model, field, statistic, k)
  if row == nil then
    return "-"
  end
  return format_value(row.value, row.std, row.paper, digits, PAPER_FORMATS[statistic])
end


--- The notes below the table: what each number is and how it was made.
function tables.notes(results)
  local notes = {
    string.format("%d simulation(s): samples %d to %d of %s (%g Mpc/h box, %d^3 particles); "
      .. "truth: FastPM.", #results.samples, results.range[1], results.range[2], results.dataset,
      results.box, results.n),
    "Each cell: the value, ± the standard deviation over simulations, and [the value of Table 1 "
      .. "of He et al. 2019, PNAS 116, 13825: fiducial cosmology, 1000 test simulations of 32^3 "
      .. "particles in 128 Mpc/h boxes].",
    "Point-wise error: |Psi_pred - Psi_true| / |Psi_true| per particle; mean and max over all "
      .. "particles and simulations (the spread is that of the per-simulation means).",
    string.format("Density: CIC paint of q + Psi on a %d^3 mesh, delta = rho / mean - 1, "
      .. "window compensation '%s', shot noise not subtracted. Displacement: the sum of the powers "
      .. "of the three components of Psi on the particle grid.", results.mesh, results.window),
    "T(k) = sqrt(P_pred / P_true), r(k) = P_cross / sqrt(P_pred P_true). Spectra are averaged "
      .. "over simulations first, then the ratios are taken; the spread is that of the "
      .. "per-simulation ratios.",
    "T and r at a requested k are interpolated linearly in k between the centres of the two "
      .. "neighbouring bins (the mode-weighted mean |k| of bins [i k_f, (i + 1) k_f), k_f = "
      .. "2 pi / box); a k between the edge and the centre of the first or last bin takes that "
      .. "bin's value; n/a when k lies outside the bins.",
  }
  local zeta = results.zeta
  if zeta then
    local edges = {}
    for i, edge in ipairs(zeta.edges) do
      edges[i] = string.format("%g", edge)
    end
    local method = zeta.method == "particles"
      and "the particles (Slepian & Eisenstein 2015 a_lm sums, self terms kept)"
      or "the painted density mesh (FFT convolutions with Y_lm shell kernels)"
    notes[#notes + 1] = string.format("3PCF residual on %d simulation(s): %s. Multipoles from "
      .. "%s, radial bin edges {%s} Mpc/h, averaged over simulations before the residual is "
      .. "taken; the spread is that of the per-simulation residuals.", #zeta.samples,
      zeta.convention, method, table.concat(edges, ", "))
  else
    notes[#notes + 1] = "3PCF residual: not computed (run with --zeta)."
  end
  return notes
end


--- The table as markdown, with the notes as a list below it.
function tables.markdown(results)
  local rows = tables.rows(results)
  local header = {"Model", "Field", "Point-wise mean", "Point-wise max"}
  for _, k in ipairs(results.k) do
    header[#header + 1] = string.format("T(k=%.2f)", k)
    header[#header + 1] = string.format("r(k=%.2f)", k)
  end
  header[#header + 1] = "3PCF residual"

  local lines = {"| " .. table.concat(header, " | ") .. " |"}
  local separator = {}
  for i = 1, #header do
    separator[i] = "---"
  end
  lines[#lines + 1] = "|" .. table.concat(separator, "|") .. "|"

  for _, model in ipairs(results.models) do
    for _, field in ipairs(FIELDS) do
      local cells = {evaluate.LABELS[model], field,
        cell(rows, model, field, "pointwise_mean", nil, "%.4f"),
        cell(rows, model, field, "pointwise_max", nil, "%.3g")}
      for _, k in ipairs(results.k) do
        cells[#cells + 1] = cell(rows, model, field, "T", k, "%.3f")
        cells[#cells + 1] = cell(rows, model, field, "r", k, "%.3f")
      end
      cells[#cells + 1] = cell(rows, model, field, "zeta_residual", nil, "%.4f")
      lines[#lines + 1] = "| " .. table.concat(cells, " | ") .. " |"
    end
  end

  lines[#lines + 1] = ""
  for _, note in ipairs(tables.notes(results)) do
    lines[#lines + 1] = "- " .. note
  end
  return table.concat(lines, "\n") .. "\n"
end


local function csv_number(value)
  if value == nil then
    return ""
  elseif value ~= value then
    return "nan"
  end
  return string.format("%.9g", value)
end


--- The table as CSV: model, field, statistic (pointwise_mean,
-- pointwise_max, T, r, zeta_residual), k in h/Mpc (empty when not
-- applicable), value, std over simulations, the paper's value, and the
-- number of simulations behind the value.
function tables.csv(results)
  local lines = {"model,field,statistic,k_h_per_Mpc,value,std,paper,simulations"}
  for _, row in ipairs(tables.rows(results)) do
    local simulations = row.statistic == "zeta_residual" and #results.zeta.samples
      or #results.samples
    lines[#lines + 1] = table.concat({evaluate.LABELS[row.model], row.field, row.statistic,
      csv_number(row.k), csv_number(row.value), csv_number(row.std), csv_number(row.paper),
      tostring(simulations)}, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end


--- Write text to path through a temporary file in the same folder, so a
-- reader never sees a half-written file.
function tables.write_atomic(path, text)
  local temporary = path .. ".tmp"
  local file, err = io.open(temporary, "w")
  if not file then
    error(string.format("cannot write %s: %s", temporary, err), 0)
  end
  local ok, write_err = file:write(text)
  file:close()
  if not ok then
    os.remove(temporary)
    error(string.format("cannot write %s: %s", temporary, write_err), 0)
  end
  local renamed, rename_err = os.rename(temporary, path)
  if not renamed then
    os.remove(temporary)
    error(string.format("cannot rename %s to %s: %s", temporary, path, rename_err), 0)
  end
  return path
end


return tables
