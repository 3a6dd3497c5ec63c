-- The output folder of d3m evaluate: table.md, table.csv, the PNG figures
-- and report.md, which contains the table and links the figures.
local tables = require "d3m.evaluate.tables"
local figures = require "d3m.evaluate.figures"

local report = {}


local function make_folder(folder)
  local quoted = "'" .. folder:gsub("'", "'\\''") .. "'"
  if not os.execute("mkdir -p " .. quoted) then
    error(string.format("cannot create the output folder '%s'", folder), 0)
  end
end


local function basename(path)
  return path:match("([^/]+)$")
end


local function figure_lines(written)
  local lines = {}
  local function add(title, paths)
    if type(paths) == "string" then
      paths = {paths}
    end
    lines[#lines + 1] = "### " .. title
    lines[#lines + 1] = ""
    for _, path in ipairs(paths) do
      local name = basename(path)
      lines[#lines + 1] = string.format("![%s](%s)", name, name)
    end
    lines[#lines + 1] = ""
  end
  add("Density: P(k), T(k) and 1 - r^2", written.power_density)
  add("Displacement: P(k), T(k) and 1 - r^2", written.power_displacement)
  add("Particles in a slab", written.slices)
  add("Displacement error in the slab", written.errors)
  if written.zeta then
    add("3PCF multipoles", written.zeta)
  end
  return lines
end


--- Describe the evaluated set in one line: its size, and the cosmology and
-- FastPM settings among its root attributes.
function report.set_description(results)
  local attrs = results.attributes or {}
  local parts = {}
  local function add(format, ...)
    for i = 1, select("#", ...) do
      if select(i, ...) == nil then
        return
      end
    end
    parts[#parts + 1] = string.format(format, ...)
  end
  add("Omega_m %g", attrs.Omega_m)
  add("Omega_b %g", attrs.Omega_b)
  add("h %g", attrs.h)
  add("n_s %g", attrs.n_s)
  if attrs.m_nu ~= nil and attrs.m_nu > 0 and attrs.N_nu ~= nil then
    add("m_nu %g eV in %d species", attrs.m_nu, attrs.N_nu)
  else
    add("m_nu %g eV", attrs.m_nu)
  end
  if attrs.power_table ~= nil and attrs.power_table ~= "none" then
    add("linear P(k) from %s", attrs.power_table)
  end
  add("A_s %.4g", attrs.A_s)
  add("sigma8 %.4f", attrs.sigma8)
  add("a_final %g", attrs.a_final)
  add("FastPM %d scale factors from a = %g, boost %d", attrs.fastpm_steps,
    attrs.fastpm_a_start, attrs.fastpm_boost)
  local text = string.format("Test set: %s, %d simulations of %d^3 particles in %g Mpc/h.",
    results.dataset or "?", #(results.samples or {}), results.n or 0, results.box or 0)
  if #parts > 0 then
    text = text .. " " .. table.concat(parts, ", ") .. "."
  end
  return text
end


--- Write every output of results into folder (created when missing).
-- opts.figures = false skips the PNGs; opts.command (text) is quoted in
-- report.md so the run can be repeated. Returns {markdown=, csv=, report=,
-- figures=} with the paths written.
function report.write(results, folder, opts)
  opts = opts or {}
  make_folder(folder)
  local markdown = tables.markdown(results)
  local written = {
    markdown = tables.write_atomic(folder .. "/table.md", markdown),
    csv = tables.write_atomic(folder .. "/table.csv", tables.csv(results)),
  }
  local lines = {"# D3M evaluation against FastPM", "",
    "Table 1 of He et al. (2019, PNAS 116, 13825) recomputed with d3m evaluate.", ""}
  if opts.command then
    lines[#lines + 1] = "    " .. opts.command
    lines[#lines + 1] = ""
  end
  lines[#lines + 1] = report.set_description(results)
  lines[#lines + 1] = ""
  lines[#lines + 1] = markdown
  if opts.figures ~= false then
    written.figures = figures.write_all(results, folder)
    lines[#lines + 1] = "## Figures"
    lines[#lines + 1] = ""
    for _, line in ipairs(figure_lines(written.figures)) do
      lines[#lines + 1] = line
    end
  end
  written.report = tables.write_atomic(folder .. "/report.md", table.concat(lines, "\n"))
  return written
end


return report
