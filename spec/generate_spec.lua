-- d3m generate: resumed and sharded runs write the same samples as one
-- run, a changed setting on an existing file is rejected with its name,
-- the attributes round-trip and a bad sample is not written. The command
-- runs as a child process (D3M_BIN). Sets are 8^3 particles in 32 Mpc/h
-- with 3 FastPM scale factors, so each run takes about a second.
local d3m = require "d3m"
local generate = require "d3m.generate"
local power_table = require "support.power_table"

local bin = os.getenv("D3M_BIN")
local SMALL = "--n 8 --box 32 --steps 3"

local function shell_quote(text)
  return "'" .. text:gsub("'", "'\\''") .. "'"
end


-- Run `d3m generate ARGS` in folder; returns success and the output.
local function run(folder, args)
  local command = string.format("cd %s && D3M_PROGRESS=lines %s generate %s 2>&1",
    shell_quote(folder), shell_quote(bin), args)
  local pipe = io.popen(command)
  local text = pipe:read("a")
  local ok = pipe:close()
  return ok == true, text
end


local function temporary_folder()
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("mkdir -p " .. shell_quote(path)))
  return path
end


local function remove_folder(path)
  os.execute("rm -rf " .. shell_quote(path))
end


local function count_of(path)
  local set <close> = d3m.io.dataset(path, {mode = "r"})
  return set:count()
end


-- Assert that two sets contain the same samples in the same order: all of
-- them, or the first `count` when given.
local function assert_same_samples(expected_path, actual_path, count)
  local expected <close> = d3m.io.dataset(expected_path, {mode = "r"})
  local actual <close> = d3m.io.dataset(actual_path, {mode = "r"})
  if count then
    assert.is_true(expected:count() >= count and actual:count() >= count)
  else
    assert.are.equal(expected:count(), actual:count())
    count = expected:count()
  end
  for i = 1, count do
    assert.are.equal(expected:read("seed", i), actual:read("seed", i))
    -- Every stage is deterministic, painting included (fixed-point
    -- accumulation), so samples must be bit-identical.
    for _, name in ipairs({"za", "lpt2", "fastpm"}) do
      assert.is_true(expected:read(name, i):to_string() == actual:read(name, i):to_string(),
        string.format("%s of sample %d differs", name, i))
    end
  end
end


