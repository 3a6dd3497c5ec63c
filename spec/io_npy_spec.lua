-- d3m.io .npy reading and writing, and the import of ML-Recon's
-- per-simulation files. Test files are written byte by byte with
-- string.pack, following NumPy's format description, so the reader is not
-- only checked against our own writer. Values compare exactly.
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

local function error_of(fn, ...)
  local ok, message = pcall(fn, ...)
  assert.is_false(ok)
  return tostring(message)
end

-- Write a .npy file: magic, version, little-endian header length, the dict
-- padded with spaces and a newline to a multiple of 64 bytes, the data.
local function write_npy(path, version, dict, format, values)
  local prefix = version == 1 and 10 or 12
  local total = (prefix + #dict + 1 + 63) // 64 * 64
  local length = string.pack(version == 1 and "<I2" or "<I4", total - prefix)
  local header = "\147NUMPY" .. string.char(version, 0) .. length
    .. dict .. string.rep(" ", total - prefix - #dict - 1) .. "\n"
  local parts = {}
  for i, v in ipairs(values) do
    parts[i] = string.pack(format, v)
  end
  local file = assert(io.open(path, "wb"))
  file:write(header, table.concat(parts))
  file:close()
end

-- ML-Recon sample value of channel c at grid node (i, j, k), 0-based.
local function mlrecon_value(i, j, k, c)
  return 1000 * c + 100 * i + 10 * j + k
end

-- An ML-Recon file (n, n, n, 10) channels last, float32, C order.
local function write_mlrecon(path, n, offset)
  local values = {}
  for i = 0, n - 1 do
    for j = 0, n - 1 do
      for k = 0, n - 1 do
        for c = 0, 9 do
          values[#values + 1] = mlrecon_value(i, j, k, c) + offset
        end
      end
    end
  end
  write_npy(path, 1, string.format(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d, 10), }", n, n, n),
    "<f", values)
end


describe("d3m.io npy", function()
  local folder

  before_each(function()
    folder = make_folder()
  end)

  after_each(function()
    os.execute("rm -rf " .. shell_quote(folder))
  end)

  it("reads a C-order float32 file into a tensor", function()
    local path = folder .. "/c.npy"
    write_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", "<f",
      { 0, 1, 2, 3, 4.5, -5 })
    local t, info = d3m.io.npy_read(path)
    assert.are.same({ 2, 3 }, t:shape())
    assert.are.same({ 0, 1, 2, 3, 4.5, -5 }, t:to_table())
    assert.are.same({ shape = { 2, 3 }, dtype = "float32", fortran_order = false, version = 1 },
      info)
  end)

  it("reorders a Fortran-order float64 file", function()
    -- a[i][j] = 10 i + j stored column-major.
    local path = folder .. "/f.npy"
    write_npy(path, 2, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", "<d",
      { 0, 10, 1, 11, 2, 12 })
    local t, info = d3m.io.npy_read(path)
    assert.are.same({ 0, 1, 2, 10, 11, 12 }, t:to_table())
    assert.are.equal("float64", info.dtype)
    assert.are.equal(2, info.version)
    assert.is_true(info.fortran_order)
  end)

  it("returns int64 data as integers when asked", function()
    local path = folder .. "/seeds.npy"
    local seeds = { 3, -4, (1 << 53) + 1 }
    write_npy(path, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", "<i8",
      seeds)
    local values, info = d3m.io.npy_read(path, { table = true })
    assert.are.same(seeds, values)
    assert.are.equal("integer", math.type(values[3]))
    assert.are.same({ 3 }, info.shape)

    local t = d3m.io.npy_read(path)   -- a tensor converts to float32
    assert.are.same({ 3, -4, 2 ^ 53 }, t:to_table())
  end)

  it("writes tensors and tables that read back", function()
    local path = folder .. "/w.npy"
    local values = { 1, 2, 3, 4, 5, 6 }
    d3m.io.npy_write(path, d3m.from_table(values, { 3, 2 }))
    local t, info = d3m.io.npy_read(path)
    assert.are.same({ 3, 2 }, t:shape())
    assert.are.same(values, t:to_table())
    assert.are.equal("float32", info.dtype)

    d3m.io.npy_write(path, d3m.from_table(values, { 3, 2 }), { fortran_order = true,
      version = 2, dtype = "float64" })
    t, info = d3m.io.npy_read(path)
    assert.are.same(values, t:to_table())
    assert.are.same({ shape = { 3, 2 }, dtype = "float64", fortran_order = true, version = 2 },
      info)

    d3m.io.npy_write(path, { 7, 8, 9, 10 }, { shape = { 2, 2 } })
    local ints
    ints, info = d3m.io.npy_read(path, { table = true })
    assert.are.same({ 7, 8, 9, 10 }, ints)
    assert.are.equal("int64", info.dtype)
  end)

  it("names the problem with a bad file", function()
    local path = folder .. "/big-endian.npy"
    write_npy(path, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", ">f", { 1 })
    assert.matches(".npy file '" .. path .. "' has big-endian dtype '>f4'",
      error_of(d3m.io.npy_read, path), 1, true)

    path = folder .. "/short.npy"
    write_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", "<f",
      { 1, 2, 3 })
    assert.matches(".npy file '" .. path .. "' is truncated: its header declares 16 data bytes "
      .. "but only 12 follow", error_of(d3m.io.npy_read, path), 1, true)

    path = folder .. "/text.npy"
    local file = io.open(path, "w")
    file:write("1 2 3\n")
    file:close()
    assert.matches("'" .. path .. "' is not a .npy file", error_of(d3m.io.npy_read, path), 1,
      true)

    path = folder .. "/rank6.npy"
    write_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1), }",
      "<f", { 1 })
    assert.matches(".npy file '" .. path .. "' has 6 dimensions; tensors have 1 to 5 (read it "
      .. "as a table with {table = true})", error_of(d3m.io.npy_read, path), 1, true)
    assert.are.same({ 1 }, (d3m.io.npy_read(path, { table = true })))

    assert.matches("absent.npy' not found", error_of(d3m.io.npy_read, folder .. "/absent.npy"),
      1, true)
    assert.matches("folder '" .. folder .. "/none' is not accessible",
      error_of(d3m.io.npy_write, folder .. "/none/x.npy", d3m.zeros { 1 }), 1, true)
  end)

  it("imports ML-Recon files channels first", function()
    local n = 8
    local paths = { folder .. "/sim_0.npy", folder .. "/sim_1.npy" }
    write_mlrecon(paths[1], n, 0)
    write_mlrecon(paths[2], n, 0.5)
    local h5 = folder .. "/imported.h5"
    local count = d3m.io.import_mlrecon(paths, h5, { source = "ML-Recon" },
      { seeds = { 11, 12 } })
    assert.are.equal(2, count)

    local reader <close> = d3m.io.dataset(h5, { mode = "r" })
    assert.are.equal(n, reader:n())
    assert.are.equal(11, reader:read("seed", 1))
    assert.are.equal(12, reader:read("seed", 2))
    assert.are.equal("ML-Recon", reader:attributes().source)
    assert.are.equal(128.0, reader:attributes().box_size)

    local boxed = folder .. "/boxed.h5"
    d3m.io.import_mlrecon(paths[1], boxed, { box_size = 64.0 })
    assert.are.equal(64.0, d3m.io.attributes(boxed).box_size)

    -- za, lpt2, fastpm component d at node (i, j, k) is channel 1+d, 4+d, 7+d.
    for s, offset in ipairs { 0, 0.5 } do
      for field, first_channel in pairs { za = 1, lpt2 = 4, fastpm = 7 } do
        local values = reader:read(field, s):to_table()
        local mismatches = 0
        for d = 0, 2 do
          for i = 0, n - 1 do
            for j = 0, n - 1 do
              for k = 0, n - 1 do
                local at = ((d * n + i) * n + j) * n + k + 1
                if values[at] ~= mlrecon_value(i, j, k, first_channel + d) + offset then
                  mismatches = mismatches + 1
                end
              end
            end
          end
        end
        assert.are.equal(0, mismatches, field .. " of sample " .. s)
      end
    end
  end)

  it("appends an import to an existing training set", function()
    local n = 8
    local path = folder .. "/sim.npy"
    write_mlrecon(path, n, 0)
    local h5 = folder .. "/set.h5"
    assert.are.equal(1, d3m.io.import_mlrecon(path, h5))
    assert.are.equal(2, d3m.io.import_mlrecon({ path }, h5, nil, { scale = 2 }))
    local reader <close> = d3m.io.dataset(h5, { mode = "r" })
    assert.are.equal(2 * mlrecon_value(0, 0, 1, 7), reader:read("fastpm", 2):get(1, 1, 1, 2))
    assert.are.equal(-1, reader:read("seed", 2))
  end)

  it("rejects an ML-Recon file holding NaN", function()
    local path = folder .. "/nan.npy"
    local values = {}
    for i = 1, 2 * 2 * 2 * 10 do
      values[i] = i
    end
    values[10 * 5 + 8] = 0 / 0   -- node (1, 0, 1), channel 7: fastpm component 0
    write_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2, 10), }",
      "<f", values)
    local h5 = folder .. "/set.h5"
    local message = error_of(d3m.io.import_mlrecon, path, h5)
    assert.matches("importing ML-Recon file '" .. path .. "': not appending sample 1 to '" .. h5
      .. "': field fastpm holds NaN at component 0 at grid node (1, 0, 1) (indices from 0)", message, 1, true)
    local reader <close> = d3m.io.dataset(h5, { mode = "r" })
    assert.are.equal(0, reader:count())
  end)

  it("rejects a file that is not in ML-Recon's layout", function()
    local path = folder .. "/wrong.npy"
    write_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2, 9), }", "<f",
      (function()
        local t = {}
        for i = 1, 72 do
          t[i] = i
        end
        return t
      end)())
    assert.matches("import_mlrecon: '" .. path .. "' has shape {2, 2, 2, 9}; ML-Recon files are "
      .. "(n, n, n, 10)", error_of(d3m.io.import_mlrecon, path, folder .. "/x.h5"), 1, true)

    local good = folder .. "/good.npy"
    write_mlrecon(good, 4, 0)
    local other = folder .. "/other.npy"
    write_mlrecon(other, 2, 0)
    local message = error_of(d3m.io.import_mlrecon, { good, other }, folder .. "/y.h5")
    assert.matches("ML-Recon file '" .. other .. "' has shape [2, 2, 2, 10]; expected (4, 4, 4, "
      .. "10)", message, 1, true)
  end)
end)
