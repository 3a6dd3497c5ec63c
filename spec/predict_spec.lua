-- d3m.predict and `d3m predict`: tiles against one piece, the receptive
-- radius behind the halo, output files and errors.
local d3m = require "d3m"
local predict = require "d3m.predict"
local checkpoint = require "d3m.checkpoint"
local tiny = require "support.tiny_dataset"

local BIN = os.getenv("D3M_BIN")

local function quote(text)
  return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

local function run_predict(arguments, log_path)
  local _, _, code = os.execute(quote(BIN) .. " predict " .. arguments .. " >/dev/null 2>"
    .. quote(log_path))
  local file = io.open(log_path, "r")
  local text = file and file:read("a") or ""
  if file then file:close() end
  return code, text
end

local function expect_error(pattern, fn, ...)
  local ok, message = pcall(fn, ...)
  assert.is_false(ok, "expected an error matching: " .. pattern)
  assert.matches(pattern, tostring(message), 1, true)
end

-- A model whose batch-norm running statistics are not the initial 0 and 1,
-- so evaluation mode does more than an identity per channel.
local function trained_looking_model(seed)
  local model = d3m.models.d3m{channels = 4, seed = seed}
  local generator = require("d3m.random").new(seed)
  for _, b in ipairs(model:named_buffers()) do
    local values = {}
    for i = 1, b.tensor:numel() do
      values[i] = b.name:match("running_var$") and generator:uniform(0.5, 2.0)
        or generator:uniform(-0.2, 0.2)
    end
    b.tensor:copy_from(d3m.from_table(values, b.tensor:shape()))
  end
  return model:evaluate()
end

local function za_field(n, seed)
  local displacement = d3m.sim.lpt(d3m.sim.linear_field{n = n, box = 4.0 * n, seed = seed},
    {order = 1})
  return displacement
end


describe("tiled prediction", function()
  local model = trained_looking_model(4)

  it("equals one piece on a 16^3 grid", function()
    local za = za_field(16, 21)
    local whole = predict.field(model, za, {tile = 0})
    local tiled = predict.field(model, za, {tile = 8})
    assert.are.same({3, 16, 16, 16}, tiled:shape())
    -- Each kept voxel depends on the same inputs, combined in the same
    -- order as in one piece. The 1e-6 (|output| ~ 1) allows for a
    -- convolution path, chosen by grid size, that sums in another order.
    local difference = (whole - tiled):max_abs()
    assert.is_true(difference <= 1e-6, "tiles differ from one piece by " .. difference)

    -- A halo below the receptive radius must show: the check can fail.
    local short = predict.tiled(model, za:reshape{1, 3, 16, 16, 16}, 8, 8)
    assert.is_true((whole - short:reshape{3, 16, 16, 16}):max_abs() > 1e-6)
  end)

  it("keeps a one-voxel change within the receptive radius", function()
    local n, radius = 64, predict.RECEPTIVE_RADIUS
    local x = d3m.zeros{1, 3, n, n, n}
    local base = model:forward(x):copy()
    -- An even and an odd position: the stride-2 levels treat them apart.
    for _, centre in ipairs({32, 33}) do
      x:fill(0)
      x:set(1.0, 1, 2, centre + 1, centre + 1, centre + 1)
      local change = (model:forward(x) - base):to_table()
      local reach = 0
      for c = 0, 2 do
        for i = 0, n - 1 do
          for j = 0, n - 1 do
            for k = 0, n - 1 do
              if change[((c * n + i) * n + j) * n + k + 1] ~= 0 then
                reach = math.max(reach, math.abs(i - centre), math.abs(j - centre),
                  math.abs(k - centre))
              end
            end
          end
        end
      end
      assert.is_true(reach > 0, "the change did not reach the output")
      assert.is_true(reach <= radius, "a change at " .. centre .. " reaches " .. reach)
    end
  end)

  it("chooses tiles only when one piece does not fit", function()
    assert.is_nil(predict.choose_tile(32, 4, 28, 1e12))
    -- A 16^3 tile with its halo is 72^3: 128^3 needs tiles, 64^3 does not.
    local budget = predict.forward_bytes(16 + 2 * 28, 4)
    assert.are.equal(16, predict.choose_tile(128, 4, 28, budget))
    assert.is_nil(predict.choose_tile(64, 4, 28, budget))
  end)

  it("rejects short halos and bad grids", function()
    local za = za_field(16, 1)
    expect_error("halo 24 is smaller than the receptive radius 26", predict.field, model, za,
      {tile = 8, halo = 24})
    expect_error("halo must be a positive multiple of 4, got 30", predict.field, model, za,
      {tile = 8, halo = 30})
    expect_error("tile 12 does not divide the grid size 16", predict.field, model, za, {tile = 12})
    expect_error("n = 6 particles per side", predict.field, model, d3m.zeros{3, 6, 6, 6})
  end)
end)


