-- `d3m bench --quick` as a smoke test: every case runs at a small size and
-- the markdown table is written where asked. No timing is asserted.
local bin = os.getenv("D3M_BIN")

describe("d3m bench --quick", function()
  if not bin then
    pending("D3M_BIN is not set; run through ctest")
    return
  end

  it("runs every case and writes the table", function()
    local output = os.tmpname()
    local pipe = io.popen(string.format("%s bench --quick --output %s 2>&1", bin, output))
    local text = pipe:read("a")
    local ok = pipe:close()
    assert.is_true(ok, text)
    assert.matches("FMA peak", text, 1, true)
    assert.matches("FFT vkfft r2c+c2r 32^3", text, 1, true)
    local file = assert(io.open(output))
    local markdown = file:read("a")
    file:close()
    os.remove(output)
    assert.matches("| case | value | unit | note | command |", markdown, 1, true)
    assert.matches("| FFT clfft r2c+c2r 32^3 |", markdown, 1, true)
  end)
end)
