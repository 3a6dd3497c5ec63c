-- Timestamped log lines to stderr and, once a file is set, to that file
-- too, so a long run leaves a record of what it did.
local log = {file = nil}

local function write(level, format, ...)
  local text = select("#", ...) > 0 and string.format(format, ...) or tostring(format)
  local line = string.format("%s %s %s\n", os.date("!%Y-%m-%dT%H:%M:%SZ"), level, text)
  io.stderr:write(line)
  if log.file then
    log.file:write(line)
    log.file:flush()
  end
end

--- Also append every later line to the file at path.
function log.to_file(path)
  local file, err = io.open(path, "a")
  if not file then
    error(string.format("cannot open the log file %s: %s", path, err), 2)
  end
  log.file = file
end

function log.info(format, ...) write("INFO", format, ...) end
function log.warn(format, ...) write("WARN", format, ...) end
function log.error(format, ...) write("ERROR", format, ...) end

return log
