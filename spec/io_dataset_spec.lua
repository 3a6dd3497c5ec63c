-- d3m.io.dataset: the training-set file (/za, /lpt2, /fastpm [N, 3, n, n, n],
-- /seed [N]) as h5dump sees it, appends and partial reads, reopening with
-- the same or other settings, and a writer process killed with SIGKILL
-- while appending. Sample values are copied, so comparisons are exact.
local d3m = require "d3m"

local N = 8
local FLOATS = 3 * N * N * N

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function make_folder()
  local pipe = io.popen("mktemp -d /tmp/d3m-io-spec-XXXXXX")
  local folder = pipe:read("l")
  pipe:close()
  return folder
end

local function error_of(fn, ...)
  local ok, message = pcall(fn, ...)
  assert.is_false(ok)
  return tostring(message)
end

-- Element e (1-based) of field f (0 za, 1 lpt2, 2 fastpm) of sample s
-- (1-based): distinct for every triple and exact in float32.
local function expected_value(s, f, e)
  return s * 1000 + f * 100 + (e - 1) * 0.25
end

local function field_values(s, f)
  local values = {}
  for e = 1, FLOATS do
    values[e] = expected_value(s, f, e)
  end
  return values
end

local function sample(s)
  return {
    za = d3m.from_table(field_values(s, 0), { 3, N, N, N }),
    lpt2 = d3m.from_table(field_values(s, 1), { 3, N, N, N }),
    fastpm = d3m.from_table(field_values(s, 2), { 3, N, N, N }),
    seed = 100 + s,
  }
end

-- The child writer: appends samples count+1, count+2, ... forever and
-- prints the count after each append (the sample values are those above).
local CHILD_SCRIPT = [[
local d3m = require "d3m"
local path, n = arg[1], tonumber(arg[2])
local floats = 3 * n * n * n
local writer = d3m.io.dataset(path, { n = n, box = 64, attrs = { a_final = 1.0 } })
io.stdout:setvbuf("line")
print("start " .. writer:count())
while true do
  local s = writer:count() + 1
  local fields = {}
  for f = 0, 2 do
    local values = {}
    for e = 1, floats do
      values[e] = s * 1000 + f * 100 + (e - 1) * 0.25
    end
    fields[f] = d3m.from_table(values, { 3, n, n, n })
  end
  writer:append { za = fields[0], lpt2 = fields[1], fastpm = fields[2], seed = 100 + s }
  print(writer:count())
end
]]

-- Run the child writer on path until it reports at least k samples, then
-- kill it with SIGKILL. Returns the last count the child printed before it
-- died, which can exceed k when the child runs ahead of this reader.
local function run_and_kill(folder, path, k)
  local script = folder .. "/child.lua"
  local file = assert(io.open(script, "w"))
  file:write(CHILD_SCRIPT)
  file:close()
  local interpreter = os.getenv("D3M_BIN") or "lua5.4"
  local command = string.format("exec sh -c 'echo $$; exec \"$0\" \"$1\" \"$2\" %d 2>&1' %s %s %s",
    N, shell_quote(interpreter), shell_quote(script), shell_quote(path))
  local pipe = assert(io.popen(command, "r"))
  local pid = pipe:read("l")
  local start = pipe:read("l")
  assert.matches("^start %d+$", start or "(no output)")
  local reported = 0
  while reported < k do
    local line = pipe:read("l")
    reported = tonumber(line) or error("child writer failed: " .. tostring(line))
  end
  os.execute("kill -KILL " .. pid)
  for line in pipe:lines() do
    reported = tonumber(line) or error("child writer failed: " .. line)
  end
  local _, how, code = pipe:close()
  assert.are.equal("signal", how)
  assert.are.equal(9, code)
  return reported
end

local function check_samples(writer, first, last)
  for s = first, last do
    assert.are.same(field_values(s, 0), writer:read("za", s):to_table())
    assert.are.same(field_values(s, 2), writer:read("fastpm", s):to_table())
    assert.are.equal(100 + s, writer:read("seed", s))
  end
end


