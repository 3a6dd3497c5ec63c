-- bench_conv: GFLOP/s of the periodic convolutions of the D3M network on
-- the current device (D3M_DEVICE selects it), for each pass: forward,
-- input gradient and weight gradient, next to the FP32 FMA rate that a
-- plain kernel reaches on the same device.
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
    local start = ops.wall_clock()
    run()
    d3m.finish()
    times[r] = ops.wall_clock() - start
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

-- One layer: name, kind ("conv" or "transposed"), channels in and out,
-- input mesh size, stride. FLOPs count 2 per multiply-add of the direct
-- convolution (27 taps for every output voxel of a conv3d; for the
-- transposed conv, 27 taps for every input voxel).
local layers = {
  {name = string.format("conv3d %d->%d %d^3 s1", c, c, n), kind = "conv", ci = c, co = c,
   size = n, stride = 1},
  {name = string.format("conv3d %d->%d %d^3 s2", c, 2 * c, n), kind = "conv", ci = c, co = 2 * c,
   size = n, stride = 2},
  {name = string.format("conv_transpose3d %d->%d %d^3", 2 * c, c, n / 2), kind = "transposed",
   ci = 2 * c, co = c, size = n / 2, stride = 1},
  {name = string.format("conv3d 3->%d %d^3 s1", c, n), kind = "conv", ci = 3, co = c, size = n,
   stride = 1},
}

local peak = ops.conv_fma_peak()
local device = d3m.device()
print(string.format("device: %s; path %s; batch %d; median of %d runs after a warm-up",
  device.name, options.path, batch, options.runs))
print(string.format("FP32 FMA rate of a plain float16 FMA kernel: %.1f GFLOP/s", peak))
print(string.format("%-32s %-16s %10s %10s %8s", "layer", "pass", "ms", "GFLOP/s", "of FMA"))

for _, layer in ipairs(layers) do
  if options.only == nil or layer.name:find(options.only, 1, true) then
    local s = layer.size
    local input = random_tensor({batch, layer.ci, s, s, s})
    local weight, bias, out, grad_weight, grad_bias, flop
    if layer.kind == "conv" then
      weight = random_tensor({layer.co, layer.ci, 3, 3, 3})
      bias = random_tensor({layer.co})
      out = ops.conv3d_forward(input, weight, bias, layer.stride)
      local out_voxels = (s // layer.stride) ^ 3
      flop = 2 * 27 * layer.ci * layer.co * out_voxels * batch
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
    for _, pass in ipairs(passes) do
      local seconds = time_median(pass[2])
      local gflops = flop / seconds * 1e-9
      print(string.format("%-32s %-16s %10.2f %10.1f %7.0f%%", layer.name, pass[1],
        seconds * 1e3, gflops, 100 * gflops / peak))
    end
  end
end
print(string.format("FP32 FMA rate again after the runs: %.1f GFLOP/s", ops.conv_fma_peak()))