describe("d3m predict", function()
  local folder, set_path, model_path
  local model = trained_looking_model(9)

  setup(function()
    folder = tiny.folder()
    set_path = tiny.write(folder .. "/set.h5", {n = 8, count = 10})
    model_path = folder .. "/model.h5"
    checkpoint.save(model_path, model, nil, {iteration = 7, split = {0.6, 0.2, 0.2}})
  end)

  teardown(function()
    collectgarbage()
    tiny.remove(folder)
  end)

  it("predicts the test subset of a training set", function()
    local output = folder .. "/test.h5"
    local code, text = run_predict("--checkpoint " .. quote(model_path) .. " --input "
      .. quote(set_path) .. " --subset test --output " .. quote(output), folder .. "/test.log")
    assert.are.equal(0, code, text)
    local result = d3m.io.read(output, "/d3m")
    assert.are.same({2, 3, 8, 8, 8}, result:shape())
    assert.are.same({9, 10}, (d3m.io.read_integers(output, "/seed")))
    local attrs = d3m.io.attributes(output)
    assert.are.equal(32.0, attrs.box_size)
    assert.are.equal(1.0, attrs.a_final)
    assert.are.equal(4, attrs.channels)
    assert.are.equal(9, attrs.first_sample)

    local set <close> = d3m.io.dataset(set_path, {mode = "r"})
    local expected = model:forward(set:read("za", 9, 2)):to_table()
    local got = result:to_table()
    local worst = 0
    for i = 1, #expected do
      worst = math.max(worst, math.abs(expected[i] - got[i]))
    end
    -- Batch of two against two batches of one: identical arithmetic per
    -- voxel in evaluation mode, so only summation order could differ.
    assert.is_true(worst <= 1e-6, "prediction differs by " .. worst)
  end)

  it("runs a larger box in one piece and in tiles alike", function()
    local input = folder .. "/big.h5"
    d3m.io.write(input, "/za", za_field(16, 5))
    d3m.io.set_attributes(input, "/", {box_size = 64.0})
    local whole, tiled = folder .. "/whole.h5", folder .. "/tiled.h5"
    local base = "--checkpoint " .. quote(model_path) .. " --input " .. quote(input)
    local code, text = run_predict(base .. " --tile 0 --output " .. quote(whole), folder .. "/w.log")
    assert.are.equal(0, code, text)
    code, text = run_predict(base .. " --tile 8 --output " .. quote(tiled), folder .. "/t.log")
    assert.are.equal(0, code, text)
    local a, b = d3m.io.read(whole, "/d3m"), d3m.io.read(tiled, "/d3m")
    assert.are.same({3, 16, 16, 16}, a:shape())
    assert.is_true((a - b):max_abs() <= 1e-6)
    assert.are.equal(64.0, d3m.io.attributes(whole).box_size)
  end)

  it("names a missing field and a file that is not a checkpoint", function()
    local code, text = run_predict("--checkpoint " .. quote(model_path) .. " --input "
      .. quote(set_path) .. " --field density --output " .. quote(folder .. "/x.h5"),
      folder .. "/field.log")
    assert.are.equal(1, code)
    assert.matches("has no dataset /density; it contains /fastpm, /lpt2, /seed, /za", text, 1, true)

    code, text = run_predict("--checkpoint " .. quote(set_path) .. " --input "
      .. quote(set_path) .. " --output " .. quote(folder .. "/x.h5"), folder .. "/ckpt.log")
    assert.are.equal(1, code)
    assert.matches("is not a d3m checkpoint", text, 1, true)
  end)
end)
