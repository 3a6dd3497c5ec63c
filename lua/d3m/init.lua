-- d3m: the Lua face of the d3m runtime. The C functions come from
-- d3m.core. Submodules written in Lua (lua/d3m/NAME.lua or NAME/init.lua)
-- load on first use, so `d3m.nn` costs nothing until a script uses it.
local core = require "d3m.core"

local d3m = {}

local function has_lua_module(name)
  local modname = "d3m." .. name
  return package.loaded[modname] ~= nil or package.searchpath(modname, package.path) ~= nil
end

-- C functions are copied. A C subtable (d3m.fft, ...) is copied too, unless
-- a Lua submodule of the same name wraps it: then the Lua one loads.
for name, value in pairs(core) do
  if type(value) ~= "table" or not has_lua_module(name) then
    d3m[name] = value
  end
end

setmetatable(d3m, {
  __index = function(module, name)
    if type(name) ~= "string" or not has_lua_module(name) then
      return nil
    end
    local submodule = require("d3m." .. name)
    rawset(module, name, submodule)
    return submodule
  end,
})

return d3m
