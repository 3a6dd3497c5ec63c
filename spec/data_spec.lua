-- d3m.data: splits, epoch plans, batches and cube-symmetry augmentation,
-- checked against host loops and analytic fields on small files.
local d3m = require "d3m"
local data = require "d3m.data"
local tiny = require "support.tiny_dataset"

local ops = d3m.ops

-- Flat 1-based index of [component, i0, i1, i2] (0-based) in a [3, n, n, n] field.
local function at(n, c, i)
  return ((c * n + i[1]) * n + i[2]) * n + i[3] + 1
end

-- Host reference of symmetry k on a vector field: y_a = s_a x_p(a) (mod n)
-- and out_a(y) = s_a in_p(a)(x).
local function host_symmetry(values, n, k)
  local perm, sign = ops.cube_symmetry_parts(k)
  local out = {}
  for i0 = 0, n - 1 do
    for i1 = 0, n - 1 do
      for i2 = 0, n - 1 do
        local x = {i0, i1, i2}
        local y = {}
        for a = 1, 3 do
          y[a] = (sign[a] * x[perm[a] + 1]) % n
        end
        for a = 1, 3 do
          out[at(n, a - 1, y)] = sign[a] * values[at(n, perm[a], x)]
        end
      end
    end
  end
  return out
end

-- The displacement of the potential cos(2 pi x_axis / n): a plane wave
-- along `axis` (0-based), psi_axis = (2 pi / n) sin(2 pi x_axis / n).
local function plane_wave(n, axis, scale)
  local values = {}
  for c = 0, 2 do
    for i0 = 0, n - 1 do
      for i1 = 0, n - 1 do
        for i2 = 0, n - 1 do
          local x = {i0, i1, i2}
          local v = 0.0
          if c == axis then
            v = scale * (2 * math.pi / n) * math.sin(2 * math.pi * x[axis + 1] / n)
          end
          values[at(n, c, x)] = v
        end
      end
    end
  end
  return values
end

local function sample_values(tensor, s, floats)
  local all = tensor:to_table()
  local values = {}
  for i = 1, floats do
    values[i] = all[(s - 1) * floats + i]
  end
  return values
end

local function max_difference(a, b)
  local worst = 0
  for i = 1, #a do
    worst = math.max(worst, math.abs(a[i] - b[i]))
  end
  return worst
end

local function expect_error(pattern, fn, ...)
  local ok, message = pcall(fn, ...)
  assert.is_false(ok, "expected an error matching: " .. pattern)
  assert.matches(pattern, tostring(message), 1, true)
end


describe("data.split", function()
  it("gives 80/10/10 of 10 samples by default", function()
    local ranges = data.split(10)
    assert.are.same({1, 8}, ranges.train)
    assert.are.same({9, 9}, ranges.validation)
    assert.are.same({10, 10}, ranges.test)
  end)

  it("gives the rounding remainder to the test set", function()
    local ranges = data.split(13, {0.7, 0.2, 0.1})
    assert.are.same({1, 9}, ranges.train)
    assert.are.same({10, 11}, ranges.validation)
    assert.are.same({12, 13}, ranges.test)
  end)

  it("accepts sample counts", function()
    local ranges = data.split(10, {5, 3, 1})
    assert.are.same({1, 5}, ranges.train)
    assert.are.same({6, 8}, ranges.validation)
    assert.are.same({9, 9}, ranges.test)
  end)

  it("rejects shares that do not fit", function()
    expect_error("sum to 1.2", data.split, 10, {0.8, 0.2, 0.2})
    expect_error("exceed the 10 samples", data.split, 10, {8, 2, 1})
    expect_error("split entry 2 must be a number >= 0", data.split, 10, {0.8, -0.1, 0.1})
  end)
end)