describe("d3m.io.dataset", function()
  local folder

  before_each(function()
    folder = make_folder()
  end)

  after_each(function()
    os.execute("rm -rf " .. shell_quote(folder))
  end)

  it("writes the layout h5dump expects", function()
    local path = folder .. "/set.h5"
    local writer = d3m.io.dataset(path, {
      n = N, box = 128, compression = 4,
      attrs = { a_final = 1.0, Omega_m = 0.3089, Omega_b = 0.0486, h = 0.6774, n_s = 0.9667,
                A_s = 2.142e-9, sigma8 = 0.8159, fastpm_steps = 10, fastpm_boost = 2 },
    })
    writer:append(sample(1))
    writer:append(sample(2))
    writer:close()

    local pipe = io.popen("h5dump -H -p " .. shell_quote(path))
    local dump = pipe:read("a")
    assert.is_true(pipe:close())
    for _, name in ipairs { "za", "lpt2", "fastpm" } do
      local block = dump:match('DATASET "' .. name .. '" (%b{})')
      assert.is_not_nil(block, name)
      assert.matches("DATATYPE  H5T_IEEE_F32LE", block, 1, true)
      assert.matches(string.format("DATASPACE  SIMPLE { ( 2, 3, %d, %d, %d ) / "
        .. "( H5S_UNLIMITED, 3, %d, %d, %d ) }", N, N, N, N, N, N), block, 1, true)
      assert.matches(string.format("CHUNKED ( 1, 3, %d, %d, %d )", N, N, N), block, 1, true)
      assert.matches("COMPRESSION DEFLATE { LEVEL 4 }", block, 1, true)
    end
    local seed = dump:match('DATASET "seed" (%b{})')
    assert.matches("DATATYPE  H5T_STD_I64LE", seed, 1, true)
    assert.matches("DATASPACE  SIMPLE { ( 2 ) / ( H5S_UNLIMITED ) }", seed, 1, true)
    for _, name in ipairs { "box_size", "n", "software_version", "a_final", "Omega_m",
                            "Omega_b", "h", "n_s", "A_s", "sigma8", "fastpm_steps",
                            "fastpm_boost" } do
      assert.matches('ATTRIBUTE "' .. name .. '"', dump, 1, true)
    end

    local attrs = d3m.io.attributes(path)
    assert.are.equal(128.0, attrs.box_size)
    assert.are.equal(N, attrs.n)
    assert.are.equal("d3m " .. d3m.version, attrs.software_version)
    assert.are.equal(2.142e-9, attrs.A_s)
  end)

  it("appends and reads one sample or a range", function()
    local path = folder .. "/set.h5"
    local writer <close> = d3m.io.dataset(path, { n = N, box = 64 })
    assert.are.equal(0, writer:count())
    for s = 1, 3 do
      assert.are.equal(s, writer:append(sample(s)))
    end
    assert.are.equal(N, writer:n())
    check_samples(writer, 1, 3)

    local batch = writer:read("lpt2", 2, 2)
    assert.are.same({ 2, 3, N, N, N }, batch:shape())
    local expected = field_values(2, 1)
    for _, v in ipairs(field_values(3, 1)) do
      expected[#expected + 1] = v
    end
    assert.are.same(expected, batch:to_table())
    assert.are.same({ 102, 103 }, writer:read("seed", 2, 2))

    local out = d3m.zeros { 1, 3, N, N, N }
    assert.are.equal(out, writer:read("za", 3, 1, out))
    assert.are.same(field_values(3, 0), out:to_table())
  end)

  it("resumes after the samples of an earlier run", function()
    local path = folder .. "/set.h5"
    local writer = d3m.io.dataset(path, { n = N, box = 64, attrs = { Omega_m = 0.3089 } })
    writer:append(sample(1))
    writer:close()
    writer = d3m.io.dataset(path, { n = N, box = 64, attrs = { Omega_m = 0.3089 } })
    assert.are.equal(1, writer:count())
    writer:append(sample(2))
    check_samples(writer, 1, 2)
    writer:close()

    local reader <close> = d3m.io.dataset(path, { mode = "r" })
    assert.are.equal(2, reader:count())
    assert.are.equal(N, reader:n())
    assert.matches("is open read-only", error_of(reader.append, reader, sample(3)), 1, true)
  end)

  it("refuses to mix settings in one file", function()
    local path = folder .. "/set.h5"
    d3m.io.dataset(path, { n = N, box = 64, attrs = { Omega_m = 0.3089 } }):close()
    assert.matches("has attribute Omega_m = 0.3089, but 0.5 was given",
      error_of(d3m.io.dataset, path, { n = N, attrs = { Omega_m = 0.5 } }), 1, true)
    assert.matches("but n = 16 was expected",
      error_of(d3m.io.dataset, path, { n = 16 }), 1, true)
    assert.matches("has box_size 64 Mpc/h, but 128 was requested",
      error_of(d3m.io.dataset, path, { box = 128 }), 1, true)
    assert.matches("attribute 'n' is set by d3m.io.dataset itself",
      error_of(d3m.io.dataset, path, { attrs = { n = N } }), 1, true)
    assert.matches("unknown option 'box_size'; the options are n, box, attrs",
      error_of(d3m.io.dataset, path, { n = N, box_size = 64 }), 1, true)
    local absent = folder .. "/absent.h5"
    assert.matches("training set '" .. absent .. "' does not exist, and creating it needs the "
      .. "particles per side n (got 0) and a positive box size in Mpc/h (got 0)",
      error_of(d3m.io.dataset, absent), 1, true)
    assert.is_nil(io.open(absent, "r"))
  end)

  it("rejects bad samples and reads", function()
    local path = folder .. "/set.h5"
    local writer <close> = d3m.io.dataset(path, { n = N, box = 64 })
    local bad = sample(1)
    bad.fastpm = nil
    assert.matches("field 'fastpm' is missing", error_of(writer.append, writer, bad), 1, true)
    bad = sample(1)
    bad.za = d3m.zeros { 3, N, N, N - 1 }
    assert.matches(string.format("field za of the sample appended to '%s': expected shape "
      .. "[3, %d, %d, %d], got [3, %d, %d, %d]", path, N, N, N, N, N, N - 1),
      error_of(writer.append, writer, bad), 1, true)
    bad = sample(1)
    bad.lpt2:set(0 / 0, 2, 1, 1, 1)
    assert.matches("field lpt2 holds NaN at component 1 at grid node (0, 0, 0)",
      error_of(writer.append, writer, bad), 1, true)
    bad = sample(1)
    bad.seed = 1.5
    assert.matches("field 'seed' must be an integer", error_of(writer.append, writer, bad), 1,
      true)
    assert.are.equal(0, writer:count())

    writer:append(sample(1))
    assert.matches("samples 1..1 (counting from 0) of /za requested, but '" .. path
      .. "' holds 1 complete samples", error_of(writer.read, writer, "za", 2), 1, true)
    assert.matches("sample index counts from 1", error_of(writer.read, writer, "za", 0), 1, true)
    assert.matches("unknown training-set field 'density'",
      error_of(writer.read, writer, "density", 1), 1, true)
    assert.matches(string.format("output tensor has 2 elements, but 1 sample(s) of /za need %d "
      .. "([1, 3, %d, %d, %d])", FLOATS, N, N, N),
      error_of(writer.read, writer, "za", 1, 1, d3m.zeros { 2 }), 1, true)
  end)

  it("names the lock held by another writer", function()
    local path = folder .. "/set.h5"
    local writer <close> = d3m.io.dataset(path, { n = N, box = 64 })
    local script = folder .. "/reader.lua"
    local file = assert(io.open(script, "w"))
    file:write([[
local d3m = require "d3m"
local ok, message = pcall(d3m.io.dataset, arg[1], { mode = "r" })
io.write(tostring(message))
]])
    file:close()
    local pipe = io.popen(string.format("%s %s %s 2>&1", shell_quote(os.getenv("D3M_BIN")
      or "lua5.4"), shell_quote(script), shell_quote(path)))
    local output = pipe:read("a")
    pipe:close()
    assert.matches("HDF5 file '" .. path .. "' is locked: another process has it open for "
      .. "writing", output, 1, true)
  end)

  it("refuses a file without the layout and lists its contents", function()
    local path = folder .. "/other.h5"
    d3m.io.write(path, "za", d3m.zeros { 2, 3 })
    local message = error_of(d3m.io.dataset, path, { n = N, box = 64 })
    assert.matches("'" .. path .. "' is not a d3m training set: dataset(s) /lpt2, /fastpm, "
      .. "/seed not found; the file contains datasets /za [2, 3] float32", message, 1, true)
  end)

  it("closes through close, <close> and the collector", function()
    local path = folder .. "/set.h5"
    local dump = "h5dump -H " .. shell_quote(path) .. " > /dev/null 2>&1"
    local writer = d3m.io.dataset(path, { n = N, box = 64 })
    assert.is_falsy(os.execute(dump))   -- HDF5 locks a file open for writing
    writer = nil   -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_true(os.execute(dump))
    do
      local scoped <close> = d3m.io.dataset(path, { n = N })
      assert.is_falsy(os.execute(dump))
    end
    assert.is_true(os.execute(dump))
    local closed = d3m.io.dataset(path)
    closed:close()
    assert.matches("the training-set object is closed", error_of(closed.count, closed), 1, true)
  end)

  it("survives a writer killed while appending", function()
    local path = folder .. "/killed.h5"
    local reported = run_and_kill(folder, path, 3)
    assert.is_true(os.execute("h5dump -H " .. shell_quote(path) .. " > /dev/null 2>&1"))

    -- The kill may land inside an append, or after an append's flush but
    -- before the child printed the new count.
    local reader = d3m.io.dataset(path, { mode = "r" })
    local count = reader:count()
    assert.is_true(count >= reported)
    assert.is_true(count <= reported + 1)
    check_samples(reader, 1, count)
    reader:close()

    -- A second run resumes at the first missing sample.
    local second = run_and_kill(folder, path, count + 2)
    assert.is_true(second >= count + 2)
    local writer = d3m.io.dataset(path, { n = N, box = 64, attrs = { a_final = 1.0 } })
    local total = writer:count()
    assert.is_true(total >= second)
    assert.is_true(total <= second + 1)
    check_samples(writer, 1, total)
    assert.are.equal(total + 1, writer:append(sample(total + 1)))
    check_samples(writer, total + 1, total + 1)
    writer:close()

    -- Every dataset contains exactly the complete samples, because a
    -- half-written one is cut back on reopen.
    for _, entry in ipairs(d3m.io.list(path)) do
      assert.are.equal(total + 1, entry.shape[1], entry.name)
    end
  end)
end)
