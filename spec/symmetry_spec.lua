-- The 48 cube symmetries used for augmentation, against a host loop that
-- applies the signed permutation matrix in the forward direction.
local d3m = require "d3m"
local ops = d3m.ops

local function random_values(count, seed)
  local state, values = seed, {}
  for i = 1, count do
    state = (state * 1103515245 + 12345) % 2147483648
    -- rounded to float32 so that device results compare exactly
    values[i] = string.unpack("f", string.pack("f", state / 2147483648 - 0.5))
  end
  return values
end

-- Flat 1-based index of [sample, channel, i0, i1, i2] (0-based arguments).
local function at(n, channels, s, c, i)
  return (((s * channels + c) * n + i[1]) * n + i[2]) * n + i[3] + 1
end

-- Host reference: y = R x with R_ab = s_a delta(b, p(a)); out(y) = R in(x)
-- for vector fields, out(y) = in(x) for scalar channels.
local function host_symmetry(values, samples, channels, n, k, vector)
  local perm, sign = ops.cube_symmetry_parts(k)
  local out = {}
  for s = 0, samples - 1 do
    for c = 0, channels - 1 do
      for i0 = 0, n - 1 do
        for i1 = 0, n - 1 do
          for i2 = 0, n - 1 do
            local x = {i0, i1, i2}
            local y = {}
            for a = 1, 3 do
              y[a] = (sign[a] * x[perm[a] + 1]) % n
            end
            if vector then
              -- component a of the output comes from component p(a)
              for a = 1, 3 do
                if perm[a] == c then
                  out[at(n, channels, s, a - 1, y)] = sign[a] * values[at(n, channels, s, c, x)]
                end
              end
            else
              out[at(n, channels, s, c, y)] = values[at(n, channels, s, c, x)]
            end
          end
        end
      end
    end
  end
  return out
end

-- Periodic central-difference gradient of a scalar [1, 1, n, n, n] field.
local function gradient(values, n)
  local out = {}
  for i0 = 0, n - 1 do
    for i1 = 0, n - 1 do
      for i2 = 0, n - 1 do
        local x = {i0, i1, i2}
        for d = 1, 3 do
          local up, down = {i0, i1, i2}, {i0, i1, i2}
          up[d] = (x[d] + 1) % n
          down[d] = (x[d] - 1) % n
          out[at(n, 3, 0, d - 1, x)] = (values[at(n, 1, 0, 0, up)] - values[at(n, 1, 0, 0, down)]) / 2
        end
      end
    end
  end
  return out
end

describe("cube symmetry", function()
  local n = 4

  it("matches the host loop for vector and scalar fields", function()
    local vector_values = random_values(2 * 3 * n ^ 3, 1)
    local scalar_values = random_values(2 * 2 * n ^ 3, 2)
    local vector_field = d3m.from_table(vector_values, {2, 3, n, n, n})
    local scalar_field = d3m.from_table(scalar_values, {2, 2, n, n, n})
    for k = 0, 47 do
      -- Pure data movement and sign flips: results are exact.
      assert.are.same(host_symmetry(vector_values, 2, 3, n, k, true),
        ops.cube_symmetry(vector_field, k, {vector = true}):to_table(), "vector k = " .. k)
      assert.are.same(host_symmetry(scalar_values, 2, 2, n, k, false),
        ops.cube_symmetry(scalar_field, k, {vector = false}):to_table(), "scalar k = " .. k)
    end
  end)

  it("has 48 distinct elements, each undone by its inverse", function()
    local field = d3m.from_table(random_values(3 * n ^ 3, 3), {3, n, n, n})
    local seen = {}
    for k = 0, 47 do
      local image = ops.cube_symmetry(field, k, {vector = true})
      local key = image:to_string()
      assert.is_nil(seen[key], "symmetries " .. tostring(seen[key]) .. " and " .. k .. " coincide")
      seen[key] = k
      local back = ops.cube_symmetry(image, ops.cube_symmetry_inverse(k), {vector = true})
      assert.are.equal(field:to_string(), back:to_string(), "inverse of " .. k)
    end
    assert.are.equal(0, ops.cube_symmetry_inverse(0))
  end)

  it("commutes with the gradient of a scalar potential", function()
    local phi_values = random_values(n ^ 3, 4)
    local phi = d3m.from_table(phi_values, {1, 1, n, n, n})
    local psi = d3m.from_table(gradient(phi_values, n), {1, 3, n, n, n})
    for k = 0, 47 do
      local rotated_phi = ops.cube_symmetry(phi, k):to_table()
      local expected = gradient(rotated_phi, n)
      local got = ops.cube_symmetry(psi, k, {vector = true}):to_table()
      -- The same float subtractions in both orders: at most one rounding.
      for i = 1, #expected do
        assert.is_true(math.abs(expected[i] - got[i]) <= 1e-7, "k = " .. k .. " at " .. i)
      end
    end
  end)

  it("leaves a cube-symmetric field and its gradient unchanged", function()
    local values = {}
    for i0 = 0, n - 1 do
      for i1 = 0, n - 1 do
        for i2 = 0, n - 1 do
          values[at(n, 1, 0, 0, {i0, i1, i2})] = math.cos(2 * math.pi * i0 / n)
            + math.cos(2 * math.pi * i1 / n) + math.cos(2 * math.pi * i2 / n)
        end
      end
    end
    local phi = d3m.from_table(values, {1, 1, n, n, n})
    local psi = d3m.from_table(gradient(values, n), {1, 3, n, n, n})
    for k = 0, 47 do
      assert.is_true((ops.cube_symmetry(phi, k) - phi):max_abs() < 1e-6, "scalar k = " .. k)
      assert.is_true((ops.cube_symmetry(psi, k, {vector = true}) - psi):max_abs() < 1e-6,
        "vector k = " .. k)
    end
  end)

  it("rejects bad indices and shapes", function()
    local ok, err = pcall(ops.cube_symmetry, d3m.zeros{3, n, n, n}, 48)
    assert.is_false(ok)
    assert.matches("outside 0..47", err, 1, true)
    ok, err = pcall(ops.cube_symmetry, d3m.zeros{3, n, n, 2 * n}, 1)
    assert.is_false(ok)
    assert.matches("the mesh must be cubic, got [3, 4, 4, 8]", err, 1, true)
    ok, err = pcall(ops.cube_symmetry, d3m.zeros{2, n, n, n}, 1, {vector = true})
    assert.is_false(ok)
    assert.matches("a vector field has 3 components, got 2 channels", err, 1, true)
  end)
end)
