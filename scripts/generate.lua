-- d3m generate: write a set of FastPM simulations (ZA, 2LPT and FastPM
-- displacements per seed) to an HDF5 file. A rerun resumes it, --shard
-- splits it over processes and --merge joins the parts. See docs/generate.md.
local d3m = require "d3m"
local cli = require "d3m.cli"
local generate = require "d3m.generate"
local log = require "d3m.log"

local defaults = generate.defaults

local parser = cli.parser("generate",
  "Generate a set of FastPM simulations: per sample the ZA, 2LPT and FastPM displacements "
  .. "[3, n, n, n] in Mpc/h at a_final and the seed, appended to an HDF5 file.",
  "Sample i (counting from 1, as d3m train, predict and evaluate do) uses seed "
  .. "first_seed + i - 1 however the work is split, so a "
  .. "resumed or sharded run writes the same samples as one uninterrupted run. Rerunning "
  .. "the same command continues after the last complete sample.\n"
  .. "Merge shards: d3m generate --merge OUT.h5 SHARD1.h5 SHARD2.h5 ...")

parser:option("-o --output", "HDF5 file to write (required unless --merge). With --shard "
  .. "i/k the shard goes to OUTPUT with .shardIofK inserted before the extension.")
parser:option("--count", "Number of simulations in the whole set (the paper trains on 10000 "
  .. "and tests on 1000 per cosmology).", "1000")
  :convert(cli.positive_integer("--count"))
parser:option("--first-seed", "Seed of the first sample; sample i uses first_seed + i - 1 "
  .. "(integer >= 0).",
  tostring(defaults.first_seed))
  :convert(function(text)
    local value = math.tointeger(tonumber(text))
    if not value or value < 0 then
      return nil, "--first-seed must be an integer >= 0, got '" .. text .. "'"
    end
    return value
  end)
parser:option("--Omega-m", "Matter density today: CDM, baryons and massive neutrinos.",
  tostring(defaults.Omega_m))
  :convert(cli.positive("--Omega-m"))
parser:option("--Omega-b", "Baryon density today.",
  tostring(defaults.Omega_b)):convert(cli.positive("--Omega-b"))
parser:option("--h", "Hubble parameter H0 / (100 km/s/Mpc).",
  tostring(defaults.h)):convert(cli.positive("--h"))
parser:option("--n-s", "Scalar spectral index.",
  tostring(defaults.n_s)):convert(cli.positive("--n-s"))
parser:option("--m-nu", "Sum of the neutrino masses in eV; the default is Planck 2015's "
  .. "baseline, 0 makes them massless. They lower the linear P(k) below their free-streaming "
  .. "scale; the simulation itself treats all matter as cold.", tostring(defaults.m_nu))
  :convert(cli.number_at_least("--m-nu", 0))
parser:option("--N-nu", "Number of degenerate massive neutrino species sharing --m-nu (1 to 3).",
  tostring(defaults.N_nu)):convert(cli.positive_integer("--N-nu"))
parser:mutex(
  parser:option("--A-s", "Primordial amplitude A_s at k = 0.05/Mpc (default A0 = "
    .. generate.A0 .. ", the paper's fiducial value).")
    :convert(cli.positive("--A-s")),
  parser:option("--A-s-factor", "A_s as a multiple of A0 = " .. generate.A0
    .. " (the paper's test sets use 0.2 and 1.8; default 1).")
    :convert(cli.positive("--A-s-factor")),
  parser:option("--sigma8", "Normalise the linear power to this sigma8 at a = 1 instead of "
    .. "giving A_s (default: derived from A_s).")
    :convert(cli.positive("--sigma8")))
parser:option("--power-table", "Linear P(k) at a = 1 from CLASS or CAMB instead of the "
  .. "Eisenstein & Hu fit: a text file of k [h/Mpc] and P [(Mpc/h)^3] columns, '#' comments "
  .. "skipped, covering the box's k range. Used as given, or rescaled by --sigma8; --A-s does "
  .. "not apply (default: none).")
parser:option("--box", "Box side in Mpc/h.",
  tostring(defaults.box)):convert(cli.positive("--box"))
parser:option("--n", "Particles per side, even; d3m train and predict need a multiple of 4.",
  tostring(defaults.n)):convert(cli.positive_integer("--n"))
parser:option("--steps", "FastPM time steps: this many scale factors linear in a from "
  .. "--a-start to --a-final, both included.",
  tostring(defaults.steps)):convert(cli.positive_integer("--steps"))
parser:option("--boost", "FastPM force mesh cells per particle per side.",
  tostring(defaults.boost)):convert(cli.positive_integer("--boost"))
parser:option("--a-start", "Scale factor where FastPM starts from 2LPT.",
  tostring(defaults.a_start)):convert(cli.positive("--a-start"))
parser:option("--a-final", "Scale factor of the written displacements (1 is z = 0).",
  tostring(defaults.a_final))
  :convert(cli.positive("--a-final"))
parser:option("--shard", "Write only part I of K (format I/K, 1 <= I <= K): the samples j "
  .. "with j mod K = I - 1, to OUTPUT.shardIofK.h5 (default: the whole set).")
parser:option("--compression", "gzip level of the datasets, 0 for none.", "0")
  :convert(function(text)
    local value = math.tointeger(tonumber(text))
    if not value or value < 0 or value > 9 then
      return nil, "--compression must be a gzip level from 0 to 9, got '" .. text .. "'"
    end
    return value
  end)
