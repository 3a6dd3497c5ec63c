-- d3m.generate: training and test sets of FastPM simulations, as the D3M
-- paper uses them (He et al. 2019: 10,000 training simulations, 1,000 per
-- test cosmology). One sample is the Zel'dovich (ZA), 2LPT and FastPM
-- displacement of one Gaussian initial field. Sample j (from 0) has seed
-- first_seed + j, however the work is split into shards. `d3m generate`
-- (scripts/generate.lua) is the command-line face of this module.
local core = require "d3m.core"
local log = require "d3m.log"
local progress = require "d3m.progress"

local generate = {}

-- The paper's fiducial primordial amplitude A0 (Planck 2015).
generate.A0 = 2.142e-9

generate.defaults = {
  Omega_m = 0.3089, Omega_b = 0.0486, h = 0.6774, n_s = 0.9667, m_nu = 0.06, N_nu = 1,
  box = 128.0, n = 32, steps = 10, boost = 2, a_start = 0.1, a_final = 1.0,
  first_seed = 1, rms_factor = 2.0,
}

-- Root attributes that identify a set, in the order they are compared on
-- resume and merge, with the option that sets each. box_size and n are
-- written by d3m.io.dataset itself.
generate.parameters = {
  {"box_size", "--box"}, {"n", "--n"}, {"a_final", "--a-final"},
  {"Omega_m", "--Omega-m"}, {"Omega_b", "--Omega-b"}, {"h", "--h"}, {"n_s", "--n-s"},
  {"m_nu", "--m-nu"}, {"N_nu", "--N-nu"},
  {"power_table", "--power-table"},
  {"A_s", "--A-s or --A-s-factor"}, {"sigma8", "--sigma8, or derived from A_s"},
  {"fastpm_steps", "--steps"}, {"fastpm_boost", "--boost"}, {"fastpm_a_start", "--a-start"},
  {"first_seed", "--first-seed"}, {"shard_index", "--shard"}, {"shard_count", "--shard"},
}


--- Scale factors of the FastPM time steps: `steps` values linear in a from
-- a_start to a_final, both included (steps - 1 kick-drift-kick steps).
function generate.scale_factors(steps, a_start, a_final)
  local a = {}
  for i = 1, steps do
    a[i] = a_start + (a_final - a_start) * (i - 1) / (steps - 1)
  end
  a[steps] = a_final
  return a
end


local function check(condition, format, ...)
  if not condition then
    error(string.format(format, ...), 3)
  end
end


--- Complete and check the settings of a set. options: Omega_m, Omega_b, h,
-- n_s, m_nu (eV), N_nu, and at most one of A_s, A_s_factor (multiple of A0)
-- and sigma8; power_table (the path of a two-column P(k) at a = 1 from CLASS
-- or CAMB, used instead of Eisenstein & Hu, as given or rescaled to sigma8);
-- box (Mpc/h), n (particles per side), steps, boost, a_start, a_final.
-- Returns a new table with every field set, the cosmology object in
-- `cosmology`, and sigma8 and, without a power table, A_s filled in.
function generate.settings(options)
  options = options or {}
  local s = {}
  for name, value in pairs(generate.defaults) do
    s[name] = options[name] == nil and value or options[name]
  end

  local amplitudes = 0
  for _, name in ipairs({"A_s", "A_s_factor", "sigma8"}) do
    if options[name] ~= nil then amplitudes = amplitudes + 1 end
  end
  check(amplitudes <= 1, "give at most one of A_s, A_s_factor and sigma8, got %d", amplitudes)

  check(math.type(s.n) == "integer" and s.n >= 2 and s.n % 2 == 0,
    "n (particles per side) must be an even integer >= 2, got %s", tostring(s.n))
  check(type(s.box) == "number" and s.box > 0, "box must be > 0 Mpc/h, got %s", tostring(s.box))
  check(math.type(s.steps) == "integer" and s.steps >= 2,
    "steps (FastPM scale factors) must be an integer >= 2, got %s", tostring(s.steps))
  check(math.type(s.boost) == "integer" and s.boost >= 1 and s.boost <= 8,
    "boost (force mesh cells per particle per side) must be an integer from 1 to 8, got %s",
    tostring(s.boost))
  check(s.a_start > 0 and s.a_start < s.a_final,
    "a_start must be > 0 and below a_final = %g, got %g", s.a_final, s.a_start)
  check(math.type(s.first_seed) == "integer" and s.first_seed >= 0,
    "first_seed must be an integer >= 0, got %s", tostring(s.first_seed))

  -- Massless neutrinos have no species count: record 0 rather than the
  -- default of 1.
  if s.m_nu == 0 then
    s.N_nu = 0
  end
  local cosmology_options = {Omega_m = s.Omega_m, Omega_b = s.Omega_b, h = s.h, n_s = s.n_s,
    m_nu = s.m_nu, N_nu = s.N_nu, power_table = options.power_table}
  s.power_table = options.power_table
  check(s.power_table == nil or (options.A_s == nil and options.A_s_factor == nil),
    "a power table sets the amplitude of P(k) itself, so A_s does not apply to it; give "
    .. "sigma8 to rescale the table instead")
  if options.sigma8 ~= nil then
    cosmology_options.sigma8 = options.sigma8
  elseif options.A_s_factor ~= nil then
    cosmology_options.A_s = options.A_s_factor * generate.A0
  else
    cosmology_options.A_s = options.A_s or generate.A0
  end
  s.cosmology = core.cosmology(cosmology_options)
  local params = s.cosmology:params()
  s.sigma8 = params.sigma8
  -- A table's amplitude is its own: the A_s the cosmology carries is unused.
  s.A_s = s.power_table == nil and params.A_s or nil
  s.A_s_factor = nil
  s.scale_factors = generate.scale_factors(s.steps, s.a_start, s.a_final)
  return s
