-- Test helper: the D3M network's forward pass written again in plain Lua
-- with double precision, for whole-model gradient checks. Central
-- differences of this host forward with h ~ 1e-6 are free of float32
-- rounding, and steps that small cross no ReLU kink, so they can judge
-- the device's analytic gradients tightly.
--
-- Activations are flat 1-based arrays in [N, C, D, H, W] order with a shape
-- table {N, C, D, H, W}. Parameters come from model:state_dict() as flat
-- tables. The layer definitions are written from the model's description
-- (periodic padding, the transposed step y[2m] = w1 x[m],
-- y[2m+1] = w0 x[m+1 mod n] + w2 x[m] per axis), not from the device code.
local reference = {}

local function volume(shape)
  return shape[3] * shape[4] * shape[5]
end

-- For each of the k^3 taps, the list of source voxel offsets (0-based) of
-- every output voxel: map[tap][v] for output voxel v (1-based).
local function tap_maps(in_shape, out_shape, k, source_index)
  local maps = {}
  local di, hi, wi = in_shape[3], in_shape[4], in_shape[5]
  local dout, hout, wout = out_shape[3], out_shape[4], out_shape[5]
  for a = 0, k - 1 do
    for b = 0, k - 1 do
      for c = 0, k - 1 do
        local map, v = {}, 0
        for z = 0, dout - 1 do
          for y = 0, hout - 1 do
            for x = 0, wout - 1 do
              v = v + 1
              local sz = source_index(z, a, di)
              local sy = source_index(y, b, hi)
              local sx = source_index(x, c, wi)
              map[v] = (sz * hi + sy) * wi + sx
            end
          end
        end
        maps[#maps + 1] = map
      end
    end
  end
  return maps
end

--- Periodic 3-D convolution: k = 3 pads every axis by one voxel
-- periodically, k = 1 does not pad. weight [cout, cin, k, k, k].
function reference.conv3d(x, shape, weight, bias, cout, k, stride)
  local n, cin = shape[1], shape[2]
  local out_shape = {n, cout, (shape[3] - 1) // stride + 1, (shape[4] - 1) // stride + 1,
                     (shape[5] - 1) // stride + 1}
  local pad = (k - 1) // 2
  local maps = tap_maps(shape, out_shape, k, function(i, tap, extent)
    return (i * stride + tap - pad) % extent
  end)
  local vin, vout, taps = volume(shape), volume(out_shape), k * k * k
  local y = {}
  for s = 0, n - 1 do
    for o = 0, cout - 1 do
      local ob = (s * cout + o) * vout
      for v = 1, vout do
        y[ob + v] = bias[o + 1]
      end
      for i = 0, cin - 1 do
        local ib = (s * cin + i) * vin + 1
        for t = 1, taps do
          local w = weight[(o * cin + i) * taps + t]
          local map = maps[t]
          for v = 1, vout do
            y[ob + v] = y[ob + v] + w * x[ib + map[v]]
          end
        end
      end
    end
  end
  return y, out_shape
end

--- The periodic stride-2 transposed convolution, weight [cin, cout, 3, 3, 3]:
-- per axis, output 2m takes tap 1 at m, output 2m+1 takes tap 0 at m+1
-- (periodic) and tap 2 at m.
function reference.conv_transpose3d(x, shape, weight, bias, cout)
  local n, cin = shape[1], shape[2]
  local out_shape = {n, cout, 2 * shape[3], 2 * shape[4], 2 * shape[5]}
  -- Per axis and output parity: list of {tap, source offset}.
  local terms = {[0] = {{1, 0}}, [1] = {{0, 1}, {2, 0}}}
  local vin, vout = volume(shape), volume(out_shape)
  local di, hi, wi = shape[3], shape[4], shape[5]
  local y = {}
  for s = 0, n - 1 do
    for o = 0, cout - 1 do
      local ob = (s * cout + o) * vout
      local v = 0
      for z = 0, out_shape[3] - 1 do
        for yy = 0, out_shape[4] - 1 do
          for xx = 0, out_shape[5] - 1 do
            v = v + 1
            local acc = bias[o + 1]
            for _, tz in ipairs(terms[z % 2]) do
              local sz = (z // 2 + tz[2]) % di
              for _, ty in ipairs(terms[yy % 2]) do
                local sy = (yy // 2 + ty[2]) % hi
                for _, tx in ipairs(terms[xx % 2]) do
                  local sx = (xx // 2 + tx[2]) % wi
                  local tap = (tz[1] * 3 + ty[1]) * 3 + tx[1]
                  local src = (sz * hi + sy) * wi + sx
                  for i = 0, cin - 1 do
                    acc = acc + weight[(i * cout + o) * 27 + tap + 1] * x[(s * cin + i) * vin + src + 1]
                  end
                end
              end
            end
            y[ob + v] = acc
          end
        end
      end
    end
  end
  return y, out_shape
end

--- 1x1x1 transposed convolution, weight [cin, cout, 1, 1, 1].
function reference.pointwise(x, shape, weight, bias, cout)
  local n, cin, vol = shape[1], shape[2], volume(shape)
  local y = {}
  for s = 0, n - 1 do
    for o = 0, cout - 1 do
      for v = 1, vol do
        local acc = bias[o + 1]
        for i = 0, cin - 1 do
          acc = acc + weight[i * cout + o + 1] * x[(s * cin + i) * vol + v]
        end
        y[(s * cout + o) * vol + v] = acc
      end
    end
  end
  return y, {n, cout, shape[3], shape[4], shape[5]}
end

--- Batch norm with batch statistics (training = true; biased variance) or
-- the given running statistics.
function reference.batchnorm(x, shape, p, training)
  local n, c, vol = shape[1], shape[2], volume(shape)
  local y = {}
  for ch = 0, c - 1 do
    local mean, var = p.running_mean[ch + 1], p.running_var[ch + 1]
    if training then
      local sum, count = 0, n * vol
      for s = 0, n - 1 do
        local base = (s * c + ch) * vol
        for v = 1, vol do
          sum = sum + x[base + v]
        end
      end
      mean = sum / count
      local sq = 0
      for s = 0, n - 1 do
        local base = (s * c + ch) * vol
        for v = 1, vol do
          local d = x[base + v] - mean
          sq = sq + d * d
        end
      end
      var = sq / count
    end
    local scale = p.weight[ch + 1] / math.sqrt(var + 1e-5)
    for s = 0, n - 1 do
      local base = (s * c + ch) * vol
      for v = 1, vol do
        y[base + v] = (x[base + v] - mean) * scale + p.bias[ch + 1]
      end
    end
  end
  return y
end

function reference.relu(x)
  local y = {}
  for i = 1, #x do
    y[i] = x[i] > 0 and x[i] or 0
  end
  return y
end

function reference.concat(a, a_shape, b, b_shape)
  local n, vol = a_shape[1], volume(a_shape)
  local ca, cb = a_shape[2], b_shape[2]
  local y, k = {}, 0
  for s = 0, n - 1 do
    for i = 1, ca * vol do
      k = k + 1
      y[k] = a[s * ca * vol + i]
    end
    for i = 1, cb * vol do
      k = k + 1
      y[k] = b[s * cb * vol + i]
    end
  end
  return y, {n, ca + cb, a_shape[3], a_shape[4], a_shape[5]}
end

-- Parameters of the state under prefix as {weight=, bias=, ...}.
local function group(state, prefix)
  return setmetatable({}, {__index = function(_, key)
    return state[prefix .. "." .. key]
  end})
end

local function block(state, prefix, x, shape, stride, training)
  local conv = group(state, prefix .. ".conv1")
  local cout = #conv.bias
  local y, s = reference.conv3d(x, shape, conv.weight, conv.bias, cout, 3, stride)
  y = reference.relu(reference.batchnorm(y, s, group(state, prefix .. ".bn1"), training))
  return y, s
end

local function layer(state, name, blocks, x, shape, stride, training)
  for i = 0, blocks - 1 do
    x, shape = block(state, name .. "." .. i, x, shape, i == 0 and stride or 1, training)
  end
  return x, shape
end

--- The D3M forward pass. state: name -> flat table of numbers (the model's
-- state_dict converted with to_table); x: flat input [N, 3, n, n, n].
-- Returns the flat output and its shape.
function reference.d3m(state, x, shape, training)
  local x1, s1 = layer(state, "layer1", 2, x, shape, 1, training)
  local h, sh = layer(state, "layer2", 1, x1, s1, 2, training)
  local x2, s2 = layer(state, "layer3", 2, h, sh, 1, training)
  h, sh = layer(state, "layer4", 1, x2, s2, 2, training)
  h, sh = layer(state, "layer5", 2, h, sh, 1, training)

  local up = group(state, "deconv1")
  h, sh = reference.conv_transpose3d(h, sh, up.weight, up.bias, #up.bias)
  h = reference.relu(reference.batchnorm(h, sh, group(state, "deconv_batchnorm1"), training))
  h, sh = reference.concat(h, sh, x2, s2)
  h, sh = layer(state, "layer6", 2, h, sh, 1, training)

  up = group(state, "deconv2")
  h, sh = reference.conv_transpose3d(h, sh, up.weight, up.bias, #up.bias)
  h = reference.relu(reference.batchnorm(h, sh, group(state, "deconv_batchnorm2"), training))
  h, sh = reference.concat(h, sh, x1, s1)
  h, sh = layer(state, "layer7", 2, h, sh, 1, training)

  local out = group(state, "deconv4")
  return reference.pointwise(h, sh, out.weight, out.bias, #out.bias)
end

return reference
