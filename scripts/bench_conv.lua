-- bench_conv: GFLOP/s of the periodic convolutions of the D3M network on
-- the current device (D3M_DEVICE selects it). Each layer's forward, input
-- gradient and weight gradient pass is timed. The FP32 FMA rate of a plain
-- kernel on the same device, measured before and after, is the ceiling.
local d3m = require "d3m"
local ops = d3m.ops

local usage = [[usage: d3m scripts/bench_conv.lua [options]
Time the periodic convolutions on the current device (D3M_DEVICE selects it).
  --runs R        timed runs per pass, after one warm-up run; the median counts (default 5)
  --batch N       samples per call (default 1)
  --size n        mesh size of the full-resolution layers (default 32, a multiple of 4)
  --channels C    channels of the full-resolution layers (default 64)
  --path P        "fast" (default) or "reference"
  --only NAME     run only the layers whose name contains NAME]]

local options = {runs = 5, batch = 1, size = 32, channels = 64, path = "fast"}
local i = 1
while i <= #arg do
  local name = arg[i]
  if name == "--help" or name == "-h" then
    print(usage)
    return
  end
  local key = name:match("^%-%-(%a+)$")
  if key == nil or options[key] == nil and key ~= "only" or arg[i + 1] == nil then
    io.stderr:write("bench_conv: invalid option '", name, "'\n", usage, "\n")
    os.exit(2)
  end
  options[key] = tonumber(arg[i + 1]) or arg[i + 1]
  i = i + 2
end
if options.size % 4 ~= 0 then
  io.stderr:write("bench_conv: --size must be a multiple of 4, got ", options.size, "\n")
  os.exit(2)
end
ops.conv_path(options.path)

local function median(values)
  table.sort(values)
  local n = #values
  if n % 2 == 1 then return values[(n + 1) / 2] end
  return 0.5 * (values[n / 2] + values[n / 2 + 1])
end

-- Median wall time in seconds of run(), after one warm-up call.
local function time_median(run)
  run()
  d3m.finish()
  local times = {}
  for r = 1, options.runs do
    local start = d3m.time()
    run()
    d3m.finish()
    times[r] = d3m.time() - start
  end
  return median(times)
end

local function random_tensor(shape)
  local t = d3m.tensor(shape)
  local count = t:numel()
  local values = {}
  local state = 12345
  for k = 1, count do
    state = (state * 1103515245 + 12345) % 2147483648
    values[k] = state / 1073741824 - 1
  end
  return d3m.from_table(values, shape)
end

local n, c, batch = options.size, options.channels, options.batch

-- The distinct convolutions of the D3M U-Net with their count per
-- forward pass (for n = 32, c = 64: 32^3 input, 64 channels at full
-- resolution). kind "conv" is a periodic 3x3x3 conv3d, "transposed" the
-- periodic up-sampling conv_transpose3d; size is the input mesh size.
-- FLOPs count 2 per multiply-add of the direct convolution: k^3 taps per
-- output voxel of a conv3d, 27 taps per input voxel of the transposed conv.
-- The last layer is the 1x1x1 conv to the 3 displacement components.
-- The first layer needs no input gradient in training, so its backward
-- input pass is timed but left out of the totals.
local layers = {
  {kind = "conv", ci = 3, co = c, size = n, stride = 1, count = 1, first = true},
  {kind = "conv", ci = c, co = c, size = n, stride = 1, count = 2},
  {kind = "conv", ci = c, co = 2 * c, size = n, stride = 2, count = 1},
  {kind = "conv", ci = 2 * c, co = 2 * c, size = n / 2, stride = 1, count = 3},
  {kind = "conv", ci = 2 * c, co = 4 * c, size = n / 2, stride = 2, count = 1},
  {kind = "conv", ci = 4 * c, co = 4 * c, size = n / 4, stride = 1, count = 2},
  {kind = "transposed", ci = 4 * c, co = 2 * c, size = n / 4, stride = 1, count = 1},
  {kind = "conv", ci = 4 * c, co = 2 * c, size = n / 2, stride = 1, count = 1},
  {kind = "transposed", ci = 2 * c, co = c, size = n / 2, stride = 1, count = 1},
  {kind = "conv", ci = 2 * c, co = c, size = n, stride = 1, count = 1},
  {kind = "conv", ci = c, co = 3, size = n, stride = 1, count = 1, ksize = 1},
}
for _, layer in ipairs(layers) do
  layer.ksize = layer.ksize or 3
  if layer.kind == "conv" then
    layer.name = string.format("conv3d k%d %d->%d %d^3 s%d", layer.ksize, layer.ci, layer.co,
      layer.size, layer.stride)
  else
    layer.name = string.format("conv_transpose3d %d->%d %d^3", layer.ci, layer.co, layer.size)
  end
end

