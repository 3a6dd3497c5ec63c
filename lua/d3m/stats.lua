-- d3m.stats: summary statistics for judging displacement and density fields
-- in a periodic box (units: Mpc/h, h/Mpc, (Mpc/h)^3). Power spectra follow
-- the nbodykit/Pylians conventions: P(k) = V |delta_k|^2 with
-- delta_k = (1/N_cells) sum_x delta(x) e^{-ik.x}, modes counted over the
-- full grid, bins [lo, hi) with k = 0 left out. The C side is d3m.core.stats
-- (src/stats/stats.h).
local core = require "d3m.core"

local cstats = core.stats
local stats = {}

local PI = math.pi


-- ---- argument helpers --------------------------------------------------------

local function is_tensor(x)
  return core.is_tensor ~= nil and core.is_tensor(x)
end


local function check_box(opts, fname)
  local box = opts and opts.box
  if type(box) ~= "number" or box <= 0 then
    error(string.format("stats.%s: opts.box (the box side in Mpc/h) must be a positive number, got %s",
                        fname, tostring(box)), 3)
  end
  return box
end


local function check_tensor(x, fname, what)
  if not is_tensor(x) then
    error(string.format("stats.%s: %s must be a d3m.tensor, got %s", fname, what, type(x)), 3)
  end
  return x
end


-- Classify a tensor by its shape: "mesh" [n, n, n], "displacement"
-- [3, n, n, n], "components" [C, n, n, n], "positions" [3, N] or [N, 3],
-- or nil.
local function shape_kind(x)
  local s = x:shape()
  if #s == 3 and s[1] == s[2] and s[2] == s[3] then
    return "mesh", s[1]
  elseif #s == 4 and s[2] == s[3] and s[3] == s[4] then
    return s[1] == 3 and "displacement" or "components", s[2]
  elseif #s == 2 and (s[1] == 3 or s[2] == 3) then
    return "positions", nil
  end
  return nil
end


local function shape_string(x)
  return "[" .. table.concat(x:shape(), ", ") .. "]"
end


