-- Progress lines for long work: done/total, rate (items per second), ETA
-- and any extra fields (loss, ...). On a terminal the line is redrawn in
-- place. Elsewhere (logs, CI) a full line is printed at most every
-- `interval` seconds and at the end.
local progress = {}
progress.__index = progress

local function is_terminal(file)
  if os.getenv("D3M_PROGRESS") == "lines" then return false end
  if os.getenv("D3M_PROGRESS") == "tty" then return true end
  -- A terminal is what `test -t 2` reports for stderr; cached per process.
  if progress._tty == nil then
    local ok = os.execute("test -t 2")
    progress._tty = ok == true
  end
  return file == io.stderr and progress._tty
end

local function format_seconds(seconds)
  if seconds ~= seconds or seconds == math.huge then return "?" end
  seconds = math.floor(seconds + 0.5)
  if seconds >= 3600 then
    return string.format("%dh%02dm", seconds // 3600, seconds % 3600 // 60)
  elseif seconds >= 60 then
    return string.format("%dm%02ds", seconds // 60, seconds % 60)
  end
  return string.format("%ds", seconds)
end
progress.format_seconds = format_seconds

-- Monotonic wall-clock seconds from the runtime.
local function now()
  return require("d3m.core").time()
end
progress.now = now

--- Start a progress report.
-- options: total (items, required), label (text before the counts),
-- unit (plural noun for the rate, default "items"), interval (seconds
-- between printed lines when not on a terminal, default 10), file (default
-- io.stderr), done (items already finished, e.g. on resume).
function progress.new(options)
  assert(type(options) == "table" and options.total, "progress.new{total=...} expected")
  local self = setmetatable({
    total = options.total,
    label = options.label or "",
    unit = options.unit or "items",
    interval = options.interval or 10,
    file = options.file or io.stderr,
    start_done = options.done or 0,
    done = options.done or 0,
  }, progress)
  self.tty = is_terminal(self.file)
  self.start = now()
  self.last_print = -math.huge
  return self
end

function progress:line(fields)
  local elapsed = now() - self.start
  local rate = (self.done - self.start_done) / math.max(elapsed, 1e-9)
  local remaining = (self.total - self.done) / rate
  local parts = {string.format("%s %d/%d (%3.0f%%)", self.label, self.done, self.total,
    100 * self.done / math.max(self.total, 1))}
  parts[#parts + 1] = string.format("%.3g %s/s", rate, self.unit)
  parts[#parts + 1] = "elapsed " .. format_seconds(elapsed)
  if self.done < self.total then
    parts[#parts + 1] = "ETA " .. format_seconds(remaining)
  end
  for _, field in ipairs(fields or {}) do
    parts[#parts + 1] = field
  end
  return table.concat(parts, "  ")
end

--- Record that `done` items are finished; fields is a list of extra strings
-- such as "loss 1.2e-3".
function progress:update(done, fields)
  self.done = done
  local t = now()
  local finished = done >= self.total
  if self.tty then
    self.file:write("\r", self:line(fields), "\027[K", finished and "\n" or "")
    self.file:flush()
  elseif finished or t - self.last_print >= self.interval then
    self.file:write(self:line(fields), "\n")
    self.file:flush()
    self.last_print = t
  end
end

return progress
