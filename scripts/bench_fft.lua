-- Benchmark of the 3D real FFT backends: median time of an r2c and of a c2r
-- transform per mesh size, after one warm-up transform that builds the plan.
-- Run: build/bin/d3m scripts/bench_fft.lua [sizes...] (default 64 128 256)
local d3m = require "d3m"

local sizes = {}
for i, a in ipairs(arg) do sizes[i] = math.tointeger(tonumber(a)) end
if #sizes == 0 then sizes = {64, 128, 256} end
local repeats = 7

local function median(values)
  table.sort(values)
  return values[(#values + 1) // 2]
end

local function time_transform(run)
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

print(string.format("device: %s; median of %d runs after a warm-up", d3m.device().name, repeats))
print(string.format("%-8s %6s %12s %12s", "backend", "n", "r2c ms", "c2r ms"))
for _, backend in ipairs{"vkfft", "clfft"} do
  d3m.fft.use_backend(backend)
  for _, n in ipairs(sizes) do
    local real = d3m.full({n, n, n}, 1)
    local spectrum = d3m.fft.r2c(real)
    local r2c = time_transform(function() d3m.fft.r2c(real, spectrum) end)
    local c2r = time_transform(function() d3m.fft.c2r(spectrum, real) end)
    print(string.format("%-8s %6d %12.2f %12.2f", backend, n, r2c * 1e3, c2r * 1e3))
    real:free()
    spectrum:free()
    collectgarbage()
  end
end