parser:option("--rms-factor", "Stop when a sample's ZA rms displacement is more than this "
  .. "factor from linear theory.",
  tostring(defaults.rms_factor)):convert(cli.positive("--rms-factor"))
parser:option("--stop-after", "Stop after this many new samples, as if the run were killed "
  .. "(count; for testing resumption; default: run to the end).")
  :convert(cli.positive_integer("--stop-after"))
parser:option("--log", "Also append the log lines to this file (default: stderr only).")
parser:flag("--merge", "Merge shard files: the first file is the output, the others the "
  .. "shards of one set, in any order.")
parser:argument("files", "With --merge: OUTPUT SHARD... (HDF5 files).")
  :args("*")

local options = cli.parse(parser, arg)
if options.log then
  log.to_file(options.log)
end


-- Parse "I/K" into {I, K}.
local function parse_shard(text)
  local index, count = text:match("^(%d+)/(%d+)$")
  index, count = math.tointeger(tonumber(index)), math.tointeger(tonumber(count))
  if not index or count < 1 or index < 1 or index > count then
    parser:error("--shard must be I/K with 1 <= I <= K, got '" .. text .. "'")
  end
  return {index, count}
end


local function run_merge()
  if #options.files < 2 then
    parser:error("--merge needs an output file and at least one shard file")
  end
  local inputs = table.move(options.files, 2, #options.files, 1, {})
  log.info("merging %d shards into %s", #inputs, options.files[1])
  local summary = generate.merge(options.files[1], inputs, {compression = options.compression})
  log.info("%s: %d samples (%d new)%s", summary.path, summary.count, summary.written,
    summary.left_out > 0 and string.format(", %d left out", summary.left_out) or "")
end


local function run_generate()
  if not options.output then
    parser:error("--output is required: the HDF5 file to write")
  end
  if #options.files > 0 then
    parser:error("file arguments are for --merge only; give the output with --output")
  end
  local shard = options.shard and parse_shard(options.shard) or {1, 1}
  local output = options.output
  if options.shard then
    output = generate.shard_path(output, shard[1], shard[2])
  end

  local s = generate.settings{
    Omega_m = options.Omega_m, Omega_b = options.Omega_b, h = options.h, n_s = options.n_s,
    m_nu = options.m_nu, N_nu = options.N_nu, power_table = options.power_table,
    A_s = options.A_s, A_s_factor = options.A_s_factor, sigma8 = options.sigma8,
    box = options.box, n = options.n, steps = options.steps, boost = options.boost,
    a_start = options.a_start, a_final = options.a_final, first_seed = options.first_seed,
  }
  local device = d3m.device()
  log.info("device: %s", device.name or "?")
  log.info("%s: %d of %d simulations (shard %d/%d), %d^3 particles in %g Mpc/h, a_final %g, "
    .. "FastPM %d scale factors from a = %g, boost %d", output,
    generate.shard_size(options.count, shard[1], shard[2]), options.count, shard[1], shard[2],
    s.n, s.box, s.a_final, s.steps, s.a_start, s.boost)
  local neutrinos = "massless neutrinos"
  if s.m_nu > 0 then
    neutrinos = string.format("m_nu %g eV in %d species", s.m_nu, s.N_nu)
  end
  local amplitude = string.format("linear P(k) from %s", tostring(s.power_table))
  if s.A_s then
    amplitude = string.format("A_s %.6g (%.4g times the paper's A0)", s.A_s,
      s.A_s / generate.A0)
  end
  log.info("cosmology: Omega_m %g Omega_b %g h %g n_s %g, %s, %s, sigma8 %.4f", s.Omega_m,
    s.Omega_b, s.h, s.n_s, neutrinos, amplitude, s.sigma8)

  local summary = generate.run(s, {output = output, count = options.count, shard = shard,
    compression = options.compression, stop_after = options.stop_after,
    rms_factor = options.rms_factor, verbose = options.verbose})

  local rate = summary.written / math.max(summary.seconds, 1e-9)
  log.info("%s: %d samples written in %.1f s (%.3g simulations/s), %d of %d in the file%s",
    summary.path, summary.written, summary.seconds, rate, summary.count, summary.total,
    summary.stopped and " (stopped early)" or "")
  if summary.count > 0 then
    log.info("datasets za, lpt2, fastpm [%d, 3, %d, %d, %d] float32 (Mpc/h), seed [%d] int64, "
      .. "seeds %d..%d", summary.count, s.n, s.n, s.n, summary.count, summary.first_seed,
      summary.last_seed)
  end
  if summary.written > 0 then
    log.info("mean rms per component: ZA %.4g (linear theory %.4g), 2LPT %.4g, FastPM %.4g Mpc/h",
      summary.rms.za, summary.expected_za_rms, summary.rms.lpt2, summary.rms.fastpm)
  end
end


-- Errors from the library start with the Lua file and line that raised
-- them, which mean nothing to a user of the command. The message itself
-- names the file and the problem.
local ok, message = pcall(options.merge and run_merge or run_generate)
if not ok then
  log.error("%s", (tostring(message):gsub("^[^\n]-%.lua:%d+: ", "")))
  os.exit(1)
end
