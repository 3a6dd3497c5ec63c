-- Small training sets for the data, train and predict specs: ZA
-- displacements as input and 2LPT as a stand-in target (both in Mpc/h),
-- written with d3m.io.dataset.
local d3m = require "d3m"

local tiny = {}

--- Writes `count` samples of n^3 particles in a box of `box` Mpc/h to path
-- (replacing it) and returns path. Seeds are first_seed, first_seed + 1, ...
function tiny.write(path, options)
  options = options or {}
  local n, box, count = options.n or 8, options.box or 32.0, options.count or 10
  os.remove(path)
  local writer <close> = d3m.io.dataset(path, {n = n, box = box, attrs = {a_final = 1.0}})
  for i = 1, count do
    local seed = (options.first_seed or 1) + i - 1
    local field = d3m.sim.linear_field{n = n, box = box, seed = seed}
    local za = d3m.sim.lpt(field, {order = 1})
    local lpt2 = d3m.sim.lpt(field, {order = 2})
    writer:append{za = za, lpt2 = lpt2, fastpm = lpt2, seed = seed}
  end
  return path
end

--- A fresh temporary folder (removed by tiny.remove).
function tiny.folder()
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("mkdir -p '" .. path .. "'"))
  return path
end

function tiny.remove(folder)
  os.execute("rm -rf '" .. folder .. "'")
end

return tiny
