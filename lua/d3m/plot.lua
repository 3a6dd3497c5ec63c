-- PNG figures through gnuplot (Debian's gnuplot-nox): line plots with
-- several series, stacked panels sharing an x axis, point clouds and 2D
-- maps. Data go through temporary files; the PNG is written to a
-- temporary name and renamed, so a failed plot leaves no partial file.
local plot = {}

local function quote(text)
  return '"' .. tostring(text):gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

local function check_gnuplot()
  if plot._gnuplot == nil then
    plot._gnuplot = os.execute("command -v gnuplot >/dev/null 2>&1") == true
  end
  if not plot._gnuplot then
    error("gnuplot not found: install it (apt-get install gnuplot-nox) to write figures", 3)
  end
end

-- Write the columns of one series to a data file; rows with a non-finite
-- value are skipped (gnuplot cannot draw them, and log axes reject <= 0).
local function write_series(series, logx, logy)
  local path = os.tmpname()
  local file = assert(io.open(path, "w"))
  local x, y = series.x, series.y
  if #x ~= #y then
    error(string.format("plot series '%s': %d x values but %d y values", series.label or "?", #x, #y), 3)
  end
  for i = 1, #x do
    local xi, yi = x[i], y[i]
    local finite = xi == xi and yi == yi and math.abs(xi) ~= math.huge and math.abs(yi) ~= math.huge
    if finite and (not logx or xi > 0) and (not logy or yi > 0) then
      file:write(string.format("%.9g %.9g\n", xi, yi))
    end
  end
  file:close()
  return path
end

-- gnuplot commands for one panel; temporary data paths go into `files`.
local function panel_commands(panel, files)
  local lines = {}
  local function add(...) lines[#lines + 1] = string.format(...) end
  add("set title %s", quote(panel.title or ""))
  add("set xlabel %s", quote(panel.xlabel or ""))
  add("set ylabel %s", quote(panel.ylabel or ""))
  add(panel.logx and "set logscale x" or "unset logscale x")
  add(panel.logy and "set logscale y" or "unset logscale y")
  add("set key %s", panel.key or "top right")
  if panel.xrange then add("set xrange [%s:%s]", panel.xrange[1] or "*", panel.xrange[2] or "*")
  else add("set xrange [*:*]") end
  if panel.yrange then add("set yrange [%s:%s]", panel.yrange[1] or "*", panel.yrange[2] or "*")
  else add("set yrange [*:*]") end

  local terms = {}
  for _, series in ipairs(panel.series or {}) do
    local path = write_series(series, panel.logx, panel.logy)
    files[#files + 1] = path
    terms[#terms + 1] = string.format("%s using 1:2 with %s title %s", quote(path),
      series.style or "linespoints", quote(series.label or ""))
  end
  for _, line in ipairs(panel.hlines or {}) do
    terms[#terms + 1] = string.format("%.9g with lines dashtype 2 linecolor rgb 'gray' notitle", line)
  end
  if #terms == 0 then
    error("plot panel '" .. tostring(panel.title) .. "' has no series", 3)
  end
  add("plot %s", table.concat(terms, ", \\\n     "))
  return table.concat(lines, "\n")
end

local function run_gnuplot(path, width, height, body, files)
  local temporary = path .. ".tmp.png"
  local script = os.tmpname()
  local file = assert(io.open(script, "w"))
  file:write(string.format("set terminal pngcairo size %d,%d noenhanced font ',10'\n", width, height))
  file:write("set output ", quote(temporary), "\n", body, "\nunset output\n")
  file:close()

  local log = os.tmpname()
  local ok = os.execute(string.format("gnuplot %s >%s 2>&1", quote(script), quote(log)))
  local log_file = io.open(log)
  local message = log_file and log_file:read("a") or ""
  if log_file then log_file:close() end
  for _, f in ipairs(files) do os.remove(f) end
  os.remove(script)
  os.remove(log)
  if not ok then
    os.remove(temporary)
    error(string.format("gnuplot failed writing %s: %s", path, message), 3)
  end
  local renamed, err = os.rename(temporary, path)
  if not renamed then
    error(string.format("cannot write %s: %s", path, err), 3)
  end
  return path
end

--- Write a line plot. spec: path, title, xlabel, ylabel, logx, logy, key,
-- xrange, yrange ({lo, hi}, nil for automatic), hlines (y values of dashed
-- reference lines), series = {{x=, y=, label=, style=}}, width, height (px).
function plot.lines(spec)
  check_gnuplot()
  local files = {}
  local body = panel_commands(spec, files)
  return run_gnuplot(spec.path, spec.width or 800, spec.height or 600, body, files)
end

--- Write stacked panels sharing the x axis (like a P(k) plot with T(k) and
-- 1 - r^2 below it). spec: path, panels = {panel specs as for lines, with
-- an optional `height` fraction}, width, height.
function plot.panels(spec)
  check_gnuplot()
  local files, parts = {}, {}
  local count = #spec.panels
  local fractions, total = {}, 0
  for i, panel in ipairs(spec.panels) do
    fractions[i] = panel.height or 1
    total = total + fractions[i]
  end
  parts[#parts + 1] = "set multiplot"
  local top = 1.0
  for i, panel in ipairs(spec.panels) do
    local h = fractions[i] / total
    parts[#parts + 1] = string.format("set origin 0,%.6f\nset size 1,%.6f", top - h, h)
    parts[#parts + 1] = panel_commands(panel, files)
    top = top - h
  end
  parts[#parts + 1] = "unset multiplot"
  return run_gnuplot(spec.path, spec.width or 800, spec.height or 300 * count,
    table.concat(parts, "\n"), files)
end

--- Write a 2D map of a matrix (rows of equal length, row 1 at the bottom).
-- spec: path, title, xlabel, ylabel, matrix, extent = {x0, x1, y0, y1}
-- (data coordinates of the map's edges), cblabel, cbrange = {lo, hi} (the
-- colour scale, automatic when absent), width, height.
function plot.map(spec)
  check_gnuplot()
  local rows = spec.matrix
  local ny, nx = #rows, #rows[1]
  local extent = spec.extent or {0, nx, 0, ny}
  local dx, dy = (extent[2] - extent[1]) / nx, (extent[4] - extent[3]) / ny
  local data = os.tmpname()
  local file = assert(io.open(data, "w"))
  for j = 1, ny do
    if #rows[j] ~= nx then
      error(string.format("plot.map: row %d has %d values, row 1 has %d", j, #rows[j], nx), 2)
    end
    for i = 1, nx do
      file:write(string.format("%.9g %.9g %.9g\n", extent[1] + (i - 0.5) * dx,
        extent[3] + (j - 0.5) * dy, rows[j][i]))
    end
    file:write("\n")
  end
  file:close()
  local body = table.concat({
    "set title " .. quote(spec.title or ""),
    "set xlabel " .. quote(spec.xlabel or ""),
    "set ylabel " .. quote(spec.ylabel or ""),
    "set cblabel " .. quote(spec.cblabel or ""),
    spec.cbrange and string.format("set cbrange [%.9g:%.9g]", spec.cbrange[1], spec.cbrange[2])
      or "set cbrange [*:*]",
    string.format("set xrange [%.9g:%.9g]\nset yrange [%.9g:%.9g]", extent[1], extent[2], extent[3], extent[4]),
    "set size ratio -1",
    "set palette rgbformulae 33,13,10",
    "plot " .. quote(data) .. " using 1:2:3 with image notitle",
  }, "\n")
  return run_gnuplot(spec.path, spec.width or 700, spec.height or 600, body, {data})
end

return plot
