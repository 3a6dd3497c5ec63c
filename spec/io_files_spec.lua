-- d3m.io HDF5 files: tensor, integer and attribute round trips, listing,
-- atomic whole-file writes, object finalizers, and the messages for bad
-- input. Values are copied, never computed, so round trips compare exactly.
local d3m = require "d3m"

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function make_folder()
  local pipe = io.popen("mktemp -d /tmp/d3m-io-spec-XXXXXX")
  local folder = pipe:read("l")
  pipe:close()
  return folder
end

local function hidden_files(folder)
  local pipe = io.popen("ls -A " .. shell_quote(folder))
  local names = {}
  for name in pipe:lines() do
    if name:sub(1, 1) == "." then
      names[#names + 1] = name
    end
  end
  pipe:close()
  return names
end

local function error_of(fn, ...)
  local ok, message = pcall(fn, ...)
  assert.is_false(ok)
  return tostring(message)
end

-- Values that float32 stores exactly.
local function exact_values(count)
  local values = {}
  for i = 1, count do
    values[i] = (i - 1) * 0.5 - 7
  end
  return values
end


describe("d3m.io files", function()
  local folder

  before_each(function()
    folder = make_folder()
  end)

  after_each(function()
    os.execute("rm -rf " .. shell_quote(folder))
  end)

  it("round-trips a tensor into nested groups", function()
    local path = folder .. "/weights.h5"
    local values = exact_values(24)
    d3m.io.write(path, "/params/layer1.0.conv1.weight", d3m.from_table(values, { 2, 3, 4 }))
    local back = d3m.io.read(path, "params/layer1.0.conv1.weight")
    assert.are.same({ 2, 3, 4 }, back:shape())
    assert.are.same(values, back:to_table())

    local listing = d3m.io.list(path)
    assert.are.equal(2, #listing)
    assert.are.equal("/params", listing[1].name)
    assert.are.equal("group", listing[1].kind)
    assert.are.equal("/params/layer1.0.conv1.weight", listing[2].name)
    assert.are.equal("float32", listing[2].dtype)
    assert.are.same({ 2, 3, 4 }, listing[2].shape)
  end)

  it("replaces a dataset written twice", function()
    local path = folder .. "/twice.h5"
    d3m.io.write(path, "x", d3m.from_table({ 1, 2, 3 }, { 3 }))
    d3m.io.write(path, "x", d3m.from_table({ 4, 5 }, { 2 }))
    assert.are.same({ 4, 5 }, d3m.io.read(path, "x"):to_table())
  end)

  it("round-trips int64 datasets from integer tables", function()
    local path = folder .. "/seeds.h5"
    local seeds = { 1, -2, (1 << 53) + 1, math.maxinteger, math.mininteger }
    d3m.io.write(path, "/seed", seeds)
    local back, shape = d3m.io.read_integers(path, "seed")
    assert.are.same(seeds, back)
    assert.are.same({ 5 }, shape)
    for i = 1, #back do
      assert.are.equal("integer", math.type(back[i]))
    end
    assert.are.equal("int64", d3m.io.info(path, "seed").dtype)
  end)

  it("writes integer tables through a file object without attributes", function()
    local path = folder .. "/seeds_object.h5"
    do
      local file <close> = d3m.io.open(path, "w")
      file:write("seed", { 7, 8, 9 })
    end
    assert.are.same({ 7, 8, 9 }, (d3m.io.read_integers(path, "seed")))
  end)

  it("round-trips attributes on file, group and dataset", function()
    local path = folder .. "/attrs.h5"
    d3m.io.write(path, "/stats/power", d3m.from_table({ 1, 2 }, { 2 }),
      { units = "(Mpc/h)^3", k = { 0.11, 0.5 } })
    d3m.io.set_attributes(path, "/", {
      box_size = 128.0, n = 32, a_final = 1.0, software_version = "d3m 0.1.0",
      bins = { 1, 2, 3 },
    })
    d3m.io.set_attributes(path, "/stats", { estimator = "natural" })

    local root = d3m.io.attributes(path)
    assert.are.equal(128.0, root.box_size)
    assert.are.equal("float", math.type(root.box_size))
    assert.are.equal(32, root.n)
    assert.are.equal("integer", math.type(root.n))
    assert.are.equal("d3m 0.1.0", root.software_version)
    assert.are.same({ 1, 2, 3 }, root.bins)

    local dataset = d3m.io.attributes(path, "/stats/power")
    assert.are.equal("(Mpc/h)^3", dataset.units)
    assert.are.same({ 0.11, 0.5 }, dataset.k)
    assert.are.equal("natural", d3m.io.attributes(path, "stats").estimator)

    d3m.io.set_attributes(path, "/", { n = 64 })
    assert.are.equal(64, d3m.io.attributes(path, "/").n)
  end)

  it("rejects attribute values it cannot store", function()
    local path = folder .. "/bad-attrs.h5"
    d3m.io.write(path, "x", d3m.from_table({ 1 }, { 1 }))
    assert.matches("attribute 'flag' is boolean; numbers, strings and number arrays",
      error_of(d3m.io.set_attributes, path, "/", { flag = true }), 1, true)
    assert.matches("attribute 'mixed': element 2 is string",
      error_of(d3m.io.set_attributes, path, "/", { mixed = { 1, "a" } }), 1, true)
    assert.matches("object '/nowhere' not found in",
      error_of(d3m.io.set_attributes, path, "/nowhere", { a = 1 }), 1, true)
  end)

  it("names a missing file", function()
    local path = folder .. "/absent.h5"
    assert.matches("HDF5 file '" .. path .. "' not found", error_of(d3m.io.read, path, "za"),
      1, true)
  end)

  it("recognises a file that is not HDF5", function()
    local path = folder .. "/notes.h5"
    local file = io.open(path, "w")
    file:write("plain text\n")
    file:close()
    assert.matches("'" .. path .. "' is not an HDF5 file", error_of(d3m.io.read, path, "za"),
      1, true)
  end)

  it("lists what exists when a dataset is missing", function()
    local path = folder .. "/some.h5"
    d3m.io.write(path, "za", d3m.zeros { 2, 3 })
    d3m.io.write(path, "seed", { 7 })
    local message = error_of(d3m.io.read, path, "fastpm")
    assert.matches("dataset '/fastpm' not found in '" .. path .. "'", message, 1, true)
    assert.matches("the file contains datasets /seed [1] int64, /za [2, 3] float32", message,
      1, true)
  end)

  it("rejects a dataset of the wrong dtype", function()
    local path = folder .. "/typed.h5"
    d3m.io.write(path, "seed", { 1, 2 })
    d3m.io.write(path, "za", d3m.zeros { 2 })
    assert.matches("dataset '/seed' in '" .. path .. "' has dtype int64; read it with "
      .. "read_integers", error_of(d3m.io.read, path, "seed"), 1, true)
    assert.matches("dataset '/za' in '" .. path .. "' has dtype float32, expected integer",
      error_of(d3m.io.read_integers, path, "za"), 1, true)
  end)

  it("detects a truncated file", function()
    local path, cut = folder .. "/whole.h5", folder .. "/cut.h5"
    d3m.io.write(path, "big", d3m.zeros { 4096 })
    os.execute(string.format("head -c 8000 %s > %s", shell_quote(path), shell_quote(cut)))
    local message = error_of(d3m.io.read, cut, "big")
    assert.matches("HDF5 file '" .. cut .. "' is truncated: it has 8000 bytes", message, 1, true)
  end)

  it("names a folder that cannot hold the file", function()
    local path = folder .. "/missing/out.h5"
    local message = error_of(d3m.io.write, path, "x", d3m.zeros { 1 })
    assert.matches("cannot create '" .. path .. "': folder '" .. folder .. "/missing' is not "
      .. "accessible (No such file or directory)", message, 1, true)
    message = error_of(d3m.io.write_file, path, function() end)
    assert.matches("folder '" .. folder .. "/missing' is not accessible", message, 1, true)
  end)

  it("raises from the caller's line, not from inside d3m.io", function()
    local line
    local ok, message = pcall(function()
      line = debug.getinfo(1, "l").currentline + 1
      local tensor = d3m.io.read(folder .. "/absent.h5", "x")
      return tensor
    end)
    assert.is_false(ok)
    assert.matches("^[^\n]*io_files_spec%.lua:" .. line .. ": HDF5 file", message)
  end)

  it("writes a whole file atomically", function()
    local path = folder .. "/checkpoint.h5"
    d3m.io.write_file(path, function(file)
      file:write("/params/w", d3m.from_table({ 1, 2 }, { 2 }))
      file:set_attributes("/", { epoch = 1 })
    end)
    assert.are.equal(1, d3m.io.attributes(path).epoch)

    -- A fill that fails leaves the committed file as it was.
    local message = error_of(d3m.io.write_file, path, function(file)
      file:write("/params/w", d3m.from_table({ 3, 4 }, { 2 }))
      error("simulated failure while writing")
    end)
    assert.matches("simulated failure while writing", message, 1, true)
    assert.are.same({ 1, 2 }, d3m.io.read(path, "/params/w"):to_table())
    assert.are.same({}, hidden_files(folder))

    d3m.io.write_file(path, function(file)
      file:write("/params/w", d3m.from_table({ 5, 6 }, { 2 }))
    end)
    assert.are.same({ 5, 6 }, d3m.io.read(path, "/params/w"):to_table())
    assert.are.same({}, hidden_files(folder))
  end)

  it("discards an uncommitted atomic file when collected", function()
    local path = folder .. "/dropped.h5"
    local file = d3m.io.create_atomic(path)
    file:write("w", d3m.zeros { 2 })
    assert.are.equal(1, #hidden_files(folder))
    file = nil   -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.are.same({}, hidden_files(folder))
    assert.is_nil(io.open(path, "r"))
  end)

  it("closes files through close, <close> and the collector", function()
    local path = folder .. "/locked.h5"
    local dump = "h5dump -H " .. shell_quote(path) .. " > /dev/null 2>&1"
    -- HDF5 holds a lock on a file open for writing, so h5dump fails while
    -- one of our objects keeps it open.
    local file = d3m.io.open(path, "a")
    file:write("x", d3m.zeros { 1 })
    file:flush()
    assert.is_falsy(os.execute(dump))
    file = nil   -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_true(os.execute(dump))

    do
      local scoped <close> = d3m.io.open(path, "r+")
      assert.is_falsy(os.execute(dump))
    end
    assert.is_true(os.execute(dump))

    local closed = d3m.io.open(path, "r")
    closed:close()
    closed:close()   -- closing twice is harmless
    assert.matches("the HDF5 file object is closed", error_of(closed.read, closed, "x"), 1, true)
  end)

  it("keeps HDF5's error stack off stderr", function()
    -- H5Fopen fails on a truncated file, which HDF5 would report on stderr.
    local path, whole = folder .. "/cut.h5", folder .. "/whole.h5"
    d3m.io.write(whole, "big", d3m.zeros { 4096 })
    os.execute(string.format("head -c 8000 %s > %s", shell_quote(whole), shell_quote(path)))
    local script = folder .. "/failures.lua"
    local file = io.open(script, "w")
    file:write(string.format([[
local d3m = require "d3m"
pcall(d3m.io.read, %q, "x")
pcall(d3m.io.read, %q, "x")
d3m.io.write(%q, "x", d3m.zeros { 1 })
pcall(d3m.io.read, %q, "missing")
pcall(d3m.io.read_integers, %q, "x")
]], path, folder .. "/absent.h5", folder .. "/ok.h5", folder .. "/ok.h5", folder .. "/ok.h5"))
    file:close()
    local pipe = io.popen(string.format("%s %s 2>&1 >/dev/null", shell_quote(os.getenv("D3M_BIN")
      or "lua5.4"), shell_quote(script)))
    local stderr = pipe:read("a")
    assert.is_true(pipe:close())
    assert.are.equal("", stderr)
  end)

  it("rejects an invalid open mode", function()
    assert.matches("mode 'x' is invalid", error_of(d3m.io.open, folder .. "/f.h5", "x"), 1, true)
  end)
end)
