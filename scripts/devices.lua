-- d3m devices: list every OpenCL platform and device, like clinfo -l with
-- the numbers d3m uses (select one with D3M_DEVICE=P:D or a name part).
local d3m = require "d3m"

if arg[1] == "--help" or arg[1] == "-h" then
  print([[usage: d3m devices
List OpenCL platforms and devices: the id to give D3M_DEVICE (platform:device),
type, compute units, global memory (GiB), maximum work-group size and fp64
support. The device d3m uses by default is marked with '*'.]])
  return
end

local devices = d3m.devices()
local ok, current = pcall(d3m.device)
print(string.format("%-5s %-5s %-40s %-6s %5s %9s %6s %5s  %s", "", "id", "device", "type",
  "units", "mem GiB", "wgsize", "fp64", "platform"))
for _, dev in ipairs(devices) do
  local mark = (ok and current.id == dev.id) and "*" or ""
  print(string.format("%-5s %-5s %-40s %-6s %5d %9.2f %6d %5s  %s", mark, dev.id, dev.name:sub(1, 40),
    dev.type, dev.compute_units, dev.global_memory / 2^30, dev.max_work_group_size,
    dev.fp64 and "yes" or "no", dev.platform))
end
if not ok then
  io.stderr:write("no default device: ", tostring(current), "\n")
  os.exit(1)
end
