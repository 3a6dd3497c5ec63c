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
  .. "full run; none with --quick).")
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

local function wanted(case)
  return not options.only or case:find(options.only, 1, true) ~= nil
end

-- ---- device limits --------------------------------------------------------

local peak
local function device_limits()
  if wanted("FMA peak") or wanted("conv") then
    local items, iterations = options.quick and 4096 or 65536, options.quick and 256 or 4096
    local rates = {}
    for i = 1, math.max(repeats, 1) do rates[i] = d3m.bench.fma_peak(items, iterations) end
    peak = median(rates)
    record("FMA peak (float32)", peak, "GFLOP/s", "8 chains of float8 FMAs per work-item")
  end
  if wanted("copy bandwidth") then
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
  if wanted("OpenBLAS") then
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
  if wanted("FFTW") then
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
  for _, backend in ipairs{"vkfft", "clfft"} do
    d3m.fft.use_backend(backend)
    for _, n in ipairs(options.quick and {32} or {64, 128, 256}) do
      local case = string.format("FFT %s r2c+c2r %d^3", backend, n)
      if wanted(case) then
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

-- ---- report -----------------------------------------------------------------------

local function write_markdown(path)
  local dev = d3m.device()
  local lines = {
    "# Benchmarks",
    "",
    string.format("Written by `d3m bench%s` on %s UTC.", options.quick and " --quick" or "",
      os.date("!%Y-%m-%d %H:%M")),
    string.format("Device: %s (%s, %s, %d compute units).", dev.name, dev.type, dev.platform,
      dev.compute_units),
    string.format("Each value is the median of %d runs after one warm-up run.", repeats),
    "",
    "| case | value | unit | note | command |",
    "|---|---|---|---|---|",
  }
  for _, r in ipairs(results) do
    local value = type(r.value) == "number" and string.format("%.4g", r.value) or tostring(r.value)
    lines[#lines + 1] = string.format("| %s | %s | %s | %s | `%s` |", r.case, value, r.unit, r.note,
      r.command)
  end
  local temporary = path .. ".tmp"
  local file = assert(io.open(temporary, "w"))
  file:write(table.concat(lines, "\n"), "\n")
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

local output = options.output or (not options.quick and "docs/benchmarks.md") or nil
if output then
  write_markdown(output)
end