describe("data loader", function()
  local folder, path
  local n, count = 8, 10

  setup(function()
    folder = tiny.folder()
    path = tiny.write(folder .. "/set.h5", {n = n, count = count})
  end)

  teardown(function()
    collectgarbage()
    tiny.remove(folder)
  end)

  it("plans an epoch from the seed and the epoch alone", function()
    local set <close> = data.open(path)
    local loader = set:loader("train", {batch_size = 3, seed = 7})
    local again = set:loader("train", {batch_size = 3, seed = 7})
    assert.are.same(loader:plan(2), again:plan(2))
    assert.are_not.same(loader:plan(1).indices, loader:plan(2).indices)

    local plan = loader:plan(3)
    local sorted = {table.unpack(plan.indices)}
    table.sort(sorted)
    assert.are.same({1, 2, 3, 4, 5, 6, 7, 8}, sorted)
    for _, k in ipairs(plan.symmetries) do
      assert.is_true(k >= 0 and k < 48, "symmetry " .. k)
    end
  end)

  it("keeps validation in order and unaugmented", function()
    local set <close> = data.open(path, {split = {4, 3, 3}})
    local plan = set:loader("validation", {batch_size = 2}):plan(5)
    assert.are.same({5, 6, 7}, plan.indices)
    assert.are.same({0, 0, 0}, plan.symmetries)
  end)

  it("covers every training sample once per epoch", function()
    local set <close> = data.open(path)
    local loader = set:loader("train", {batch_size = 3, seed = 1, augment = false})
    assert.are.equal(3, loader:batch_count())
    local seen, sizes = {}, {}
    for b, input, target, info in loader:batches(4) do
      sizes[b] = input:shape()[1]
      assert.are.same(input:shape(), target:shape())
      for s, index in ipairs(info.indices) do
        seen[#seen + 1] = index
        -- Pure copies: the batch contains the file's values exactly.
        local floats = 3 * n ^ 3
        assert.are.same(set.file:read("za", index):to_table(), sample_values(input, s, floats),
          "input of sample " .. index)
        assert.are.same(set.file:read("fastpm", index):to_table(), sample_values(target, s, floats),
          "target of sample " .. index)
      end
    end
    assert.are.same({3, 3, 2}, sizes)
    table.sort(seen)
    assert.are.same({1, 2, 3, 4, 5, 6, 7, 8}, seen)
  end)

  it("drops the last partial batch on request", function()
    local set <close> = data.open(path)
    local loader = set:loader("train", {batch_size = 3, drop_last = true})
    assert.are.equal(2, loader:batch_count())
  end)

  it("reads another target field", function()
    local set <close> = data.open(path, {target = "lpt2"})
    local loader = set:loader("test", {batch_size = 4})
    local _, _, target = loader:batches(1)()
    assert.are.same(set.file:read("lpt2", 10):to_table(), target:to_table())
  end)
end)


describe("augmentation through the loader", function()
  local folder
  local n = 8

  teardown(function()
    collectgarbage()
    if folder then tiny.remove(folder) end
  end)

  -- A one-sample training set with the given input and target values.
  local function write_pair(name, input_values, target_values)
    folder = folder or tiny.folder()
    local file = folder .. "/" .. name
    local writer <close> = d3m.io.dataset(file, {n = n, box = 32.0})
    local input = d3m.from_table(input_values, {3, n, n, n})
    local target = d3m.from_table(target_values, {3, n, n, n})
    writer:append{za = input, lpt2 = target, fastpm = target, seed = 1}
    return file
  end

  local function all_symmetries(loader)
    local indices, symmetries = {}, {}
    for k = 0, 47 do
      indices[k + 1], symmetries[k + 1] = 1, k
    end
    return loader:assemble(indices, symmetries)
  end

  it("maps a plane wave to the plane wave along the permuted axis", function()
    -- The potential cos(2 pi x_0 / n) becomes cos(2 pi y_a / n) with
    -- p(a) = 0 under every symmetry (the cosine is even), so the image of
    -- its displacement is the plane wave along axis a.
    local file = write_pair("wave.h5", plane_wave(n, 0, 1.0), plane_wave(n, 0, 2.0))
    local set <close> = data.open(file, {split = {1, 0, 0}})
    local loader = set:loader("train")
    local input, target = all_symmetries(loader)
    local floats = 3 * n ^ 3
    for k = 0, 47 do
      local perm = ops.cube_symmetry_parts(k)
      local axis
      for a = 1, 3 do
        if perm[a] == 0 then axis = a - 1 end
      end
      -- Symmetries move float32 values exactly; 1e-6 covers rounding the
      -- host sines to float32 (|psi| <= 2 pi / 8 * 2).
      assert.is_true(max_difference(plane_wave(n, axis, 1.0), sample_values(input, k + 1, floats))
        < 1e-6, "input, k = " .. k)
      assert.is_true(max_difference(plane_wave(n, axis, 2.0), sample_values(target, k + 1, floats))
        < 1e-6, "target, k = " .. k)
    end
  end)

  it("matches the host loop and is undone by the inverse", function()
    local generator = require("d3m.random").new(11)
    local input_values, target_values = {}, {}
    for i = 1, 3 * n ^ 3 do
      input_values[i] = string.unpack("f", string.pack("f", generator:uniform(-1, 1)))
      target_values[i] = string.unpack("f", string.pack("f", generator:uniform(-1, 1)))
    end
    local file = write_pair("random.h5", input_values, target_values)
    local set <close> = data.open(file, {split = {1, 0, 0}})
    local input, target = all_symmetries(set:loader("train"))
    local floats = 3 * n ^ 3
    for k = 0, 47 do
      local image = sample_values(input, k + 1, floats)
      -- Data movement and sign flips only: exact.
      assert.are.same(host_symmetry(input_values, n, k), image, "input, k = " .. k)
      assert.are.same(host_symmetry(target_values, n, k), sample_values(target, k + 1, floats),
        "target, k = " .. k)
      local back = ops.cube_symmetry(d3m.from_table(image, {3, n, n, n}),
        ops.cube_symmetry_inverse(k), {vector = true})
      assert.are.same(input_values, back:to_table(), "inverse of k = " .. k)
    end
  end)
end)


describe("data errors", function()
  local folder

  setup(function()
    folder = tiny.folder()
  end)

  teardown(function()
    collectgarbage()
    tiny.remove(folder)
  end)

  it("names a missing field", function()
    local file = folder .. "/za_only.h5"
    d3m.io.write(file, "/za", d3m.zeros{2, 3, 8, 8, 8})
    expect_error("has no /fastpm (the target); it contains /za", data.open, file)
    expect_error("not found", data.open, folder .. "/absent.h5")
  end)

  it("rejects n not a multiple of 4", function()
    local file = tiny.write(folder .. "/n6.h5", {n = 6, count = 2})
    expect_error("has n = 6 particles per side; D3M halves the grid twice, so n must be a "
      .. "multiple of 4", data.open, file)
  end)

  it("rejects an empty subset", function()
    local file = tiny.write(folder .. "/five.h5", {count = 5})
    local set <close> = data.open(file)
    expect_error("the validation subset of", set.loader, set, "validation")
  end)

  it("names the sample that holds NaN", function()
    -- Sample 2's input is the constant 12345 (float32 bits 0x4640E400,
    -- found nowhere else). One of its values is overwritten on disk with
    -- a NaN, as in a corrupted file.
    local file = folder .. "/nan.h5"
    do
      local writer <close> = d3m.io.dataset(file, {n = 8, box = 32.0})
      for s = 1, 3 do
        local value = s == 2 and 12345.0 or 0.5 * s
        local field = d3m.full({3, 8, 8, 8}, value)
        writer:append{za = field, lpt2 = field, fastpm = field, seed = s}
      end
    end
    local handle = assert(io.open(file, "rb"))
    local bytes = handle:read("a")
    handle:close()
    local position = bytes:find(string.pack("<f", 12345.0), 1, true)
    assert.is_not_nil(position)
    handle = assert(io.open(file, "r+b"))
    handle:seek("set", position - 1)
    handle:write(string.pack("<I4", 0x7FC00000))
    handle:close()

    local set <close> = data.open(file, {split = {3, 0, 0}})
    local loader = set:loader("train", {batch_size = 3, shuffle = false, augment = false})
    expect_error("sample 2", function() return loader:batches(1)() end)
    expect_error("NaN", function() return loader:batches(1)() end)
  end)
end)
