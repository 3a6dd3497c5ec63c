-- Test helper: directional finite-difference checks of d3m.nn modules on
-- the device. For a random cotangent r the scalar L(x) = <r, module(x)> has
-- the directional derivative <grad, v> along a random direction v; the
-- helper compares it with the central difference
-- (L(x + h v) - L(x - h v)) / (2 h), once for the input and once per
-- parameter tensor. Dot products are summed in double by the device
-- reduction, so the float32 forward limits the accuracy: choose h and the
-- tolerance per test.
local d3m = require "d3m"
local random = require "d3m.random"
local assert = require "luassert"

local gradcheck = {}

--- Returns a tensor of `shape` uniform in [-1, 1) from generator g.
function gradcheck.random_tensor(g, shape)
  local n = 1
  for _, extent in ipairs(shape) do
    n = n * extent
  end
  return d3m.from_table(g:uniform_table(n, -1, 1), shape)
end

local function scalar(module, input, r)
  return module:forward(input):dot(r)
end

--- Compares analytic and numeric directional derivatives for `module` at
-- `input`. Returns a list of {name=, analytic=, numeric=} for "input" and
-- every parameter. options: seed (1), h (1e-2).
function gradcheck.directional(module, input, options)
  options = options or {}
  local g = random.new(options.seed or 1)
  local h = options.h or 1e-2
  local out = module:forward(input)
  local r = gradcheck.random_tensor(g, out:shape())

  module:zero_grad()
  module:forward(input)
  local grad_input = module:backward(input, r):copy()
  local results = {}

  local v = gradcheck.random_tensor(g, input:shape())
  local plus = scalar(module, input + v * h, r)
  local minus = scalar(module, input - v * h, r)
  results[1] = {name = "input", analytic = grad_input:dot(v), numeric = (plus - minus) / (2 * h)}

  for _, p in ipairs(module:named_parameters()) do
    local dir = gradcheck.random_tensor(g, p.param:shape())
    local analytic = p.grad:dot(dir)
    local saved = p.param:copy()
    p.param:copy_from(saved + dir * h)
    local up = scalar(module, input, r)
    p.param:copy_from(saved - dir * h)
    local down = scalar(module, input, r)
    p.param:copy_from(saved)
    results[#results + 1] = {name = p.name, analytic = analytic, numeric = (up - down) / (2 * h)}
  end
  return results
end

--- Asserts |analytic - numeric| <= rel max(|analytic|, |numeric|) + abs for
-- every result of gradcheck.directional.
function gradcheck.assert_close(results, rel, abs)
  for _, result in ipairs(results) do
    local scale = math.max(math.abs(result.analytic), math.abs(result.numeric))
    assert.is_true(math.abs(result.analytic - result.numeric) <= rel * scale + abs,
                   string.format("gradient of %s: analytic %.7g, central difference %.7g",
                                 result.name, result.analytic, result.numeric))
  end
end

return gradcheck
