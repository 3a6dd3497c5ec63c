-- d3m.random: a seeded pseudo-random generator in pure Lua for parameter
-- initialisation and data shuffling, so that a seed gives the same model on
-- every device and platform. The generator is xoshiro256** (Blackman and
-- Vigna 2018) on Lua 5.4's 64-bit wrapping integers, seeded by splitmix64.
local random = {}

local Generator = {}
Generator.__index = Generator
Generator.__name = "d3m.random.generator"

local function rotl(x, k)
  return (x << k) | (x >> (64 - k))
end

-- splitmix64 step: returns the new state and the output.
local function splitmix64(x)
  x = x + 0x9e3779b97f4a7c15
  local z = x
  z = (z ~ (z >> 30)) * 0xbf58476d1ce4e5b9
  z = (z ~ (z >> 27)) * 0x94d049bb133111eb
  return x, z ~ (z >> 31)
end

--- Creates a generator from an integer seed (default 0).
function random.new(seed)
  seed = seed or 0
  if math.type(seed) ~= "integer" then
    error("d3m.random.new: seed must be an integer, got " .. tostring(seed), 2)
  end
  local self = setmetatable({}, Generator)
  local x = seed
  for i = 1, 4 do
    x, self[i] = splitmix64(x)
  end
  return self
end

--- Returns the next 64-bit output as a Lua integer (any bit pattern).
function Generator:next_integer()
  local s0, s1, s2, s3 = self[1], self[2], self[3], self[4]
  local result = rotl(s1 * 5, 7) * 9
  local t = s1 << 17
  s2 = s2 ~ s0
  s3 = s3 ~ s1
  s1 = s1 ~ s2
  s0 = s0 ~ s3
  s2 = s2 ~ t
  s3 = rotl(s3, 45)
  self[1], self[2], self[3], self[4] = s0, s1, s2, s3
  return result
end

--- Returns a float uniform in [lo, hi) (default [0, 1)) from the top 53 bits.
function Generator:uniform(lo, hi)
  local u = (self:next_integer() >> 11) * 0x1.0p-53
  if lo == nil then
    return u
  end
  return lo + (hi - lo) * u
end

--- Returns an integer uniform in [1, n] (n >= 1), without modulo bias.
function Generator:integer(n)
  if math.type(n) ~= "integer" or n < 1 then
    error("generator:integer: n must be a positive integer, got " .. tostring(n), 2)
  end
  -- Rejection sampling on the top 53 bits keeps every value equally likely.
  local range = 1 << 53
  local limit = range - range % n
  while true do
    local r = self:next_integer() >> 11
    if r < limit then
      return r % n + 1
    end
  end
end

--- Returns a standard normal deviate (Box-Muller, one of the pair).
function Generator:normal()
  local u1 = 1.0 - self:uniform()   -- in (0, 1], so the log is finite
  local u2 = self:uniform()
  return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
end

--- Returns a Lua table of n floats uniform in [lo, hi).
function Generator:uniform_table(n, lo, hi)
  local values = {}
  local width = hi - lo
  for i = 1, n do
    values[i] = lo + width * ((self:next_integer() >> 11) * 0x1.0p-53)
  end
  return values
end

--- Returns the state as four integers in a new table (for checkpoints).
function Generator:state()
  return {self[1], self[2], self[3], self[4]}
end

--- Restores a state returned by generator:state().
function Generator:set_state(state)
  for i = 1, 4 do
    if math.type(state[i]) ~= "integer" then
      error("generator:set_state: expected 4 integers, entry " .. i .. " is "
            .. tostring(state[i]), 2)
    end
    self[i] = state[i]
  end
  return self
end

random.Generator = Generator
return random
