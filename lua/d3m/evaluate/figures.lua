-- PNG figures of d3m.evaluate results, after the figures of He et al.
-- (2019, PNAS 116, 13825): P(k) with T(k) and 1 - r^2 below it (Fig. 3a),
-- a slab of particles and the displacement error per model (Fig. 2), and
-- the 3PCF multipole ratios (Fig. 3b).
local evaluate = require "d3m.evaluate"
local plot = require "d3m.plot"

local figures = {}

-- One colour per model in every panel and figure.
local COLOURS = {fastpm = "#000000", za = "#d95f02", lpt2 = "#1b9e77", d3m = "#386cb0"}


local function line_style(name)
  return string.format("linespoints linecolor rgb '%s'", COLOURS[name])
end


local function any_positive(series)
  for _, s in ipairs(series) do
    for _, value in ipairs(s.y) do
      if value > 0 and value < math.huge then
        return true
      end
    end
  end
  return false
end


--- P(k), T(k) and 1 - r^2 of one field ("density" or "displacement").
function figures.power(results, field, path)
  local spectra = results.spectra[field]
  local power = {{x = spectra.k, y = spectra.truth, label = "FastPM",
    style = line_style("fastpm")}}
  local transfer, stochasticity = {}, {}
  for _, model in ipairs(results.models) do
    local label, summary = evaluate.LABELS[model], spectra.models[model]
    local style = line_style(model)
    power[#power + 1] = {x = spectra.k, y = summary.P, label = label, style = style}
    transfer[#transfer + 1] = {x = spectra.k, y = summary.T, label = label, style = style}
    stochasticity[#stochasticity + 1] = {x = spectra.k, y = summary.stochasticity, label = label,
      style = style}
  end
  local xlabel = "k [h/Mpc]"
  -- Whole decades, so that the log axis has labelled tics.
  local xrange = {10 ^ math.floor(math.log(spectra.k[1], 10)),
    10 ^ math.ceil(math.log(spectra.k[#spectra.k], 10))}
  return plot.panels{path = path, width = 800, height = 1000, panels = {
    {title = string.format("%s power spectrum, mean of %d simulation(s)", field,
      #results.samples),
      -- The density contrast is dimensionless, a displacement a length.
      ylabel = field == "displacement" and "P(k) [(Mpc/h)^5]" or "P(k) [(Mpc/h)^3]",
      logx = true, logy = true,
      series = power, height = 2, key = "bottom left", xrange = xrange},
    {title = "transfer function T(k) = sqrt(P_pred / P_FastPM)", ylabel = "T(k)", logx = true,
      series = transfer, hlines = {1}, key = "bottom left", xrange = xrange},
    -- A perfect prediction has 1 - r^2 = 0, which a log axis cannot show.
    {title = "stochasticity 1 - r(k)^2", xlabel = xlabel, ylabel = "1 - r^2", logx = true,
      logy = any_positive(stochasticity), series = stochasticity, key = "top left",
      xrange = xrange},
  }}
end


--- Particles of the slab 0 <= x_0 < thickness of the first simulation,
-- one PNG per model (FastPM included). Returns the paths.
function figures.slab_particles(results, folder)
  local paths = {}
  local names = {"fastpm"}
  for _, model in ipairs(results.models) do
    names[#names + 1] = model
  end
  for _, name in ipairs(names) do
    local positions = results.slab[name].positions
    local path = string.format("%s/slice_%s.png", folder, name)
    plot.lines{path = path, width = 700, height = 700,
      title = string.format("%s: particles with 0 <= x_0 < %.3g Mpc/h, sample %d",
        evaluate.LABELS[name], results.slab_thickness, results.samples[1]),
      xlabel = "x_2 [Mpc/h]", ylabel = "x_1 [Mpc/h]", key = "off",
      xrange = {0, results.box}, yrange = {0, results.box},
      series = {{x = positions.x, y = positions.y, style = "points pointtype 7 pointsize 0.4"}}}
    paths[#paths + 1] = path
  end
  return paths
end


--- Maps of |Psi_pred - Psi_true| on the Lagrangian lattice (mean over the
-- first slab_layers layers along axis 0) of the first simulation, on one
-- colour scale for all models. Returns the paths.
function figures.slab_error(results, folder)
  local top = 0
  for _, model in ipairs(results.models) do
    for _, row in ipairs(results.slab[model].error) do
      for _, value in ipairs(row) do
        top = math.max(top, value)
      end
    end
  end
  local paths = {}
  for _, model in ipairs(results.models) do
    local path = string.format("%s/error_%s.png", folder, model)
    plot.map{path = path, matrix = results.slab[model].error,
      title = string.format("%s: |Psi_pred - Psi_FastPM|, mean over lattice layers q_0 < %.3g "
        .. "Mpc/h, sample %d", evaluate.LABELS[model], results.slab_thickness,
        results.samples[1]),
      xlabel = "q_2 [Mpc/h]", ylabel = "q_1 [Mpc/h]", cblabel = "Mpc/h",
      extent = {0, results.box, 0, results.box}, cbrange = {0, top > 0 and top or 1}}
    paths[#paths + 1] = path
  end
  return paths
end


--- zeta_l(r1, r2) of each model over FastPM's against l for one bin pair
-- (the middle and the last bin), and the residual of each l.
function figures.zeta(results, path)
  local zeta = results.zeta
  local nbins = #zeta.edges - 1
  local b1, b2 = (nbins + 1) // 2, nbins
  local ratio, residual = {}, {}
  for _, model in ipairs(results.models) do
    local summary = zeta.models[model]
    local ls, ratios, per_l = {}, {}, {}
    for l = 0, zeta.lmax do
      ls[#ls + 1] = l
      ratios[#ratios + 1] = summary.zeta[l][b1][b2] / zeta.truth[l][b1][b2]
      per_l[#per_l + 1] = summary.per_l[l]
    end
    local label, style = evaluate.LABELS[model], line_style(model)
    ratio[#ratio + 1] = {x = ls, y = ratios, label = label, style = style}
    residual[#residual + 1] = {x = ls, y = per_l, label = label, style = style}
  end
  return plot.panels{path = path, width = 800, height = 800, panels = {
    {title = string.format("zeta_l(r1, r2) / zeta_l,FastPM with r1 in [%g, %g), r2 in [%g, %g) "
      .. "Mpc/h, mean of %d simulation(s)", zeta.edges[b1], zeta.edges[b1 + 1], zeta.edges[b2],
      zeta.edges[b2 + 1], #zeta.samples), ylabel = "ratio", series = ratio, hlines = {1},
      xrange = {-0.5, zeta.lmax + 0.5}},
    {title = "mean |zeta_pred - zeta_FastPM| / |zeta_FastPM| over bin pairs r1 <= r2",
      xlabel = "multipole l", ylabel = "residual", logy = any_positive(residual),
      series = residual, xrange = {-0.5, zeta.lmax + 0.5}},
  }}
end


--- Write every figure into folder; returns {name = path or list of paths}.
function figures.write_all(results, folder)
  local written = {
    power_density = figures.power(results, "density", folder .. "/power_density.png"),
    power_displacement = figures.power(results, "displacement",
      folder .. "/power_displacement.png"),
    slices = figures.slab_particles(results, folder),
    errors = figures.slab_error(results, folder),
  }
  if results.zeta then
    written.zeta = figures.zeta(results, folder .. "/zeta_ratio.png")
  end
  return written
end


return figures
