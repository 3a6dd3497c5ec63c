-- Default initialisation of convolution parameters as PyTorch 1.x does it:
-- kaiming_uniform_(a = sqrt(5)) on the weight, which is uniform in
-- [-b, b] with b = gain sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)), so
-- b = 1/sqrt(fan_in); and the bias uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)].
-- Values come from a d3m.random generator: options.generator when given,
-- else the shared generator of d3m.nn (reset by d3m.nn.manual_seed).
local d3m = require "d3m"
local random = require "d3m.random"

local init = {}

local shared = random.new(0)

--- Resets the shared generator to `seed`.
function init.manual_seed(seed)
  shared = random.new(seed)
end

--- Returns the generator that initialisation with `options` uses.
function init.generator(options)
  return options and options.generator or shared
end

--- Returns a new tensor of `shape` uniform in +-1/sqrt(fan_in).
function init.uniform(shape, fan_in, options)
  local count = 1
  for _, n in ipairs(shape) do
    count = count * n
  end
  local bound = 1.0 / math.sqrt(fan_in)
  local values = init.generator(options):uniform_table(count, -bound, bound)
  return d3m.from_table(values, shape)
end

return init
