-- d3m bench: measure the hot paths beside the device's limits and beside
-- the host libraries a user could call instead, print a table and write it
-- as markdown. Every case reports the median of several runs after a
-- warm-up, and names the command that reruns it.
local d3m = require "d3m"
local cli = require "d3m.cli"

local parser = cli.parser("bench", "Benchmark d3m's kernels, FFTs and pipelines on one device.",
  "Results are medians of --repeats runs after one warm-up run.")
parser:flag("--quick", "Small sizes and one repeat: a smoke test of every case, not a measurement "
  .. "(writes no file unless --output is given).")
parser:option("--repeats", "Timed runs per case (count).", "5"):convert(cli.positive_integer("--repeats"))
parser:option("--output", "Markdown file to write the table to (default: docs/benchmarks.md for a "
  .. "full run; none with --quick or --only).")
parser:option("--only", "Run only the cases whose name contains this text.")
parser:flag("--no-references", "Skip the OpenBLAS and FFTW reference programs.")
local options = cli.parse(parser, arg)
local repeats = options.quick and 1 or options.repeats

local function median(values)
  table.sort(values)
  return values[(#values + 1) // 2]
end

-- Median seconds of `run` over the repeats, after one warm-up call.
local function time_it(run)
  run()
  d3m.finish()
  local times = {}
  for i = 1, repeats do
    local start = d3m.time()
    run()
    d3m.finish()
    times[i] = d3m.time() - start
  end
  return median(times)
end

local results = {}
local function record(case, value, unit, note, command)
  results[#results + 1] = {case = case, value = value, unit = unit, note = note or "",
    command = command or "d3m bench --only '" .. case .. "'"}
  print(string.format("%-44s %12s %-10s %s", case,
    type(value) == "number" and string.format("%.4g", value) or tostring(value), unit, note or ""))
  io.stdout:flush()
end

-- A group of cases is set up when --only is absent, or when its name and
-- --only contain one another (so "--only FastPM" and the full name of one
-- of its cases both select it).
local function is_selected(group)
  if not options.only then return true end
  return group:find(options.only, 1, true) ~= nil or options.only:find(group, 1, true) ~= nil
end

-- A single case runs when --only is absent or a part of its full name, so the
-- command printed for a case reruns that case alone.
local function case_selected(name)
  return not options.only or name:find(options.only, 1, true) ~= nil
end

-- ---- device limits --------------------------------------------------------

local peak
local function device_limits()
  if is_selected("FMA peak") or is_selected("conv") then
    local items, iterations = options.quick and 4096 or 65536, options.quick and 256 or 4096
    local rates = {}
    for i = 1, math.max(repeats, 1) do rates[i] = d3m.bench.fma_peak(items, iterations) end
    peak = median(rates)
    record("FMA peak (float32)", peak, "GFLOP/s", "8 chains of float8 FMAs per work-item")
  end
  if is_selected("copy bandwidth") then
    local floats = options.quick and 1 << 20 or 1 << 26
    local rates = {}
    for i = 1, math.max(repeats, 1) do rates[i] = d3m.bench.copy_bandwidth(floats, 5) end
    record("copy bandwidth", median(rates), "GB/s", string.format("%d MiB copied, read + write",
      floats * 4 >> 20))
  end
end

-- ---- host references (OpenBLAS, FFTW), built here from Debian packages ----

local source_dir = (D3M_SCRIPT_DIR or "scripts") .. "/reference"

-- Compile a reference program into a temporary folder; nil and a reason
-- when the compiler or the library is missing.
local function build_reference(name, libraries)
  local binary = os.tmpname()
  local command = string.format("cc -O2 -o %s %s/%s.c %s 2>/dev/null", binary, source_dir, name,
    libraries)
  if not os.execute(command) then
    os.remove(binary)
    return nil, "could not build " .. name .. ".c: install gcc and the library (" .. libraries .. ")"
  end
  return binary
end

local function run_reference(binary, arguments)
  local pipe = io.popen(binary .. " " .. arguments)
  local value = tonumber(pipe:read("l"))
  pipe:close()
  return value
end

local fftw_ms = {}
local function references()
  if options.no_references then return end
  if is_selected("OpenBLAS") then
    local binary, reason = build_reference("sgemm", "-lopenblas")
    if binary then
      local size = options.quick and "64 4096 1728 1" or "64 32768 1728 " .. repeats
      record("OpenBLAS SGEMM 64x32768x1728", run_reference(binary, size), "GFLOP/s",
        "im2col shape of a 64->64 conv at 32^3", binary:match("[^/]+$") and
        "cc -O2 scripts/reference/sgemm.c -lopenblas && ./a.out")
      os.remove(binary)
    else
      record("OpenBLAS SGEMM 64x32768x1728", "skipped", "", reason)
    end
  end
  if is_selected("FFTW") then
    local binary, reason = build_reference("fftw_r2c", "-lfftw3f_threads -lfftw3f -lm")
    if binary then
      for _, n in ipairs(options.quick and {32} or {64, 128, 256}) do
        fftw_ms[n] = run_reference(binary, string.format("%d %d 2", n, repeats))
        record(string.format("FFTW r2c %d^3 (2 threads)", n), fftw_ms[n], "ms", "FFTW_MEASURE plan",
          "cc -O2 scripts/reference/fftw_r2c.c -lfftw3f_threads -lfftw3f -lm && ./a.out " .. n)
      end
      os.remove(binary)
    else
      record("FFTW r2c", "skipped", "", reason)
    end
  end
end

-- ---- FFT backends ---------------------------------------------------------------

local function fft_cases()
  local default = d3m.fft.backend()
  local backends = {"vkfft", "clfft"}
  if d3m.device().type == "CPU" then
    table.insert(backends, 1, "fftw")   -- host FFTW works only on CPU devices
  end
  for _, backend in ipairs(backends) do
    d3m.fft.use_backend(backend)
    for _, n in ipairs(options.quick and {32} or {64, 128, 256}) do
      local case = string.format("FFT %s r2c+c2r %d^3", backend, n)
      if is_selected(case) then
        local real = d3m.full({n, n, n}, 1)
        local spectrum = d3m.fft.r2c(real)
        local seconds = time_it(function()
          d3m.fft.r2c(real, spectrum)
          d3m.fft.c2r(spectrum, real)
        end)
        local note = fftw_ms[n] and string.format("FFTW r2c alone: %.2f ms", fftw_ms[n]) or ""
        record(case, seconds * 1e3, "ms", note, string.format("D3M_FFT=%s d3m bench --only '%s'",
          backend, case))
        real:free()
        spectrum:free()
      end
    end
  end
  d3m.fft.use_backend(default)
  collectgarbage()
end

-- ---- convolutions, the D3M network ---------------------------------------------

local function random_tensor(shape, scale)
  local t = d3m.tensor(shape)
  local count = t:numel()
  local values, state = {}, 12345
  for i = 1, count do
    state = (state * 1103515245 + 12345) % 2147483648
    values[i] = (state / 2147483648 - 0.5) * scale
  end
  return d3m.from_table(values, shape)
end

local function conv_cases()
  local c, n = 64, options.quick and 8 or 32
  local name = string.format("conv3d %d->%d %d^3", c, c, n)
  if not (is_selected(name) or is_selected("conv")) then return end
  local input = random_tensor({1, c, n, n, n}, 1)
  local weight = random_tensor({c, c, 3, 3, 3}, 0.05)
  local bias = d3m.zeros{c}
  local grad_weight, grad_bias = d3m.zeros{c, c, 3, 3, 3}, d3m.zeros{c}
  local out = d3m.ops.conv3d_forward(input, weight, bias, 1)
  local grad_in = d3m.ops.conv3d_backward_input(out, weight, 1, nil, input:shape())
  local gflop = 2 * c * c * 27 * n ^ 3 * 1e-9
  local passes = {
    {"forward", function() d3m.ops.conv3d_forward(input, weight, bias, 1, out) end},
    {"input backward", function()
      d3m.ops.conv3d_backward_input(out, weight, 1, grad_in, input:shape()) end},
    {"weight backward", function()
      d3m.ops.conv3d_backward_weight(out, input, 1, grad_weight, grad_bias) end},
  }
  for _, pass in ipairs(passes) do
    local rate = gflop / time_it(pass[2])
    record(name .. " " .. pass[1], rate, "GFLOP/s",
      peak and string.format("%.0f %% of the FMA peak", 100 * rate / peak) or "")
  end
  collectgarbage()
end

local function network_cases()
  local channels, n = options.quick and 4 or 64, options.quick and 8 or 32
  local name = string.format("D3M channels=%d %d^3", channels, n)
  if not (is_selected(name) or is_selected("D3M")) then return end
  local model = d3m.models.d3m{channels = channels}
  local input = random_tensor({1, 3, n, n, n}, 5)
  local loss = d3m.nn.MSELoss()
  model:train()
  local step = time_it(function()
    model:zero_grad()
    local out = model:forward(input)
    loss:forward(out, input)
    model:backward(input, loss:backward(out, input))
  end)
  -- The 3x3x3 convolutions of the network do 56.5 GFLOP per pass for one
  -- 32^3 sample at 64 channels, counted layer by layer in
  -- scripts/bench_conv.lua. A training step is about three passes, and
  -- other widths and sizes scale as channels^2 n^3.
  local gflop = 172 * (channels / 64) ^ 2 * (n / 32) ^ 3
  record(name .. " training step per sample", step, "s",
    string.format("%.0f GFLOP/s", gflop / step))
  model:evaluate()
  local inference = time_it(function() model:forward(input) end)
  record(name .. " inference per sample", inference, "s",
    string.format("%.0f GFLOP/s", gflop / 3 / inference))
  model:clear_state()
  collectgarbage()
end

-- ---- particle-mesh and statistics ------------------------------------------

local function pm_cases()
  for _, n in ipairs(options.quick and {16} or {32, 128}) do
    local name = string.format("FastPM step %d^3 particles boost 2", n)
    if case_selected(name) then
      local field = d3m.sim.linear_field{box = 4.0 * n, n = n, seed = 1}
      local steps = {0.1, 0.55, 1.0}
      local seconds = time_it(function() d3m.sim.fastpm(field, {steps = steps, boost = 2}) end)
      local lpt = time_it(function() d3m.sim.lpt(field, {a = 0.1, order = 2}) end)
      record(name, (seconds - lpt) / (#steps - 1), "s",
        string.format("2 steps of a %d^3 force mesh, 2LPT start excluded", 2 * n))
    end
  end
  collectgarbage()
end

local function stats_cases()
  local n = options.quick and 16 or 128
  local m = options.quick and 16 or 32
  local bins = options.quick and 2 or 10
  local power_name = string.format("density power spectrum %d^3 particles", n)
  local xi_name = string.format("xi pair counts %d^3 particles", m)
  local pairs_name = string.format("zeta_l pairs %d^3 particles", m)
  local mesh_name = string.format("zeta_l mesh %d^3", m)

  if case_selected(power_name) then
    local field = d3m.sim.linear_field{box = 4.0 * n, n = n, seed = 2}
    local psi = d3m.sim.lpt(field, {a = 1, order = 2})
    local positions = d3m.stats.positions(psi, {box = 4.0 * n})
    record(power_name, time_it(function()
      d3m.stats.power(positions, {box = 4.0 * n, kind = "density", mesh = n})
    end), "s", "CIC paint, r2c FFT, compensation and binning")
  end

  if not (case_selected(xi_name) or case_selected(pairs_name) or case_selected(mesh_name)) then
    collectgarbage()
    return
  end
  local side = 4.0 * m   -- 4 Mpc/h between particles, as in He et al. 2019
  local small = d3m.sim.linear_field{box = side, n = m, seed = 3}
  local positions = d3m.stats.positions(d3m.sim.lpt(small, {a = 1, order = 2}), {box = side})
  if case_selected(xi_name) then
    record(xi_name, time_it(function()
      d3m.stats.xi(positions, {box = side, width = 2, bins = options.quick and 10 or 20})
    end), "s", "bins of 2 Mpc/h from 0, cell lists")
  end
  if case_selected(pairs_name) then
    record(pairs_name, time_it(function()
      d3m.stats.zeta(positions, {box = side, bins = bins, lmax = 8})
    end), "s", string.format("l <= 8, %d bins of 5 Mpc/h", bins))
  end
  if case_selected(mesh_name) then
    local mesh = d3m.pm.paint(positions, m, side)
    record(mesh_name, time_it(function()
      d3m.stats.zeta_mesh(mesh, {box = side, lmax = 8, bins = bins})
    end), "s", "FFT convolutions with Y_lm shell kernels")
  end
  collectgarbage()
end

-- ---- report -----------------------------------------------------------------------

-- The 1-minute load average, so a reader can tell a disturbed run.
local function load_average()
  local file = io.open("/proc/loadavg")
  if not file then return "unknown" end
  local value = file:read("n")
  file:close()
  return value and string.format("%.2f", value) or "unknown"
end
local load_before = load_average()

local BEGIN, END = "<!-- d3m bench: begin -->", "<!-- d3m bench: end -->"

-- The table as a markdown section between the markers.
local function markdown_section()
  local dev = d3m.device()
  local lines = {
    BEGIN,
    "## d3m bench",
    "",
    string.format("Written by `d3m bench%s` on %s UTC.", options.quick and " --quick" or "",
      os.date("!%Y-%m-%d %H:%M")),
    string.format("Device: %s (%s, %s, %d compute units).", dev.name, dev.type, dev.platform,
      dev.compute_units),
    string.format("Each value is the median of %d runs after one warm-up run. Load average "
      .. "(1 minute) %s before and %s after the run: other processes on the cores lower every "
      .. "rate.", repeats, load_before, load_average()),
    "",
    "| case | value | unit | note | command |",
    "|---|---|---|---|---|",
  }
  for _, r in ipairs(results) do
    local value = type(r.value) == "number" and string.format("%.4g", r.value) or tostring(r.value)
    lines[#lines + 1] = string.format("| %s | %s | %s | %s | `%s` |", r.case, value, r.unit, r.note,
      r.command)
  end
  lines[#lines + 1] = END
  return table.concat(lines, "\n")
end

-- Replace the section between the markers in path (other sections stay),
-- or add it after the title when the file has none; written atomically.
local function write_markdown(path)
  local old = ""
  local file = io.open(path)
  if file then
    old = file:read("a")
    file:close()
  end
  local section = markdown_section()
  local first, last = old:find(BEGIN, 1, true), select(2, old:find(END, 1, true))
  local text
  if first and last then
    text = old:sub(1, first - 1) .. section .. old:sub(last + 1)
  elseif old ~= "" then
    local title_end = select(2, old:find("^# [^\n]*\n")) or 0
    text = old:sub(1, title_end) .. "\n" .. section .. "\n" .. old:sub(title_end + 1)
  else
    text = "# Benchmarks\n\n" .. section .. "\n"
  end
  local temporary = path .. ".tmp"
  file = assert(io.open(temporary, "w"))
  file:write(text)
  file:close()
  assert(os.rename(temporary, path))
  print("wrote " .. path)
end

local dev = d3m.device()
print(string.format("d3m bench on %s (%s), %s", dev.name, dev.type, options.quick and "quick smoke run"
  or string.format("median of %d runs", repeats)))
device_limits()
references()
fft_cases()
conv_cases()
network_cases()
pm_cases()
stats_cases()

-- Only a full run of every case replaces the recorded table by default.
local output = options.output or (not options.quick and not options.only and "docs/benchmarks.md")
  or nil
if output then
  write_markdown(output)
end
