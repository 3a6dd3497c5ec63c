-- d3m selfcheck: a short end-to-end check of the device, the kernels and
-- the FFT: allocation, elementwise arithmetic, a reduction against its exact
-- value and an FFT round trip, with timings.
local d3m = require "d3m"

if arg[1] == "--help" or arg[1] == "-h" then
  print([[usage: d3m selfcheck [n]
Run a short check on the current device (D3M_DEVICE selects it):
  n   mesh size per side of the FFT round trip (default 64)]])
  return
end

local n = math.tointeger(tonumber(arg[1] or "64"))
if not n or n < 2 then
  io.stderr:write("d3m selfcheck: the mesh size must be an integer of at least 2, got '",
    tostring(arg[1]), "'\n")
  os.exit(1)
end
local dev = d3m.device()
print(string.format("device: %s (%s, %s), FFT backend %s", dev.name, dev.type, dev.platform,
  d3m.fft.backend()))

local clock = os.clock
local failures = 0
local function check(name, ok, detail)
  print(string.format("%-36s %s  %s", name, ok and "ok  " or "FAIL", detail or ""))
  if not ok then failures = failures + 1 end
end

local t0 = clock()
local a = d3m.full({1000000}, 0.5)
local b = d3m.full({1000000}, 2.0)
local c = a * b
check("elementwise multiply", math.abs(c:sum() - 1e6) < 1e-6 * 1e6,
  string.format("sum %.1f (expected 1000000)", c:sum()))

local field = d3m.tensor{n, n, n}
local values = {}
for i = 1, n * n * n do values[i] = math.sin(0.37 * i) end
field = d3m.from_table(values, {n, n, n})
local spectrum = d3m.fft.r2c(field)
local back = d3m.fft.c2r(spectrum, n)
local err = (back - field):max_abs()
check(string.format("FFT round trip %d^3", n), err < 1e-5, string.format("max error %.2e", err))
print(string.format("elapsed %.2f s of CPU time", clock() - t0))

if failures > 0 then
  os.exit(1)
end
print("selfcheck passed")
