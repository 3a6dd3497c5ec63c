-- Command-line parsing for the scripts in scripts/, built on lua-argparse.
-- Every option's help states its meaning, unit and default; cli.parser
-- adds the options all commands share.
local argparse = require "argparse"

local cli = {}

--- A parser for `d3m NAME`, with --device and --verbose.
function cli.parser(name, description, epilog)
  local parser = argparse("d3m " .. name, description, epilog)
  -- Wrap the help at 80 columns, the width of a default terminal.
  parser:help_max_width(80)
  parser:option("--device", "OpenCL device: platform:device index or part of a name "
    .. "(default: $D3M_DEVICE, else the first GPU, else the CPU)")
  parser:flag("-v --verbose", "Print more detail while running.")
  return parser
end

-- argparse reads "-3" as an option name, so "--count -3" would fail with
-- "unknown option '-3'". No d3m option is named like a number, so join a
-- negative number to the long option before it ("--count=-3"), which lets
-- the option's own check reject the value with a clear message.
local function join_negative_numbers(args)
  local joined = {}
  for _, text in ipairs(args) do
    local previous = joined[#joined]
    local is_negative_number = text:match("^%-%.?%d") ~= nil
    if is_negative_number and previous and previous:match("^%-%-[^=]+$") then
      joined[#joined] = previous .. "=" .. text
    else
      joined[#joined + 1] = text
    end
  end
  return joined
end


--- Parse arg (the script's arguments) and select the device.
function cli.parse(parser, args)
  local options = parser:parse(join_negative_numbers(args or _G.arg or {}))
  if options.device then
    local d3m = require "d3m"
    d3m.use_device(options.device)
  end
  return options
end

--- The text of an error for the user of a command: the "file.lua:12: "
-- positions Lua puts in front are dropped (and repeated "name: " prefixes
-- such as "predict: "), unless $D3M_DEBUG is set.
function cli.message(err, command)
  local text = tostring(err)
  local debug = os.getenv("D3M_DEBUG")
  if debug and debug ~= "" and debug ~= "0" then
    return text
  end
  repeat
    local before = text
    text = text:gsub("^[^%s:]+%.lua:%d+: ", "")
    if command then
      text = text:gsub("^" .. command .. ": ", "")
    end
  until text == before
  return text
end

--- A converter for argparse that accepts positive numbers only.
function cli.positive(name)
  return function(text)
    local value = tonumber(text)
    if not value or value <= 0 then
      return nil, string.format("%s must be a positive number, got '%s'", name, text)
    end
    return value
  end
end

--- A converter for numbers >= minimum.
function cli.number_at_least(name, minimum)
  return function(text)
    local value = tonumber(text)
    if not value or value < minimum then
      return nil, string.format("%s must be a number >= %s, got '%s'", name, tostring(minimum),
        text)
    end
    return value
  end
end

--- A converter for positive integers.
function cli.positive_integer(name)
  return function(text)
    local value = math.tointeger(tonumber(text))
    if not value or value <= 0 then
      return nil, string.format("%s must be a positive integer, got '%s'", name, text)
    end
    return value
  end
end

return cli