end


--- Root attributes of a set (box_size and n are added by d3m.io.dataset).
-- shard is {index, count}, {1, 1} for an unsplit set.
function generate.attributes(s, shard)
  shard = shard or {1, 1}
  return {
    a_final = s.a_final, Omega_m = s.Omega_m, Omega_b = s.Omega_b, h = s.h, n_s = s.n_s,
    m_nu = s.m_nu, N_nu = s.N_nu, power_table = s.power_table or "none", A_s = s.A_s,
    sigma8 = s.sigma8, fastpm_steps = s.steps, fastpm_boost = s.boost,
    fastpm_a_start = s.a_start, first_seed = s.first_seed,
    shard_index = shard[1], shard_count = shard[2],
  }
end


--- Linear-theory rms of one ZA displacement component (Mpc/h) at scale
-- factor a on an n^3 lattice in a box of side `box`: D1(a) times the root
-- of (1/3V) sum over the mesh modes k != 0 of P(k)/k^2, which is the
-- discrete form of integral P(k)/(2 pi^2) dk over the mesh's k range.
-- The Nyquist planes are left out because the ZA gradient zeroes them.
function generate.expected_za_rms(cosmology, box, n, a)
  local half = n // 2 - 1
  local multiplicity = {}
  for i = -half, half do
    for j = -half, half do
      for k = -half, half do
        local m2 = i * i + j * j + k * k
        multiplicity[m2] = (multiplicity[m2] or 0) + 1
      end
    end
  end
  multiplicity[0] = nil

  local k_fundamental = 2 * math.pi / box
  local sum = 0.0
  for m2, count in pairs(multiplicity) do
    local k = k_fundamental * math.sqrt(m2)
    sum = sum + count * cosmology:linear_power(k) / (k * k)
  end
  local d1 = cosmology:growth(a)
  return d1 * math.sqrt(sum / (3 * box ^ 3))
end


local function rms(t)
  return math.sqrt(t:dot(t) / t:numel())
end


--- Produce one sample: {za=, lpt2=, fastpm=, seed=}, displacements
-- [3, n, n, n] in Mpc/h at a_final. FastPM starts from 2LPT at a_start and
-- its output is wrapped into [-box/2, box/2); ZA and 2LPT are not wrapped.
function generate.sample(s, seed)
  local field = core.sim.linear_field{cosmology = s.cosmology, box = s.box, n = s.n, seed = seed}
  local za, za_velocity = core.sim.lpt(field, {a = s.a_final, order = 1})
  local lpt2, lpt2_velocity = core.sim.lpt(field, {a = s.a_final, order = 2})
  local fastpm, fastpm_velocity = core.sim.fastpm(field, {steps = s.scale_factors,
    boost = s.boost, cosmology = s.cosmology})
  for _, t in ipairs({za_velocity, lpt2_velocity, fastpm_velocity, field.delta_k}) do
    t:free()
  end
  return {za = za, lpt2 = lpt2, fastpm = fastpm, seed = seed}
