-- Devices and the d3m interpreter: listing, selection errors and the
-- lua5.4-compatible command line.
local d3m = require "d3m"

local bin = os.getenv("D3M_BIN")

-- Run a shell command, returning its output (stdout and stderr) and exit status.
local function run(command)
  local pipe = io.popen(command .. " 2>&1")
  local output = pipe:read("a")
  local _, _, status = pipe:close()
  return output, status
end

describe("d3m devices", function()
  it("lists at least one device with its properties", function()
    local devices = d3m.devices()
    assert.is_true(#devices >= 1)
    local dev = devices[1]
    assert.are.equal("0:0", dev.id)
    assert.is_string(dev.name)
    assert.is_true(dev.global_memory > 0)
    assert.is_true(dev.compute_units >= 1)
    assert.is_boolean(dev.fp64)
  end)

  it("selects by index and by name substring", function()
    local first = d3m.devices()[1]
    assert.are.equal(first.name, d3m.use_device("0:0").name)
    assert.are.equal(first.name, d3m.use_device(first.name:sub(1, 5):upper()).name)
  end)

  it("lists what exists when a device is unknown", function()
    local ok, err = pcall(d3m.use_device, "no-such-gpu")
    assert.is_false(ok)
    assert.matches("unknown device 'no-such-gpu'", err, 1, true)
    assert.matches("0:0 ", err, 1, true)
  end)
end)

describe("d3m interpreter", function()
  if not bin then
    pending("D3M_BIN is not set; run through ctest")
    return
  end

  it("runs -e with d3m preloaded", function()
    local out, status = run(bin .. " -e 'print(d3m.zeros{2, 2}:numel())'")
    assert.are.equal(0, status)
    assert.are.equal("4\n", out)
  end)

  it("passes script arguments in arg", function()
    local script = os.tmpname()
    local f = io.open(script, "w")
    f:write("print(arg[0] ~= nil, ...)\n")
    f:close()
    local out, status = run(bin .. " " .. script .. " a b")
    os.remove(script)
    assert.are.equal(0, status)
    assert.are.equal("true\ta\tb\n", out)
  end)

  it("prints the device table", function()
    local out, status = run(bin .. " devices")
    assert.are.equal(0, status)
    assert.matches("0:0", out, 1, true)
    assert.matches(d3m.devices()[1].name, out, 1, true)
  end)

  it("fails with the device list for an unknown D3M_DEVICE", function()
    local out, status = run("D3M_DEVICE=no-such-gpu " .. bin .. " -e 'd3m.zeros{1}'")
    assert.are_not.equal(0, status)
    assert.matches("unknown device 'no-such-gpu'", out, 1, true)
  end)

  it("runs the self-check", function()
    local out, status = run(bin .. " selfcheck 16")
    assert.are.equal(0, status)
    assert.matches("selfcheck passed", out, 1, true)
  end)

  it("rejects an unknown D3M_FFT by name", function()
    local out, status = run("D3M_FFT=bogus " .. bin .. " selfcheck 16")
    assert.are_not.equal(0, status)
    assert.matches("D3M_FFT = 'bogus' is not an FFT backend; set it to fftw", out, 1, true)
  end)

  it("lists the commands for an unknown one", function()
    local out, status = run(bin .. " frobnicate")
    assert.are_not.equal(0, status)
    assert.matches("'frobnicate' is neither a command nor a Lua script", out, 1, true)
    assert.matches("generate, train, predict, evaluate", out, 1, true)
    -- A path still reads as a script, and - as standard input.
    out, status = run(bin .. " ./no-such-script.lua")
    assert.are_not.equal(0, status)
    assert.matches("cannot open ./no-such-script.lua", out, 1, true)
    out, status = run("echo 'print(6 * 7)' | " .. bin .. " -")
    assert.are.equal(0, status)
    assert.are.equal("42\n", out)
  end)

  it("has help for every command", function()
    local out, status = run(bin .. " --help")
    assert.are.equal(0, status)
    assert.matches("devices", out, 1, true)
    out, status = run(bin .. " devices --help")
    assert.are.equal(0, status)
    assert.matches("usage: d3m devices", out, 1, true)
  end)
end)
