-- d3m evaluate run as a user runs it, on a small training set made here:
-- 16^3 particles in a 64 Mpc/h box (4 Mpc/h spacing, as in He et al. 2019), three
-- simulations, FastPM with 5 steps. Also unit tests of the library's
-- helpers.
local d3m = require "d3m"
local evaluate = require "d3m.evaluate"

local bin = os.getenv("D3M_BIN")

local N, BOX, SIMULATIONS, FIRST_SEED = 16, 64.0, 3, 4100


local function quote(text)
  return "'" .. text:gsub("'", "'\\''") .. "'"
end


-- Run `d3m evaluate ARGS`; returns success, the combined output.
local function run_evaluate(args)
  local pipe = io.popen(string.format("%s evaluate %s 2>&1", bin, args))
  local text = pipe:read("a")
  local ok = pipe:close()
  return ok == true, text
end


local function read_file(path)
  local file = io.open(path, "rb")
  if not file then
    return nil
  end
  local text = file:read("a")
  file:close()
  return text
end


-- CSV rows keyed "MODEL field statistic k" (k empty when not applicable).
local function read_csv(path)
  local text = assert(read_file(path), "no CSV at " .. path)
  local rows, header = {}, nil
  for line in text:gmatch("[^\n]+") do
    local fields = {}
    for field in (line .. ","):gmatch("([^,]*),") do
      fields[#fields + 1] = field
    end
    if header == nil then
      header = line
    else
      local k = fields[4] ~= "" and string.format("%.2f", tonumber(fields[4])) or ""
      rows[string.format("%s %s %s %s", fields[1], fields[2], fields[3], k)] = {
        value = tonumber(fields[5]), std = tonumber(fields[6]), paper = tonumber(fields[7]),
        simulations = tonumber(fields[8])}
    end
  end
  return rows, header
end


local function make_dataset(path)
  local set <close> = d3m.io.dataset(path, {n = N, box = BOX,
    attrs = {Omega_m = 0.3089, m_nu = 0.06, N_nu = 1, sigma8 = 0.824}})
  for s = 0, SIMULATIONS - 1 do
    local field = d3m.sim.linear_field{box = BOX, n = N, seed = FIRST_SEED + s}
    set:append{za = d3m.sim.lpt(field, {order = 1}), lpt2 = d3m.sim.lpt(field, {order = 2}),
      fastpm = d3m.sim.fastpm(field, {steps = 5}), seed = FIRST_SEED + s}
  end
end


-- A predictions file with dataset `name` = samples first..last of `field`
-- of the training set (or `tensor` when given) and their seeds.
local function make_predictions(path, opts)
  local set <close> = d3m.io.dataset(opts.dataset, {mode = "r"})
  local count = opts.last - opts.first + 1
  local data = opts.tensor or set:read(opts.field, opts.first, count)
  local seeds = set:read("seed", opts.first, count)
  d3m.io.write_file(path, function(file)
    file:write("/" .. (opts.name or "d3m"), data)
    -- An attribute table is passed because file:write rejects an integer
    -- table without one.
    file:write("/seed", seeds, {})
    file:set_attributes("/", {box_size = BOX})
  end)
end


describe("d3m.evaluate helpers", function()
  it("interpolates linearly between bin centres", function()
    local xs, values = {0.1, 0.2, 0.4}, {1.0, 2.0, 0.0}
    -- Exact in binary up to rounding: tolerance 1e-12.
    assert.near(1.5, evaluate.interpolate(xs, values, 0.15), 1e-12)
    assert.near(1.0, evaluate.interpolate(xs, values, 0.3), 1e-12)
    assert.near(2.0, evaluate.interpolate(xs, values, 0.2), 1e-12)
  end)

  it("takes the edge bin's value inside the outer bins", function()
    local xs, values, edges = {0.1, 0.2}, {3.0, 5.0}, {0.05, 0.15, 0.25}
    assert.equals(3.0, evaluate.interpolate(xs, values, 0.07, edges))
    assert.equals(5.0, evaluate.interpolate(xs, values, 0.24, edges))
    local outside = evaluate.interpolate(xs, values, 0.3, edges)
    assert.is_true(outside ~= outside)
  end)

  it("returns the last tenth as the test range", function()
    assert.same({91, 100}, evaluate.test_range(100))
    assert.same({10, 10}, evaluate.test_range(10))
    assert.same({3, 3}, evaluate.test_range(3))
    assert.same({1, 1}, evaluate.test_range(1))
  end)

  it("parses sample ranges", function()
    assert.same({2, 5}, evaluate.parse_range("2-5"))
    assert.same({4, 4}, evaluate.parse_range("4"))
    local range, message = evaluate.parse_range("5-2")
    assert.is_nil(range)
    assert.matches("invalid sample range '5%-2'", message)
  end)

  it("leaves out the spread of a single simulation", function()
    local tables = require "d3m.evaluate.tables"
    local function results(samples)
      return {samples = samples, models = {"za"}, k = {}, range = {1, #samples},
        pointwise = {za = {mean = 0.2, std = 0.01, max = 3}},
        spectra = {density = {models = {za = {T_at = {}, r_at = {}, T_std = {}, r_std = {}}}},
                   displacement = {models = {za = {T_at = {}, r_at = {}, T_std = {}, r_std = {}}}}}}
    end
    local function pointwise_row(samples)
      for _, row in ipairs(tables.rows(results(samples))) do
        if row.statistic == "pointwise_mean" then
          return row
        end
      end
    end
    assert.equals(0.01, pointwise_row{1, 2}.std)
    assert.is_nil(pointwise_row{1}.std)
    assert.equals(0.2, pointwise_row{1}.value)
  end)

  it("narrows 3PCF bins to half the box", function()
    local edges = evaluate.zeta_edges(64, 16)
    assert.equals(7, #edges)
    assert.equals(30, edges[#edges])
    assert.same({0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50}, evaluate.zeta_edges(128, 32))
    local ok, message = pcall(evaluate.zeta_edges, 64, 16, 5, 10)
    assert.is_false(ok)
    assert.matches("reach r = 50 Mpc/h, beyond half the 64 Mpc/h box", message, 1, true)
  end)
end)


describe("d3m evaluate", function()
  if not bin then
    pending("D3M_BIN is not set; run through ctest")
    return
  end

  local folder = os.tmpname()
  os.remove(folder)
  os.execute("mkdir -p " .. quote(folder))
  local dataset = folder .. "/set.h5"
  local perfect = folder .. "/perfect.h5"
  make_dataset(dataset)
  make_predictions(perfect, {dataset = dataset, field = "fastpm", first = 1, last = SIMULATIONS})

  teardown(function()
    os.execute("rm -rf " .. quote(folder))
  end)

  local output = folder .. "/out"
  local ok, text = run_evaluate(string.format("--dataset %s --predictions %s --all --zeta "
    .. "--zeta-samples 1 --output %s", quote(dataset), quote(perfect), quote(output)))
  local rows = ok and read_csv(output .. "/table.csv") or {}

  it("writes the table, the figures and the report", function()
    assert.is_true(ok, text)
    assert.matches("| 2LPT | density |", text, 1, true)
    local markdown = assert(read_file(output .. "/table.md"))
    assert.matches("| Model | Field | Point-wise mean | Point-wise max | T(k=0.11) | r(k=0.11) | "
      .. "T(k=0.50) | r(k=0.50) | 3PCF residual |", markdown, 1, true)
    assert.matches("linearly in k between the centres", markdown, 1, true)
    assert.matches("mean over l = 0..8 and bins b1 <= b2", markdown, 1, true)
    local _, header = read_csv(output .. "/table.csv")
    assert.equals("model,field,statistic,k_h_per_Mpc,value,std,paper,simulations", header)
    local report = assert(read_file(output .. "/report.md"))
    assert.matches("| Model | Field |", report, 1, true)
    assert.matches(string.format("Test set: %s, %d simulations of %d^3 particles in %g Mpc/h. "
      .. "Omega_m 0.3089, m_nu 0.06 eV in 1 species, sigma8 0.8240.", dataset, SIMULATIONS, N, BOX), report, 1,
      true)
    for _, name in ipairs{"power_density", "power_displacement", "slice_fastpm", "slice_za",
                          "slice_lpt2", "slice_d3m", "error_za", "error_lpt2", "error_d3m",
                          "zeta_ratio"} do
      local png = read_file(string.format("%s/%s.png", output, name))
      assert.is_not_nil(png, name .. ".png missing")
      assert.equals("\137PNG", png:sub(1, 4))
      assert.matches("(" .. name .. ".png)", report, 1, true)
    end
    assert.is_nil(read_file(output .. "/table.csv.tmp"))
  end)

  it("shows 2LPT losing small-scale power", function()
    local low, high = rows["2LPT density T 0.11"], rows["2LPT density T 0.50"]
    assert.is_not_nil(low, text)
    assert.is_not_nil(high, text)
    assert.is_true(high.value < 0.9, "2LPT T(0.5) = " .. tostring(high.value))
    assert.is_true(high.value < low.value - 0.1,
      string.format("2LPT T(0.11) = %g, T(0.5) = %g", low.value, high.value))
    assert.equals(0.74, high.paper)
    assert.equals(SIMULATIONS, high.simulations)
  end)

  it("ranks ZA below 2LPT in point-wise error", function()
    local za, lpt2 = rows["ZA displacement pointwise_mean "], rows["2LPT displacement pointwise_mean "]
    assert.is_not_nil(za, text)
    assert.is_not_nil(lpt2, text)
    assert.is_true(za.value > lpt2.value, string.format("ZA %g, 2LPT %g", za.value, lpt2.value))
    assert.is_true(lpt2.value > 0.01)
  end)

  it("gives a prediction equal to FastPM no error", function()
    assert.equals(0, rows["D3M displacement pointwise_mean "].value)
    assert.equals(0, rows["D3M displacement pointwise_max "].value)
    -- The CIC kernel adds with float atomics in no fixed order, so identical
    -- particles can give meshes that differ by float rounding: tolerance 1e-5.
    for _, field in ipairs{"density", "displacement"} do
      for _, statistic in ipairs{"T", "r"} do
        for _, k in ipairs{"0.11", "0.50"} do
          local key = string.format("D3M %s %s %s", field, statistic, k)
          assert.is_not_nil(rows[key], key)
          assert.near(1, rows[key].value, 1e-5, key)
        end
      end
    end
    local zeta = rows["D3M density zeta_residual "]
    assert.is_not_nil(zeta, text)
    assert.is_true(zeta.value < 1e-4, "zeta residual " .. tostring(zeta.value))
    assert.equals(1, zeta.simulations)
    assert.is_true(rows["2LPT density zeta_residual "].value > 1e-3)
  end)

  it("averages spectra before ratios", function()
    local stats = require "d3m.stats"
    local probe = evaluate.run{dataset = dataset, all = true, k = {0.3}}
    local bins = probe.spectra.displacement.k
    -- At a bin centre the interpolation returns that bin's value.
    local results = evaluate.run{dataset = dataset, all = true, k = {bins[3]}}
    local set <close> = d3m.io.dataset(dataset, {mode = "r"})
    local pred_sum, true_sum, cross_sum, error_sum = 0, 0, 0, 0
    for i = 1, SIMULATIONS do
      local lpt2, fastpm = set:read("lpt2", i), set:read("fastpm", i)
      local opts = {box = BOX, kind = "displacement"}
      pred_sum = pred_sum + stats.power(lpt2, opts).P[3]
      true_sum = true_sum + stats.power(fastpm, opts).P[3]
      cross_sum = cross_sum + stats.cross_power(lpt2, fastpm, opts).P[3]
      error_sum = error_sum + stats.pointwise_error(lpt2, fastpm).mean
    end
    local summary = results.spectra.displacement.models.lpt2
    -- The same float spectra summed in another order: tolerance 1e-9.
    assert.near(math.sqrt(pred_sum / true_sum), summary.T_at[1], 1e-9)
    assert.near(cross_sum / math.sqrt(pred_sum * true_sum), summary.r_at[1], 1e-9)
    -- Every simulation has n^3 particles, so the particle mean is the mean of
    -- the simulation means: tolerance 1e-9.
    assert.near(error_sum / SIMULATIONS, results.pointwise.lpt2.mean, 1e-9)
  end)

  it("computes the 3PCF from particles", function()
    local out = folder .. "/particles"
    local done, message = run_evaluate(string.format("-d %s -p %s -o %s --all --no-figures "
      .. "--zeta --zeta-method particles --zeta-samples 1", quote(dataset), quote(perfect),
      quote(out)))
    assert.is_true(done, message)
    assert.matches("Multipoles from the particles", message, 1, true)
    local particle_rows = read_csv(out .. "/table.csv")
    -- Identical particles give the same pair sums up to the float order of
    -- the device's a_lm sums: tolerance 1e-6.
    assert.is_true(particle_rows["D3M density zeta_residual "].value < 1e-6)
    assert.is_true(particle_rows["2LPT density zeta_residual "].value > 1e-3)
  end)

  it("evaluates the test subset by default", function()
    local subset = folder .. "/subset.h5"
    make_predictions(subset, {dataset = dataset, field = "lpt2", first = SIMULATIONS,
      last = SIMULATIONS})
    local out = folder .. "/default"
    local done, message = run_evaluate(string.format("-d %s -p %s -o %s --no-figures",
      quote(dataset), quote(subset), quote(out)))
    assert.is_true(done, message)
    assert.matches(string.format("samples %d to %d", SIMULATIONS, SIMULATIONS), message, 1, true)
    local subset_rows = read_csv(out .. "/table.csv")
    -- The prediction is the 2LPT field, so D3M and 2LPT rows agree to float
    -- rounding of the painting: tolerance 1e-6.
    assert.near(subset_rows["2LPT displacement pointwise_mean "].value,
      subset_rows["D3M displacement pointwise_mean "].value, 1e-6)
    assert.near(subset_rows["2LPT density T 0.50"].value, subset_rows["D3M density T 0.50"].value,
      1e-6)
  end)

  it("reports predictions that miss a sample", function()
    local subset = folder .. "/subset.h5"
    local done, message = run_evaluate(string.format("-d %s -p %s -o %s --all --no-figures",
      quote(dataset), quote(subset), quote(folder .. "/missing")))
    assert.is_false(done)
    assert.matches(string.format("contain no sample with seed %d %%(dataset sample 1%%)", FIRST_SEED),
      message)
  end)

  it("evaluates ZA and 2LPT without predictions", function()
    local out = folder .. "/plain"
    local done, message = run_evaluate(string.format("-d %s -o %s --all --no-figures",
      quote(dataset), quote(out)))
    assert.is_true(done, message)
    local plain = read_csv(out .. "/table.csv")
    assert.is_not_nil(plain["2LPT density T 0.50"])
    assert.is_nil(plain["D3M density T 0.50"])
  end)

  it("reports a missing dataset", function()
    local done, message = run_evaluate(string.format("-d %s -o %s", quote(folder .. "/none.h5"),
      quote(folder .. "/none")))
    assert.is_false(done)
    assert.matches("dataset file '.*none%.h5' not found", message)
  end)

  it("reports predictions of another shape", function()
    local wrong = folder .. "/wrong.h5"
    make_predictions(wrong, {dataset = dataset, first = 1, last = SIMULATIONS,
      tensor = d3m.zeros{SIMULATIONS, 3, 8, 8, 8}})
    local done, message = run_evaluate(string.format("-d %s -p %s -o %s --all", quote(dataset),
      quote(wrong), quote(folder .. "/wrong")))
    assert.is_false(done)
    assert.matches("have shape [3, 3, 8, 8, 8]", message, 1, true)
    assert.matches("expected [N, 3, 16, 16, 16]", message, 1, true)
  end)

  it("reports a missing prediction dataset", function()
    local done, message = run_evaluate(string.format("-d %s -p %s -o %s --all "
      .. "--prediction-name model", quote(dataset), quote(perfect), quote(folder .. "/named")))
    assert.is_false(done)
    assert.matches("have no dataset /model", message, 1, true)
    assert.matches("--prediction-name", message, 1, true)
  end)
end)
