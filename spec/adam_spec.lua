-- d3m.optim.adam against the closed form of Adam's first steps. With zero
-- initial moments and a constant gradient g, the bias-corrected moments are
-- exactly g and g^2 at every step, so each step moves a parameter by
-- lr g / (|g| + eps) (plus the weight-decay terms).
local d3m = require "d3m"

local function entry(values, grads)
  return {param = d3m.from_table(values, {#values}), grad = d3m.from_table(grads, {#grads})}
end

-- float32 parameters of O(1) after steps of 0.1: 1e-6 absolute is a few ulp.
local TOL = 1e-6

local function assert_close(expected, got, tol, what)
  for i = 1, #expected do
    assert.is_true(math.abs(got[i] - expected[i]) <= tol,
                   string.format("%s[%d]: got %.9g, expected %.9g", what, i, got[i], expected[i]))
  end
end

local P0 = {0.5, -1.25, 2.0, 0.0, 1.0}
local G = {0.3, -0.7, 1e-8, 2.0, -1e-3}

local function closed_form(lr, eps, wd, decoupled)
  local expected = {}
  for i, p in ipairs(P0) do
    local g = G[i]
    if decoupled then
      p = p * (1 - lr * wd)
    else
      g = g + wd * p
    end
    expected[i] = p - lr * g / (math.abs(g) + eps)
  end
  return expected
end

describe("d3m.optim.adam", function()
  it("takes one step as the closed form", function()
    local e = entry(P0, G)
    local opt = d3m.optim.adam({e}, {lr = 0.1, weight_decay = 0, eps = 1e-8})
    opt:step()
    assert_close(closed_form(0.1, 1e-8, 0, false), e.param:to_table(), TOL, "param")
  end)

  it("adds L2 weight decay to the gradient", function()
    local e = entry(P0, G)
    d3m.optim.adam({e}, {lr = 0.1, weight_decay = 0.5}):step()
    assert_close(closed_form(0.1, 1e-8, 0.5, false), e.param:to_table(), TOL, "param")
  end)

  it("decays parameters directly when decoupled", function()
    local e = entry(P0, G)
    d3m.optim.adam({e}, {lr = 0.1, weight_decay = 0.5, decoupled = true}):step()
    assert_close(closed_form(0.1, 1e-8, 0.5, true), e.param:to_table(), TOL, "param")
  end)

  it("keeps the step size under a constant gradient", function()
    -- Step 2 checks the bias corrections 1 - beta^2.
    local e = entry(P0, G)
    local opt = d3m.optim.adam({e}, {lr = 0.1, weight_decay = 0, betas = {0.8, 0.99}})
    opt:step()
    opt:step()
    local expected = {}
    for i, p in ipairs(P0) do
      expected[i] = p - 2 * 0.1 * G[i] / (math.abs(G[i]) + 1e-8)
    end
    assert_close(expected, e.param:to_table(), 2 * TOL, "param")
    assert.are.equal(2, opt:state_dict().step)
  end)

  it("uses the paper's defaults", function()
    local opt = d3m.optim.adam({entry({1}, {1})})
    assert.are.equal(1e-4, opt.lr)
    assert.are.equal(0.9, opt.beta1)
    assert.are.equal(0.999, opt.beta2)
    assert.are.equal(1e-8, opt.eps)
    assert.are.equal(1e-4, opt.weight_decay)
    assert.is_false(opt.decoupled)
  end)

  it("continues identically after a state_dict round trip", function()
    local a = entry(P0, G)
    local opt_a = d3m.optim.adam({a}, {lr = 0.05})
    opt_a:step()
    a.grad:copy_from(d3m.from_table({-0.1, 0.2, 0.3, -0.4, 0.5}, {5}))
    opt_a:step()

    -- A second optimiser on a copy of the parameters, loaded from copies of
    -- the first one's moments.
    local b = {param = a.param:copy(), grad = a.grad:copy()}
    local opt_b = d3m.optim.adam({b}, {lr = 0.05})
    local state = opt_a:state_dict()
    opt_b:load_state_dict({step = state.step, exp_avg = {["1"] = state.exp_avg["1"]:to_table()},
                           exp_avg_sq = {["1"] = state.exp_avg_sq["1"]:copy()}})
    opt_a:step()
    opt_b:step()
    assert.are.same(a.param:to_table(), b.param:to_table())
    assert.are.equal(3, opt_b.step_count)
  end)

  it("takes a module's parameters and zeroes their gradients", function()
    local bn = d3m.nn.BatchNorm3d(2)
    bn.grad_weight:fill(1)
    local opt = d3m.optim.adam(bn, {lr = 0.1, weight_decay = 0})
    opt:step()
    assert.are.same({"weight", "bias"}, opt.names)
    assert_close({0.9, 0.9}, bn.weight:to_table(), TOL, "weight")
    opt:zero_grad()
    assert.are.same({0, 0}, bn.grad_weight:to_table())
  end)

  it("rejects invalid settings", function()
    assert.has_error(function() d3m.optim.adam({entry({1}, {1})}, {lr = -1}) end,
                     "d3m.optim.adam: lr must be a number in [0, inf], got -1")
    assert.has_error(function() d3m.optim.adam({}) end)
    local opt = d3m.optim.adam({entry({1}, {1})})
    assert.has_error(function() opt:load_state_dict({step = 1, exp_avg = {}, exp_avg_sq = {}}) end,
                     "adam:load_state_dict: exp_avg of parameter '1' is missing")
  end)
end)