-- Edges from opts.edges, or {lo, lo + dk, ...} from opts.dk / kmin / kmax,
-- or the default i k_f, i = 1 .. n/2.
local function k_edges(opts, box, n)
  if opts.edges then
    return opts.edges
  end
  local k_f = 2 * PI / box
  if opts.dk or opts.kmin or opts.kmax then
    local dk, kmin = opts.dk or k_f, opts.kmin or k_f
    local kmax = opts.kmax or (n // 2) * k_f
    local edges = {}
    local count = math.floor((kmax - kmin) / dk + 1e-9)
    for i = 0, count do
      edges[#edges + 1] = kmin + i * dk
    end
    return edges
  end
  return cstats.default_k_edges(box, n)
end


-- ---- positions and painting ----------------------------------------------------

--- Positions [3, n^3] (Mpc/h, wrapped into [0, box)) of particles at the grid
-- nodes q = (i, j, k) box / n moved by a displacement [3, n, n, n], whose
-- component d is along mesh axis d.
function stats.positions(displacement, opts)
  local box = check_box(opts, "positions")
  check_tensor(displacement, "positions", "displacement")
  return cstats.positions(displacement, box)
end


-- Particle positions ([3, N] or [N, 3]) from positions or a displacement.
local function particle_positions(x, box, fname)
  local kind = shape_kind(x)
  if kind == "positions" then
    return x
  elseif kind == "displacement" then
    return cstats.positions(x, box)
  end
  error(string.format("stats.%s: particles must be positions [3, N] or [N, 3] or a displacement [3, n, n, n], got %s",
                      fname, shape_string(x)), 3)
end


-- delta = rho / mean - 1 of a painted density mesh.
local function density_contrast(rho, fname)
  local mean = rho:mean()
  if not (mean > 0) then
    error(string.format("stats.%s: the density mesh has mean %g; a painted density must have a positive mean",
                        fname, mean), 3)
  end
  return core.full(rho:shape(), -1.0):axpy(1.0 / mean, rho)
end


-- Paint particles [3, N] with d3m.pm.paint (CIC) on an n^3 mesh.
local function paint(positions, n, box, fname)
  if positions:shape()[1] ~= 3 then
    error(string.format("stats.%s: painting takes positions [3, N], got %s; store one coordinate per row",
                        fname, shape_string(positions)), 3)
  end
  local d3m = require "d3m"
  local pm = d3m.pm
  if pm == nil or pm.paint == nil then
    error(string.format("stats.%s: d3m.pm.paint is not available in this build; paint the density " ..
                        "yourself and pass the mesh with kind = \"density\"", fname), 3)
  end
  return pm.paint(positions, n, box)
end


-- The field to transform for a power spectrum, its default window, the
-- shot noise (nil when not defined) and the mesh size.
local function prepare_field(x, opts, box, fname)
  check_tensor(x, fname, "the field")
  local kind, n = shape_kind(x)
  local want = opts.kind
  if want == nil then
    local defaults = {displacement = "displacement", positions = "density"}
    want = defaults[kind] or "mesh"
  end
  if want == "mesh" then
    if kind ~= "mesh" and kind ~= "components" and kind ~= "displacement" then
      error(string.format("stats.%s: kind \"mesh\" takes [n, n, n] or [C, n, n, n], got %s", fname,
                          shape_string(x)), 3)
    end
    return x, "none", opts.shot_noise, n
  elseif want == "displacement" then
    if kind ~= "displacement" then
      error(string.format("stats.%s: kind \"displacement\" takes [3, n, n, n], got %s", fname,
                          shape_string(x)), 3)
    end
    return x, "none", nil, n
  elseif want == "density" then
    local volume = box ^ 3
    if kind == "mesh" then
      -- Already painted: the caller knows the particle count, if any.
      local shot = opts.shot_noise or (opts.particles and volume / opts.particles) or nil
      return density_contrast(x, fname), "cic", shot, n
    end
    local positions = particle_positions(x, box, fname)
    local count = positions:numel() // 3
    local mesh_n = opts.mesh or n
    if mesh_n == nil then
      error(string.format("stats.%s: give opts.mesh, the painting mesh size, for positions [3, N]", fname), 3)
    end
    local rho = paint(positions, mesh_n, box, fname)
    return density_contrast(rho, fname), "cic", volume / count, mesh_n
  end
  error(string.format("stats.%s: opts.kind must be \"density\", \"displacement\" or \"mesh\", got %s",
                      fname, tostring(want)), 3)
end


-- ---- power spectra -------------------------------------------------------------

--- Binned power spectrum of a field.
-- opts:
--   box: the box side in Mpc/h (required).
--   kind: "mesh" (default for [n, n, n] and [C, n, n, n]): the field itself,
--     components summed. "displacement" (default for [3, n, n, n]): the
--     three component powers summed, no painting. "density" (default for
--     positions [3, N]): a painted density mesh, or particles as positions or
--     a displacement, painted with d3m.pm.paint on opts.mesh cells per side
--     (default n); delta = rho / mean - 1.
--   window: "cic" (default for density: divide by
--     prod_i [1 - 2/3 sin^2(k_i H / 2)]), "sinc2" or "none".
--   edges (h/Mpc), or dk / kmin / kmax; default [i k_f, (i + 1) k_f),
--     i = 1 .. n/2 - 1.
--   subtract_shot_noise (default false); shot_noise or particles state the
--     shot noise of an already painted mesh.
-- Returns {k, P, modes, shot_noise, kind, window, edges}: arrays per bin of
-- the mode-weighted mean |k|, P(k) in (Mpc/h)^3 and the number of modes.
function stats.power(x, opts)
  opts = opts or {}
  local box = check_box(opts, "power")
  local field, window, shot, n = prepare_field(x, opts, box, "power")
  window = opts.window or window
  local edges = k_edges(opts, box, n)
  local result = cstats.power(field, nil, box, edges, window)
  result.shot_noise, result.window, result.edges = shot, window, edges
  result.kind = opts.kind or shape_kind(x)
  if opts.subtract_shot_noise then
    if shot == nil then
      error("stats.power: subtract_shot_noise needs a shot noise; give opts.particles or opts.shot_noise", 2)
    end
    for i = 1, #result.P do
      result.P[i] = result.P[i] - shot
    end
    result.shot_noise_subtracted = true
  end
  return result
end


--- Cross power Re(delta_a delta_b^*) V of two fields of the same kind and
-- shape, with the options of stats.power (the shot noise of independent
-- particle sets does not correlate, so none is reported).
-- Returns {k, P, modes, kind, window, edges}.
function stats.cross_power(a, b, opts)
  opts = opts or {}
  local box = check_box(opts, "cross_power")
  local fa, window, _, n = prepare_field(a, opts, box, "cross_power")
  local fb = prepare_field(b, opts, box, "cross_power")
  window = opts.window or window
  local edges = k_edges(opts, box, n)
  local result = cstats.power(fa, fb, box, edges, window)
  result.window, result.edges, result.kind = window, edges, opts.kind or shape_kind(a)
  return result
end


--- Bin-by-bin mean of spectra {P = ...} (same bins): {k, P, modes, count}.
-- Average over simulations first, then take ratios (T, r).
function stats.average(spectra)
  if #spectra == 0 then
    error("stats.average: an empty list of spectra", 2)
  end
  local first = spectra[1]
  local mean = {k = {}, P = {}, modes = first.modes, edges = first.edges, count = #spectra}
  for i = 1, #first.P do
    local sum_p, sum_k = 0, 0
    for _, s in ipairs(spectra) do
      if #s.P ~= #first.P then
        error("stats.average: spectra have different numbers of bins", 2)
      end
      sum_p, sum_k = sum_p + s.P[i], sum_k + s.k[i]
    end
    mean.P[i], mean.k[i] = sum_p / #spectra, sum_k / #spectra
  end
  return mean
end


-- Spectra (pred, truth, cross) are results of stats.power: tables with a
-- field P of per-bin powers.
local function check_spectrum(value, name, caller)
  if type(value) ~= "table" or type(value.P) ~= "table" then
    error(string.format("d3m.stats.%s: %s must be a result of d3m.stats.power (a table with "
      .. "field P), got %s; pass the fields through d3m.stats.power first", caller, name,
      type(value) == "userdata" and "a tensor" or type(value)), 3)
  end
end


--- Transfer function T(k) = sqrt(P_pred / P_true) per bin (He et al. 2019,
-- PNAS 116, 13825, define T with the root; the published plotting code
-- shows the ratio without it). opts.squared = true returns the plain ratio.
function stats.transfer(pred, truth, opts)
  check_spectrum(pred, "pred", "transfer")
  check_spectrum(truth, "truth", "transfer")
  local out = {}
  for i = 1, #truth.P do
    local ratio = pred.P[i] / truth.P[i]
    out[i] = (opts and opts.squared) and ratio or math.sqrt(ratio)
  end
  return out
end


--- Correlation coefficient r(k) = P_cross / sqrt(P_pred P_true) per bin.
function stats.correlation(cross, pred, truth)
  check_spectrum(cross, "cross", "correlation")
  check_spectrum(pred, "pred", "correlation")
  check_spectrum(truth, "truth", "correlation")
  local out = {}
  for i = 1, #cross.P do
    out[i] = cross.P[i] / math.sqrt(pred.P[i] * truth.P[i])
  end
  return out
end


--- Stochasticity 1 - r(k)^2 of a correlation array.
function stats.stochasticity(r)
  local out = {}
  for i = 1, #r do
    out[i] = 1 - r[i] * r[i]
  end
  return out
end


--- Compare predictions with truths (one field or a list of fields each):
-- the auto and cross spectra are averaged over simulations first, then
-- T = sqrt(P_pred / P_true), r and 1 - r^2 are taken per bin.
-- opts as for stats.power. Returns {k, T, r, stochasticity, P_pred, P_true,
-- P_cross, modes, simulations}.
function stats.compare(preds, truths, opts)
  if is_tensor(preds) then
    preds, truths = {preds}, {truths}
  end
  if #preds ~= #truths or #preds == 0 then
    error(string.format("stats.compare: %d predictions for %d truths; give lists of equal, non-zero length",
                        #preds, #truths), 2)
  end
  local pp, pt, pc = {}, {}, {}
  for i = 1, #preds do
    pp[i] = stats.power(preds[i], opts)
    pt[i] = stats.power(truths[i], opts)
    pc[i] = stats.cross_power(preds[i], truths[i], opts)
  end
  local mp, mt, mc = stats.average(pp), stats.average(pt), stats.average(pc)
  local r = stats.correlation(mc, mp, mt)
  return {k = mt.k, modes = mt.modes, T = stats.transfer(mp, mt), r = r,
          stochasticity = stats.stochasticity(r), P_pred = mp.P, P_true = mt.P, P_cross = mc.P,
          simulations = #preds}
end


-- ---- point-wise error ------------------------------------------------------------

--- Point-wise relative displacement error |Psi_pred - Psi_true| / |Psi_true|
-- per particle, for displacements [3, ...] or [S, 3, ...] or lists of them.
-- Returns {mean, max, particles, skipped}: particles with |Psi_true| = 0 are
-- skipped.
function stats.pointwise_error(pred, truth)
  if is_tensor(pred) then
    pred, truth = {pred}, {truth}
  end
  local sum, max, particles, skipped = 0, 0, 0, 0
  for i = 1, #pred do
    check_tensor(pred[i], "pointwise_error", "the prediction")
    check_tensor(truth[i], "pointwise_error", "the truth")
    local mean, largest, zero = cstats.pointwise_error(pred[i], truth[i])
    local count = truth[i]:numel() // 3 - zero
    sum = sum + mean * count
    particles, skipped = particles + count, skipped + zero
    max = math.max(max, largest)
  end
  return {mean = particles > 0 and sum / particles or 0, max = max, particles = particles,
          skipped = skipped}
end


-- ---- two-point correlation ------------------------------------------------------

-- Radial edges from opts.edges (or opts.bins given as a table of edges), or
-- opts.bins bins of opts.width from opts.rmin (default 0).
local function radial_edges(opts, fname, default_width, default_count)
  if opts.edges then
    return opts.edges
  elseif type(opts.bins) == "table" then
    return opts.bins
  end
  local width, count = opts.width or default_width, opts.bins or default_count
  local lo = opts.rmin or 0
  if type(width) ~= "number" or type(count) ~= "number" then
    error(string.format("stats.%s: give opts.edges (Mpc/h) or opts.width and opts.bins", fname), 3)
  end
  local edges = {}
  for i = 0, count do
    edges[i + 1] = lo + i * width
  end
  return edges
end


--- xi(r) by pair counting (natural estimator DD / RR - 1, RR = N (N - 1)
-- V_bin / V analytic, minimum-image separations). positions: [3, N], [N, 3] or a
-- displacement [3, n, n, n]. opts: box, edges (Mpc/h, the last at most
-- box / 2) or width / bins / rmin. Returns {r, xi, DD, edges}: the mean pair
-- separation, xi and the ordered pair count per bin.
function stats.xi(positions, opts)
  opts = opts or {}
  local box = check_box(opts, "xi")
  check_tensor(positions, "xi", "positions")
  local edges = radial_edges(opts, "xi", nil, nil)
  local result = cstats.xi_pairs(particle_positions(positions, box, "xi"), box, edges)
  result.edges = edges
  return result
end


--- xi(r) from the inverse FFT of the mesh power |delta_k|^2, averaged over
-- mesh separations with |r| in each bin. x and opts as for stats.power
-- (kind "density" for painted meshes or particles); opts.subtract_shot_noise
-- removes the shot noise from every mode (it only affects r < 2 cells).
-- Returns {r, xi, count, edges}: count is the number of mesh separations.
function stats.xi_from_power(x, opts)
  opts = opts or {}
  local box = check_box(opts, "xi_from_power")
  local field, window, shot = prepare_field(x, opts, box, "xi_from_power")
  local edges = radial_edges(opts, "xi_from_power", nil, nil)
  local subtract = opts.subtract_shot_noise and shot or 0
  local result = cstats.xi_mesh(field, box, edges, opts.window or window, subtract)
  result.edges = edges
  return result
end


-- ---- three-point multipoles ------------------------------------------------------

local ZETA_CONVENTION = "zeta_l = (2l+1) N_l / (W nbar^2 V1 V2) - delta_l0, W = sum of weights, " ..
                        "nbar = W / V, V_b analytic shell volumes"

local function zeta_options(opts, fname)
  local box = check_box(opts, fname)
  local edges = radial_edges(opts, fname, 5, 10)
  local lmax = opts.lmax or 8
  if math.type(lmax) ~= "integer" or lmax < 0 or lmax > 10 then
    error(string.format("stats.%s: opts.lmax must be an integer from 0 to 10, got %s", fname, tostring(lmax)), 3)
  end
  if edges[#edges] > box / 2 then
    error(string.format("stats.%s: r_max = %g exceeds box / 2 = %g; lower the bins or use a larger box",
                        fname, edges[#edges], box / 2), 3)
  end
  return box, edges, lmax
end


--- 3PCF multipoles by the Slepian & Eisenstein (2015, MNRAS 454, 4142)
-- algorithm on particles. positions: [3, N], [N, 3] or a displacement
-- [3, n, n, n].
-- opts:
--   box: the box side in Mpc/h.
--   weights: a tensor [N] (default: unit weights).
--   edges (Mpc/h), or bins as a table of edges, or bins / width / rmin as
--     numbers; default 10 bins of 5 Mpc/h from 0. r_max must not exceed
--     box / 2.
--   lmax: default 8, at most 10.
--   self_terms: default true, which keeps the a = b terms on diagonal bins.
-- Returns {zeta, N, edges, lmax, self_terms, convention}: zeta[l][b1][b2]
-- for l = 0 .. lmax (key l from 0) and bins from 1, normalised as
-- `convention` states, and N[l][b1][b2] = sum over triplets of
-- w_p w_a w_b P_l(cos angle).
function stats.zeta(positions, opts)
  opts = opts or {}
  local box, edges, lmax = zeta_options(opts, "zeta")
  check_tensor(positions, "zeta", "positions")
  local particles = particle_positions(positions, box, "zeta")
  local weights = opts.weights
  local self_terms = opts.self_terms ~= false
  local counts = cstats.zeta_counts(particles, weights, box, edges, lmax, self_terms)
  local weight_sum = weights and weights:sum() or particles:numel() // 3
  local zeta = cstats.zeta_normalise(counts, edges, lmax, weight_sum, box)
  return {zeta = zeta, N = counts, edges = edges, lmax = lmax, self_terms = self_terms,
          convention = ZETA_CONVENTION}
end


--- 3PCF multipoles of a density mesh by FFT convolutions with Y_lm shell
-- kernels ((lmax + 1)^2 real inverse FFTs per bin). x: a painted density
-- mesh [n, n, n] (any normalisation: divided by its mean), or particles
-- ([3, N] or [3, n, n, n]) painted with d3m.pm.paint on opts.mesh cells.
-- The normalisation is that of stats.zeta with the shell volumes V'_b of the
-- mesh separations in each bin (returned as volumes), so a uniform mesh
-- gives zeta = 0; self terms are part of the mesh sums.
-- Returns {zeta, volumes, edges, lmax, convention}.
function stats.zeta_mesh(x, opts)
  opts = opts or {}
  local box, edges, lmax = zeta_options(opts, "zeta_mesh")
  check_tensor(x, "zeta_mesh", "the field")
  local kind, n = shape_kind(x)
  local rho = x
  if kind ~= "mesh" then
    rho = paint(particle_positions(x, box, "zeta_mesh"), opts.mesh or n, box, "zeta_mesh")
  end
  local mean = rho:mean()
  if not (mean > 0) then
    error(string.format("stats.zeta_mesh: the density mesh has mean %g; it must be positive", mean), 2)
  end
  rho = rho:copy():scale(1.0 / mean)
  local zeta, volumes = cstats.zeta_mesh(rho, box, edges, lmax)
  return {zeta = zeta, volumes = volumes, edges = edges, lmax = lmax,
          convention = ZETA_CONVENTION:gsub("analytic shell volumes", "mesh shell volumes")}
end


--- Relative 3PCF residual: the mean over l = 0 .. lmax (default 8) and bin
-- pairs b1 <= b2 of |zeta_pred - zeta_true| / |zeta_true|, on results of
-- stats.zeta or stats.zeta_mesh (or their zeta tables). Terms with
-- zeta_true = 0 have no relative error and are left out.
-- Returns the residual, a string stating the convention, and the number of
-- terms left out.
function stats.zeta_residual(pred, truth, opts)
  local zp, zt = pred.zeta or pred, truth.zeta or truth
  local lmax = (opts and opts.lmax) or 8
  local sum, terms, left_out = 0, 0, 0
  for l = 0, lmax do
    if zp[l] == nil or zt[l] == nil then
      error(string.format("stats.zeta_residual: multipole l = %d is missing; compute zeta with lmax >= %d",
                          l, lmax), 2)
    end
    for b1 = 1, #zt[l] do
      for b2 = b1, #zt[l] do
        local t = zt[l][b1][b2]
        if t == 0 then
          left_out = left_out + 1
        else
          sum = sum + math.abs(zp[l][b1][b2] - t) / math.abs(t)
          terms = terms + 1
        end
      end
    end
  end
  local convention = string.format("mean over l = 0..%d and bins b1 <= b2 of |zeta_pred - zeta_true| / |zeta_true|; %s",
                                   lmax, truth.convention or ZETA_CONVENTION)
  return sum / terms, convention, left_out
end


-- ---- the paper's summary table -----------------------------------------------------

--- Linear interpolation of values (per bin) at wavenumber k from the bin
-- centres ks; nil outside [ks[1], ks[#ks]].
function stats.interpolate(ks, values, k)
  for i = 1, #ks - 1 do
    if ks[i] <= k and k <= ks[i + 1] then
      local t = (k - ks[i]) / (ks[i + 1] - ks[i])
      return values[i] + t * (values[i + 1] - values[i])
    end
  end
  return nil
end


-- Bin-by-bin mean of zeta tables zeta[l][b1][b2] over simulations.
local function average_zeta(results)
  local first = results[1]
  local mean = {zeta = {}, convention = first.convention}
  for l = 0, first.lmax do
    mean.zeta[l] = {}
    for b1 = 1, #first.zeta[l] do
      mean.zeta[l][b1] = {}
      for b2 = 1, #first.zeta[l] do
        local sum = 0
        for _, r in ipairs(results) do
          sum = sum + r.zeta[l][b1][b2]
        end
        mean.zeta[l][b1][b2] = sum / #results
      end
    end
  end
  return mean
end


--- The summary statistics of He et al. (2019, PNAS 116, 13825, table 1)
-- for predicted against true displacements [3, n, n, n] (one each, or lists
-- over simulations).
-- opts: box (Mpc/h); k (wavenumbers for T and r, default {0.11, 0.5});
-- zeta = "pairs" (default), "mesh" or false (skip the 3PCF); zeta_options
-- (passed to stats.zeta / stats.zeta_mesh, default 10 bins of 5 Mpc/h,
-- lmax 8).
-- Spectra and zeta are averaged over the simulations before ratios and
-- residuals are taken. T = sqrt(P_pred / P_true) with the root.
-- Returns {pointwise = {mean, max}, displacement = {k, T, r},
-- density = {k, T, r}, zeta_residual, zeta_convention, spectra = {...}}.
function stats.evaluate(preds, truths, opts)
  opts = opts or {}
  local box = check_box(opts, "evaluate")
  if is_tensor(preds) then
    preds, truths = {preds}, {truths}
  end
  local ks = opts.k or {0.11, 0.5}
  local result = {pointwise = stats.pointwise_error(preds, truths), spectra = {}}
  for _, kind in ipairs({"displacement", "density"}) do
    local c = stats.compare(preds, truths, {box = box, kind = kind})
    local summary = {k = ks, T = {}, r = {}}
    for i, k in ipairs(ks) do
      summary.T[i] = stats.interpolate(c.k, c.T, k)
      summary.r[i] = stats.interpolate(c.k, c.r, k)
    end
    result[kind] = summary
    result.spectra[kind] = c
  end

  local method = opts.zeta == nil and "pairs" or opts.zeta
  if method then
    local zopts = {box = box}
    for key, value in pairs(opts.zeta_options or {}) do
      zopts[key] = value
    end
    local measure = method == "mesh" and stats.zeta_mesh or stats.zeta
    local zp, zt = {}, {}
    for i = 1, #preds do
      zp[i] = measure(preds[i], zopts)
      zt[i] = measure(truths[i], zopts)
    end
    local lmax = math.min(zp[1].lmax, 8)
    result.zeta_residual, result.zeta_convention = stats.zeta_residual(average_zeta(zp),
                                                                       average_zeta(zt),
                                                                       {lmax = lmax})
  end
  return result
end


stats.shell_volume = cstats.shell_volume
stats.default_k_edges = cstats.default_k_edges

return stats
