-- `d3m demo --quick`: the whole pipeline (generate, train, predict,
-- evaluate) at a tiny size, and a rerun that reuses the finished stages.
-- The numbers of so small a run mean nothing; the spec checks the path.
local bin = os.getenv("D3M_BIN")

local function run(command)
  local pipe = io.popen(command .. " 2>&1")
  local output = pipe:read("a")
  local ok = pipe:close()
  return ok, output
end

local function exists(path)
  local file = io.open(path, "rb")
  if file then file:close() end
  return file ~= nil
end

describe("d3m demo --quick", function()
  if not bin then
    pending("D3M_BIN is not set; run through ctest")
    return
  end

  local folder = os.tmpname()
  os.remove(folder)

  teardown(function()
    os.execute("rm -rf '" .. folder .. "'")
  end)

  it("runs every stage and writes the report", function()
    local ok, output = run(string.format("%s demo --quick --output '%s'", bin, folder))
    assert.is_true(ok, output)
    assert.matches("== 1/4 generate", output, 1, true)
    assert.matches("== 4/4 evaluate", output, 1, true)
    assert.matches("| D3M | displacement |", output, 1, true)
    for _, name in ipairs({"dataset.h5", "train/best.h5", "prediction.h5", "report/report.md",
                           "report/table.csv", "report/power_density.png", "demo.log"}) do
      assert.is_true(exists(folder .. "/" .. name), name .. " is missing")
    end
  end)

  it("reuses the finished stages on a rerun", function()
    local ok, output = run(string.format("%s demo --quick --output '%s'", bin, folder))
    assert.is_true(ok, output)
    assert.matches("already holds 1 epochs; reusing it", output, 1, true)
    assert.matches("is newer than the model; reusing it", output, 1, true)
  end)
end)
