-- Figures through gnuplot: each call writes a real PNG and no temporary file
-- is left beside it.
local d3m = require "d3m"

local function is_png(path)
  local file = io.open(path, "rb")
  if not file then return false end
  local magic = file:read(8)
  file:close()
  return magic == "\137PNG\r\n\26\n"
end

describe("d3m.plot", function()
  local folder = os.tmpname()
  os.remove(folder)
  os.execute("mkdir -p " .. folder)

  teardown(function()
    os.execute("rm -rf " .. folder)
  end)

  it("writes a log-log line plot", function()
    local k, p = {}, {}
    for i = 1, 20 do
      k[i] = 0.05 * i
      p[i] = 1e4 * k[i] ^ -1.5
    end
    local with_nan = {table.unpack(p)}
    with_nan[5] = 0 / 0
    local path = d3m.plot.lines{path = folder .. "/power.png", title = "P(k)", logx = true,
      logy = true, xlabel = "k [h/Mpc]", ylabel = "P(k) [(Mpc/h)^3]",
      series = {{x = k, y = p, label = "model"}, {x = k, y = with_nan, label = "with a NaN", style = "lines"}}}
    assert.is_true(is_png(path))
    assert.is_nil(io.open(path .. ".tmp.png"))
  end)

  it("writes stacked panels and a map", function()
    local x, y = {1, 2, 3}, {1, 0.9, 0.8}
    assert.is_true(is_png(d3m.plot.panels{path = folder .. "/panels.png", panels = {
      {title = "top", series = {{x = x, y = y, label = "a"}}, height = 2},
      {title = "bottom", series = {{x = x, y = y, label = "b"}}, hlines = {1}},
    }}))
    assert.is_true(is_png(d3m.plot.map{path = folder .. "/map.png", title = "slice",
      matrix = {{0, 1}, {2, 3}}, extent = {0, 128, 0, 128}}))
  end)

  it("names the series whose lengths differ", function()
    local ok, err = pcall(d3m.plot.lines, {path = folder .. "/bad.png",
      series = {{x = {1, 2}, y = {1}, label = "short"}}})
    assert.is_false(ok)
    assert.matches("plot series 'short': 2 x values but 1 y values", err, 1, true)
  end)
end)