describe("d3m generate", function()
  if not bin then
    pending("D3M_BIN is not set; run through ctest")
    return
  end

  local folder, full
  setup(function()
    folder = temporary_folder()
    full = folder .. "/full.h5"
    local ok, text = run(folder, "-o full.h5 --count 4 " .. SMALL)
    assert.is_true(ok, text)
  end)
  teardown(function()
    remove_folder(folder)
  end)

  it("writes the requested samples and seeds", function()
    assert.are.equal(4, count_of(full))
    local set <close> = d3m.io.dataset(full, {mode = "r"})
    for i = 1, 4 do
      assert.are.equal(i, set:read("seed", i))   -- first seed 1, sample j has seed 1 + j
    end
  end)

  it("resumes a stopped run to the same samples", function()
    local ok, text = run(folder, "-o resumed.h5 --count 4 --stop-after 2 " .. SMALL)
    assert.is_true(ok, text)
    assert.are.equal(2, count_of(folder .. "/resumed.h5"))
    ok, text = run(folder, "-o resumed.h5 --count 4 " .. SMALL)
    assert.is_true(ok, text)
    assert.matches("resuming resumed.h5 after 2 complete samples", text, 1, true)
    assert_same_samples(full, folder .. "/resumed.h5")
  end)

  it("resumes a killed run to the same samples", function()
    -- The run is long enough (200 samples) to be killed with SIGKILL once
    -- its second sample is in. It gets no chance to close the file, and a
    -- third sample may be half written.
    local log_path = folder .. "/killed.log"
    local pipe = io.popen(string.format("cd %s && { D3M_PROGRESS=lines %s generate -v "
      .. "-o killed.h5 --count 200 %s > %s 2>&1 & echo $!; }", shell_quote(folder),
      shell_quote(bin), SMALL, shell_quote(log_path)))
    local pid = math.tointeger(tonumber(pipe:read("l")))
    pipe:close()
    assert.is_not_nil(pid)
    local text = ""
    for _ = 1, 3000 do   -- up to 30 s
      local file = io.open(log_path)
      text = file and file:read("a") or ""
      if file then file:close() end
      if text:find("sample 2 (seed 2) written", 1, true) or text:find("ERROR", 1, true) then
        break
      end
      os.execute("sleep 0.01")
    end
    os.execute(string.format("kill -9 %d 2>/dev/null; while kill -0 %d 2>/dev/null; do "
      .. "sleep 0.01; done", pid, pid))
    assert.matches("sample 2 (seed 2) written", text, 1, true)

    local ok, output = run(folder, "-o killed.h5 --count 4 " .. SMALL)
    assert.is_true(ok, output)
    assert.matches("resuming killed.h5 after %d+ complete samples", output)
    assert_same_samples(full, folder .. "/killed.h5", 4)
  end)

  it("merges two shards into one run", function()
    for _, shard in ipairs({"2/2", "1/2"}) do
      local ok, text = run(folder, "-o part.h5 --count 4 --shard " .. shard .. " " .. SMALL)
      assert.is_true(ok, text)
    end
    assert.are.equal(2, count_of(folder .. "/part.shard1of2.h5"))
    assert.are.equal(2, count_of(folder .. "/part.shard2of2.h5"))
    local ok, text = run(folder, "--merge merged.h5 part.shard2of2.h5 part.shard1of2.h5")
    assert.is_true(ok, text)
    assert_same_samples(full, folder .. "/merged.h5")
    assert.are.same(d3m.io.attributes(full), d3m.io.attributes(folder .. "/merged.h5"))
  end)

  it("rejects an incomplete list of shards", function()
    -- part.shard*of2.h5 come from the test above (busted runs tests in order).
    local ok, text = run(folder, "--merge wrong.h5 part.shard1of2.h5 part.shard1of2.h5")
    assert.is_false(ok)
    assert.matches("are both shard 1 of 2", text, 1, true)
    ok, text = run(folder, "--merge wrong.h5 part.shard1of2.h5")
    assert.is_false(ok)
    assert.matches("is shard 1 of 2, but 1 files were given", text, 1, true)
    assert.is_nil(io.open(folder .. "/wrong.h5"))
  end)

  it("merges only the complete prefix of unfinished shards", function()
    -- Shard 1 contains samples 0, 2 and 4, shard 2 only sample 1: samples
    -- 0..2 are complete and sample 4 waits for shard 2's sample 3.
    local ok, text = run(folder, "-o short.h5 --count 6 --shard 1/2 " .. SMALL)
    assert.is_true(ok, text)
    ok, text = run(folder, "-o short.h5 --count 6 --shard 2/2 --stop-after 1 " .. SMALL)
    assert.is_true(ok, text)
    ok, text = run(folder, "--merge short.h5 short.shard1of2.h5 short.shard2of2.h5")
    assert.is_true(ok, text)
    assert.matches("merging the first 3 samples only", text, 1, true)
    assert.matches("1 sample of the other shards is left out", text, 1, true)
    assert.are.equal(3, count_of(folder .. "/short.h5"))
    local merged <close> = d3m.io.dataset(folder .. "/short.h5", {mode = "r"})
    for i = 1, 3 do
      assert.are.equal(i, merged:read("seed", i))
    end
  end)

  it("rejects a changed cosmology by name", function()
    local ok, text = run(folder, "-o full.h5 --count 4 --Omega-m 0.5 " .. SMALL)
    assert.is_false(ok)
    assert.matches("Omega_m = 0.3089 in the file, 0.5 requested (--Omega-m)", text, 1, true)
    assert.are.equal(4, count_of(full))
  end)

  it("tells how to resume a set written before neutrino masses", function()
    -- Such a set has massless neutrinos and no m_nu or N_nu attribute.
    local settings = generate.settings{n = 8, box = 32, steps = 3, m_nu = 0}
    local attrs = generate.attributes(settings)
    attrs.m_nu, attrs.N_nu = nil, nil
    d3m.io.dataset(folder .. "/old.h5", {n = 8, box = 32, attrs = attrs}):close()

    local ok, text = run(folder, "-o old.h5 --count 2 " .. SMALL)
    assert.is_false(ok)
    assert.matches(string.format("sigma8 = %.10g in the file", settings.sigma8), text, 1, true)
    assert.matches("add --m-nu 0 to resume it", text, 1, true)
    ok, text = run(folder, "-o old.h5 --count 2 --m-nu 0 " .. SMALL)
    assert.is_true(ok, text)
    assert.are.equal(2, count_of(folder .. "/old.h5"))
  end)

  it("rejects a negative count with the option's message", function()
    -- Without the command-line fix argparse reads -3 as an unknown option.
    local ok, text = run(folder, "-o negative.h5 --count -3")
    assert.is_false(ok)
    assert.matches("--count must be a positive integer, got '-3'", text, 1, true)
    ok, text = run(folder, "-o negative.h5 --m-nu -0.1")
    assert.is_false(ok)
    assert.matches("--m-nu must be a number >= 0, got '-0.1'", text, 1, true)
  end)

  it("wraps its help at 80 columns", function()
    local ok, text = run(folder, "--help")
    assert.is_true(ok, text)
    for line in text:gmatch("[^\n]+") do
      assert.is_true(#line <= 80, line)
    end
    assert.matches("--m-nu", text, 1, true)
  end)

  it("simulates a tabulated power spectrum", function()
    -- A CAMB-style table of the no-wiggle fit, which EH98 is not, so the
    -- set's sigma8 shows which spectrum was used.
    local reference = d3m.cosmology{transfer = "eh98_nowiggle", m_nu = 0}
    power_table.write(folder .. "/pk.txt", reference, 240)

    local ok, text = run(folder, "-o table.h5 --count 1 --power-table pk.txt " .. SMALL)
    assert.is_true(ok, text)
    assert.matches("linear P(k) from pk.txt", text, 1, true)
    local attrs = d3m.io.attributes(folder .. "/table.h5")
    assert.are.equal("pk.txt", attrs.power_table)
    assert.is_nil(attrs.A_s)
    -- The table spans 1e-4 to 1e2 h/Mpc, so its sigma8 integral matches the
    -- fit's to the log-log interpolation error.
    assert.is_true(math.abs(attrs.sigma8 / reference:sigma8() - 1) < 1e-3, text)

    ok, text = run(folder, "-o table.h5 --count 2 " .. SMALL)
    assert.is_false(ok)
    assert.matches("power_table = pk.txt in the file, none requested (--power-table)", text, 1,
      true)
    ok, text = run(folder, "-o other.h5 --count 1 --power-table pk.txt --A-s 2e-9 " .. SMALL)
    assert.is_false(ok)
    assert.matches("A_s does not apply to it; give sigma8 to rescale the table", text, 1, true)
  end)

  it("rejects a changed shard split by name", function()
    local ok, text = run(folder, "-o full.h5 --count 4 --first-seed 7 " .. SMALL)
    assert.is_false(ok)
    assert.matches("first_seed = 1 in the file, 7 requested (--first-seed)", text, 1, true)
  end)

  it("round-trips the attributes", function()
    local ok, text = run(folder, "-o attributes.h5 --count 1 --n 8 --box 48 --steps 4 --boost 1 "
      .. "--A-s-factor 1.8 --Omega-m 0.3 --Omega-b 0.05 --h 0.7 --n-s 0.96 --a-start 0.2 "
      .. "--a-final 0.9 --first-seed 11 --m-nu 0.15 --N-nu 3")
    assert.is_true(ok, text)
    local attrs = d3m.io.attributes(folder .. "/attributes.h5")
    assert.are.equal(48, attrs.box_size)
    assert.are.equal(8, attrs.n)
    assert.are.equal(0.9, attrs.a_final)
    assert.are.equal(0.3, attrs.Omega_m)
    assert.are.equal(0.05, attrs.Omega_b)
    assert.are.equal(0.7, attrs.h)
    assert.are.equal(0.96, attrs.n_s)
    assert.are.equal(0.15, attrs.m_nu)
    assert.are.equal(3, attrs.N_nu)
    assert.are.equal("none", attrs.power_table)
    assert.are.equal(1.8 * generate.A0, attrs.A_s)
    local cosmology = d3m.cosmology{Omega_m = 0.3, Omega_b = 0.05, h = 0.7, n_s = 0.96,
      m_nu = 0.15, N_nu = 3, A_s = 1.8 * generate.A0}
    assert.are.equal(cosmology:sigma8(), attrs.sigma8)
    assert.are.equal(4, attrs.fastpm_steps)
    assert.are.equal(1, attrs.fastpm_boost)
    assert.are.equal(0.2, attrs.fastpm_a_start)
    assert.are.equal(11, attrs.first_seed)
    assert.are.equal(1, attrs.shard_index)
    assert.are.equal(1, attrs.shard_count)
    assert.are.equal("d3m " .. d3m.version, attrs.software_version)
    local set <close> = d3m.io.dataset(folder .. "/attributes.h5", {mode = "r"})
    assert.are.equal(11, set:read("seed", 1))
  end)

  it("stops on a bad sample without writing it", function()
    -- A factor of 1.0001 leaves no room for cosmic variance, so the first
    -- sample fails the linear-theory check.
    local ok, text = run(folder, "-o bad.h5 --count 2 --rms-factor 1.0001 " .. SMALL)
    assert.is_false(ok)
    assert.matches("linear theory expects", text, 1, true)
    assert.matches("sample 1 was not written", text, 1, true)
    assert.are.equal(0, count_of(folder .. "/bad.h5"))
  end)
end)


describe("d3m.generate", function()
  it("splits the indices into disjoint shards", function()
    for _, count in ipairs({0, 1, 5, 12}) do
      for shards = 1, 4 do
        local total = 0
        for index = 1, shards do
          local expected = 0
          for j = 0, count - 1 do
            if j % shards == index - 1 then expected = expected + 1 end
          end
          assert.are.equal(expected, generate.shard_size(count, index, shards))
          total = total + expected
        end
        assert.are.equal(count, total)
      end
    end
  end)

  it("names shard files", function()
    assert.are.equal("set.shard2of4.h5", generate.shard_path("set.h5", 2, 4))
    assert.are.equal("dir.v1/set.shard1of2", generate.shard_path("dir.v1/set", 1, 2))
  end)

  it("spaces the scale factors linearly", function()
    local a = generate.scale_factors(10, 0.1, 1.0)
    assert.are.equal(10, #a)
    assert.are.equal(0.1, a[1])
    assert.are.equal(1.0, a[10])
    for i = 2, 10 do
      assert.is_true(math.abs(a[i] - a[i - 1] - 0.1) < 1e-12)
    end
  end)

  it("predicts the ZA rms from the power integral", function()
    -- Independent form: sqrt(D1^2 / 3 * integral P(k) / (2 pi^2) dk) from
    -- the fundamental to the Nyquist wavenumber. The mode sum covers a
    -- cube rather than a sphere and resolves the lowest shells, which
    -- carry most of P(k)/k^2, so the two agree only to about 10 percent.
    -- A unit error (Mpc vs Mpc/h, a missing 2 pi) is a factor of 1.5 or more.
    local cosmology = d3m.cosmology{}
    local box, n, a = 128, 32, 0.5
    local k_min, k_max = 2 * math.pi / box, math.pi * n / box
    local steps, integral = 20000, 0.0
    local log_min, log_max = math.log(k_min), math.log(k_max)
    for i = 0, steps do
      local weight = (i == 0 or i == steps) and 0.5 or 1
      local k = math.exp(log_min + (log_max - log_min) * i / steps)
      integral = integral + weight * cosmology:linear_power(k) * k   -- dk = k dlnk
    end
    integral = integral * (log_max - log_min) / steps / (2 * math.pi ^ 2)
    local d1 = cosmology:growth(a)
    local expected = d1 * math.sqrt(integral / 3)
    local predicted = generate.expected_za_rms(cosmology, box, n, a)
    assert.is_true(math.abs(predicted / expected - 1) < 0.1,
      string.format("mode sum %g Mpc/h, integral %g Mpc/h", predicted, expected))
  end)

  it("rejects samples with NaN", function()
    local shape = {3, 4, 4, 4}
    local sample = {seed = 5, za = d3m.full(shape, 1.0), lpt2 = d3m.full(shape, 1.0),
      fastpm = d3m.full(shape, 1.0)}
    assert.is_truthy(generate.validate(sample, 1.0, 2.0))
    sample.fastpm:set(0 / 0, 7)
    local values, message = generate.validate(sample, 1.0, 2.0)
    assert.is_nil(values)
    assert.matches("the fastpm displacement of seed 5 contains NaN or Inf", message, 1, true)
  end)

  it("rejects samples with an implausible rms", function()
    local shape = {3, 4, 4, 4}
    local sample = {seed = 5, za = d3m.full(shape, 1.0), lpt2 = d3m.full(shape, 1.0),
      fastpm = d3m.full(shape, 3.0)}
    local values, message = generate.validate(sample, 1.0, 2.0)
    assert.is_nil(values)
    assert.matches("fastpm displacement of seed 5 has rms 3", message, 1, true)
    sample.fastpm:fill(1.0)
    values, message = generate.validate(sample, 0.4, 2.0)
    assert.is_nil(values)
    assert.matches("linear theory expects 0.4 Mpc/h", message, 1, true)
  end)
end)