end


--- Free the device memory of a sample's tensors now instead of at the
-- next garbage collection.
function generate.free(sample)
  for _, name in ipairs({"za", "lpt2", "fastpm"}) do
    sample[name]:free()
  end
end


--- Check a sample before it is written. Returns the rms of each field
-- (Mpc/h, per component), or nil and a message. Checks: no NaN or Inf;
-- the ZA rms within a factor rms_factor of expected_rms (linear theory,
-- see expected_za_rms); 2LPT and FastPM rms within a factor 2 of the ZA
-- rms, since nonlinear evolution changes the rms displacement by tens of
-- percent at z = 0, not by factors. The ZA ratio to linear theory ranged
-- over 0.85..1.26 for 200 seeds at 32^3 in 128 Mpc/h and over 0.70..1.40
-- for 300 seeds at 8^3 in 32 Mpc/h (few low-k modes). The default factor 2
-- therefore catches wrong units or normalisation, not cosmic variance.
function generate.validate(sample, expected_rms, rms_factor)
  local values = {}
  for _, name in ipairs({"za", "lpt2", "fastpm"}) do
    if sample[name]:has_nonfinite() then
      return nil, string.format("the %s displacement of seed %d contains NaN or Inf", name,
        sample.seed)
    end
    values[name] = rms(sample[name])
  end

  local ratio = values.za / expected_rms
  if not (ratio >= 1 / rms_factor and ratio <= rms_factor) then
    return nil, string.format("the ZA displacement of seed %d has rms %.4g Mpc/h, but linear "
      .. "theory expects %.4g Mpc/h (allowed factor %g); check the cosmology, box and units, or "
      .. "raise --rms-factor if this is a rare fluctuation of a small box",
      sample.seed, values.za, expected_rms, rms_factor)
  end
  for _, name in ipairs({"lpt2", "fastpm"}) do
    ratio = values[name] / values.za
    if not (ratio >= 0.5 and ratio <= 2) then
      return nil, string.format("the %s displacement of seed %d has rms %.4g Mpc/h, more than "
        .. "a factor 2 from the ZA rms %.4g Mpc/h", name, sample.seed, values[name], values.za)
    end
  end
  return values
end


--- Number of samples in shard `index` of shard_count for a set of count
-- samples: the indices j < count with j % shard_count == index - 1.
function generate.shard_size(count, index, shard_count)
  if count < index then
    return 0
  end
  return (count - index) // shard_count + 1
end


--- File name of a shard: "set.h5" -> "set.shard2of4.h5".
function generate.shard_path(path, index, shard_count)
  local stem, extension = path:match("^(.-)(%.[^./]*)$")
  if not stem then
    stem, extension = path, ""
  end
  return string.format("%s.shard%dof%d%s", stem, index, shard_count, extension)
end


-- Compare the stored root attributes of path with the expected ones and
-- raise naming every parameter that differs and the option that sets it.
local function check_existing(path, stored, expected)
  local function text(value)
    if math.type(value) == "float" then
      return string.format("%.10g", value)
    end
    return tostring(value)
  end

  local differences = {}
  for _, entry in ipairs(generate.parameters) do
    local name, option = entry[1], entry[2]
    if stored[name] ~= nil and expected[name] ~= nil and stored[name] ~= expected[name] then
      differences[#differences + 1] = string.format("%s = %s in the file, %s requested (%s)",
        name, text(stored[name]), text(expected[name]), option)
    end
  end
  if #differences == 0 then
    return
  end

  -- Sets written before neutrino masses existed have no m_nu attribute and
  -- massless neutrinos, so a default run now differs from them in sigma8.
  local hint = ""
  if stored.m_nu == nil and expected.m_nu ~= nil and expected.m_nu ~= 0 then
    hint = " The file has no m_nu attribute, so it was written with massless neutrinos; "
      .. "add --m-nu 0 to resume it."
  end
  error(string.format("'%s' was written with other settings: %s.%s Rerun with the file's "
    .. "settings to resume it, or write to another file", path,
    table.concat(differences, "; "), hint), 0)