-- The 1-minute load average (Linux only). Before the run it counts other
-- processes, which take cores from the kernels; after the run it also
-- counts this script's own threads.
local function load_average()
  local file = io.open("/proc/loadavg")
  if file == nil then return "unknown" end
  local text = file:read("l")
  file:close()
  return text:match("^(%S+)") or "unknown"
end

local load_before = load_average()
local peak_before = ops.conv_fma_peak()
local device = d3m.device()
print(string.format("device: %s; path %s; batch %d; median of %d runs after a warm-up",
  device.name, options.path, batch, options.runs))

-- Rows are printed at the end, against the higher of the FMA rates
-- measured before and after the runs.
local rows = {}

-- Totals over the network (layer time x count), per pass.
local total_seconds = {0, 0, 0}
local total_flop = {0, 0, 0}
local all_layers = true

for _, layer in ipairs(layers) do
  if options.only ~= nil and not layer.name:find(options.only, 1, true) then
    all_layers = false
  else
    local s = layer.size
    local input = random_tensor({batch, layer.ci, s, s, s})
    local weight, bias, out, grad_weight, grad_bias, flop
    if layer.kind == "conv" then
      local k = layer.ksize
      weight = random_tensor({layer.co, layer.ci, k, k, k})
      bias = random_tensor({layer.co})
      out = ops.conv3d_forward(input, weight, bias, layer.stride)
      local out_voxels = (s // layer.stride) ^ 3
      flop = 2 * k ^ 3 * layer.ci * layer.co * out_voxels * batch
    else
      weight = random_tensor({layer.ci, layer.co, 3, 3, 3})
      bias = random_tensor({layer.co})
      out = ops.conv_transpose3d_forward(input, weight, bias)
      flop = 2 * 27 * layer.ci * layer.co * s ^ 3 * batch
    end
    grad_weight = d3m.zeros(weight:shape())
    grad_bias = d3m.zeros{layer.co}
    local grad_out = random_tensor(out:shape())
    local grad_in = d3m.tensor(input:shape())

    local passes
    if layer.kind == "conv" then
      passes = {
        {"forward", function() ops.conv3d_forward(input, weight, bias, layer.stride, out) end},
        {"backward input", function()
          ops.conv3d_backward_input(grad_out, weight, layer.stride, grad_in) end},
        {"backward weight", function()
          ops.conv3d_backward_weight(grad_out, input, layer.stride, grad_weight, grad_bias) end},
      }
    else
      passes = {
        {"forward", function() ops.conv_transpose3d_forward(input, weight, bias, out) end},
        {"backward input", function()
          ops.conv_transpose3d_backward_input(grad_out, weight, grad_in) end},
        {"backward weight", function()
          ops.conv_transpose3d_backward_weight(grad_out, input, grad_weight, grad_bias) end},
      }
    end
    for p, pass in ipairs(passes) do
      local seconds = time_median(pass[2])
      local gflops = flop / seconds * 1e-9
      rows[#rows + 1] = {layer.name, pass[1], seconds * 1e3, gflops}
      if not (layer.first and p == 2) then
        total_seconds[p] = total_seconds[p] + layer.count * seconds
        total_flop[p] = total_flop[p] + layer.count * flop
      end
    end
  end
end
local peak_after = ops.conv_fma_peak()
local peak = math.max(peak_before, peak_after)
print(string.format("load average before: %s, after: %s", load_before, load_average()))
print(string.format("FP32 FMA rate of a plain float16 FMA kernel: %.1f GFLOP/s before, " ..
  "%.1f GFLOP/s after the runs", peak_before, peak_after))
print(string.format("%-32s %-16s %10s %10s %8s", "layer", "pass", "ms", "GFLOP/s", "of FMA"))
for _, row in ipairs(rows) do
  print(string.format("%-32s %-16s %10.2f %10.1f %7.0f%%", row[1], row[2], row[3], row[4],
    100 * row[4] / peak))
end
if all_layers then
  print(string.format("D3M network, %d sample(s), all convolutions:", batch))
  local names = {"forward", "backward input", "backward weight"}
  for p = 1, 3 do
    print(string.format("  %-16s %8.1f ms %8.1f GFLOP %8.1f GFLOP/s", names[p],
      total_seconds[p] * 1e3, total_flop[p] * 1e-9, total_flop[p] / total_seconds[p] * 1e-9))
  end
  local seconds = total_seconds[1] + total_seconds[2] + total_seconds[3]
  local flop = total_flop[1] + total_flop[2] + total_flop[3]
  print(string.format("  %-16s %8.1f ms %8.1f GFLOP %8.1f GFLOP/s (%.0f%% of FMA)",
    "training step", seconds * 1e3, flop * 1e-9, flop / seconds * 1e-9,
    100 * flop / seconds * 1e-9 / peak))
end