end


local function file_exists(path)
  local file = io.open(path, "rb")
  if file then
    file:close()
    return true
  end
  return false
end


-- Open the set for appending, after checking an existing file's settings
-- with a message that names the parameter and its option.
local function open_set(path, s, attrs, compression)
  if file_exists(path) then
    local reader = core.io.dataset(path, {mode = "r"})
    local stored = reader:attributes()
    reader:close()
    local expected = {box_size = s.box, n = s.n}
    for name, value in pairs(attrs) do
      expected[name] = value
    end
    check_existing(path, stored, expected)
  end
  return require("d3m.io").dataset(path, {n = s.n, box = s.box, attrs = attrs,
    compression = compression})
end


--- Write (or continue) one shard of a set. s: settings from
-- generate.settings. options: output (path of this shard's file), count
-- (samples in the whole set), shard ({index, count}, default {1, 1}),
-- compression (gzip level), stop_after (stop after this many new samples,
-- as if the process were killed), rms_factor, quiet (no progress line),
-- verbose (a log line per written sample).
-- Returns a summary: path, count (samples in the file), written, seconds,
-- first_seed and last_seed of the file, rms (mean per field), stopped.
function generate.run(s, options)
  local shard = options.shard or {1, 1}
  local index, shard_count = shard[1], shard[2]
  local total = generate.shard_size(options.count, index, shard_count)
  local expected_rms = generate.expected_za_rms(s.cosmology, s.box, s.n, s.a_final)
  local rms_factor = options.rms_factor or s.rms_factor
  local function seed_at(position)
    return s.first_seed + (index - 1) + (position - 1) * shard_count
  end

  local writer <close> = open_set(options.output, s, generate.attributes(s, shard),
    options.compression)
  local start_count = writer:count()
  if start_count > 0 and writer:read("seed", start_count) ~= seed_at(start_count) then
    error(string.format("'%s' contains seed %d at sample %d where seed %d was expected; it was "
      .. "not written by this command", options.output, writer:read("seed", start_count),
      start_count, seed_at(start_count)), 0)
  end
  if start_count > 0 then
    log.info("resuming %s after %d complete samples", options.output, start_count)
  end

  local summary = {path = options.output, written = 0, stopped = false,
    rms = {za = 0, lpt2 = 0, fastpm = 0}}
  local report = progress.new{total = total, done = math.min(start_count, total),
    label = "generate", unit = "sims"}
  local started = progress.now()
  for position = start_count + 1, total do
    if options.stop_after and summary.written >= options.stop_after then
      summary.stopped = true
      log.info("stopping after %d new samples (--stop-after)", summary.written)
      break
    end
    local sample = generate.sample(s, seed_at(position))
    local values, message = generate.validate(sample, expected_rms, rms_factor)
    if not values then
      error(string.format("%s; sample %d was not written to '%s'", message, position,
        options.output), 0)
    end
    writer:append(sample)
    generate.free(sample)
    summary.written = summary.written + 1
    if options.verbose then
      log.info("sample %d (seed %d) written to %s", position, seed_at(position), options.output)
    end
    for name, value in pairs(values) do
      summary.rms[name] = summary.rms[name] + value
    end
    if not options.quiet then
      report:update(position, {string.format("rms ZA %.3g FastPM %.3g Mpc/h", values.za,
        values.fastpm)})
    end
  end

  summary.seconds = progress.now() - started
  summary.count = writer:count()
  summary.total = total
  summary.expected_za_rms = expected_rms
  if summary.count > 0 then
    summary.first_seed = writer:read("seed", 1)
    summary.last_seed = writer:read("seed", summary.count)
  end
  for name, value in pairs(summary.rms) do
    summary.rms[name] = summary.written > 0 and value / summary.written or nil
  end
  return summary
end


-- ---- merge ------------------------------------------------------------------

-- Open each shard read-only into shards[shard_index]. Every physics
-- attribute must agree, and the shard indices must be 1 .. k once each.
-- The caller closes the readers in shards, also when this raises.
local function open_shards(inputs, shards)
  local reference = nil
  for _, path in ipairs(inputs) do
    local reader = core.io.dataset(path, {mode = "r"})
    local attrs = reader:attributes()
    local function fail(format, ...)
      reader:close()
      error(string.format(format, ...), 0)
    end
    local index, count = attrs.shard_index, attrs.shard_count
    if math.type(index) ~= "integer" or math.type(count) ~= "integer" then
      fail("'%s' has no shard_index/shard_count attributes; only files written by d3m "
        .. "generate can be merged", path)
    end
    if count ~= #inputs then
      fail("'%s' is shard %d of %d, but %d files were given; give all %d shards of one set",
        path, index, count, #inputs, count)
    end
    if shards[index] then
      fail("'%s' and '%s' are both shard %d of %d", shards[index].path, path, index, count)
    end
    if reference then
      for _, entry in ipairs(generate.parameters) do
        local name = entry[1]
        if name ~= "shard_index" and attrs[name] ~= reference.attrs[name] then
          fail("'%s' has %s = %s but '%s' has %s; shards of one set share every setting", path,
            name, tostring(attrs[name]), reference.path, tostring(reference.attrs[name]))
        end
      end
    end
    shards[index] = {path = path, reader = reader, attrs = attrs, count = reader:count()}
    reference = reference or shards[index]
  end
end


--- Merge the k shard files of one set into output, in sample order, as if
-- one process had written them (shard attributes become 1 of 1). Only the
-- complete prefix is written: samples 0 .. M-1 with M the first index a
-- shard lacks; a warning names the shard that limits it. An existing
-- output continues after its samples. Returns a summary: path, count,
-- written, left_out (samples in the shards beyond the prefix).
function generate.merge(output, inputs, options)
  options = options or {}
  if #inputs == 0 then
    error("merge: no shard files given", 0)
  end
  local shards = {}
  local k = #inputs
  local ok, result = pcall(function()
    open_shards(inputs, shards)
    local complete, limiting = math.huge, nil
    local available = 0
    for index, shard in ipairs(shards) do
      available = available + shard.count
      local covered = (index - 1) + shard.count * k
      if covered < complete then
        complete, limiting = covered, shard
      end
    end
    if complete < available then
      local left_out = available - complete
      log.warn("merging the first %d samples only: '%s' stops there; %d %s of the other "
        .. "shards %s left out until its run finishes", complete, limiting.path, left_out,
        left_out == 1 and "sample" or "samples", left_out == 1 and "is" or "are")
    end

    local attrs = {}
    for name, value in pairs(shards[1].attrs) do
      attrs[name] = value
    end
    attrs.box_size, attrs.n, attrs.software_version = nil, nil, nil
    attrs.shard_index, attrs.shard_count = 1, 1
    local s = {box = shards[1].attrs.box_size, n = shards[1].attrs.n}
    local writer <close> = open_set(output, s, attrs, options.compression)
    local first_seed = attrs.first_seed
    local start = writer:count()
    local report = progress.new{total = complete, done = math.min(start, complete),
      label = "merge", unit = "samples"}
    for j = start, complete - 1 do
      local shard = shards[j % k + 1]
      local position = j // k + 1
      local sample = {seed = shard.reader:read("seed", position)}
      if sample.seed ~= first_seed + j then
        error(string.format("'%s' contains seed %d at sample %d where seed %d was expected",
          shard.path, sample.seed, position, first_seed + j), 0)
      end
      for _, name in ipairs({"za", "lpt2", "fastpm"}) do
        sample[name] = shard.reader:read(name, position)
      end
      writer:append(sample)
      generate.free(sample)
      if not options.quiet then
        report:update(j + 1)
      end
    end
    return {path = output, count = writer:count(), written = math.max(complete - start, 0),
      left_out = available - complete}
  end)
  for _, shard in pairs(shards) do
    shard.reader:close()
  end
  if not ok then
    error(result, 0)
  end
  return result
end


return generate
