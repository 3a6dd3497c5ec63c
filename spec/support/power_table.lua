-- Test helper: write the P(k) of a cosmology as a two-column table in the
-- format CLASS and CAMB use (k in h/Mpc, P in (Mpc/h)^3, '#' comments).
local power_table = {}

--- Write cosmology's linear P(k) at 40 points per decade from k = 1e-4 to
-- 10^(last / 40 - 4) h/Mpc into path, after a comment and a blank line.
function power_table.write(path, cosmology, last)
  local file = assert(io.open(path, "w"))
  file:write("# k [h/Mpc]   P [(Mpc/h)^3]\n\n")
  for i = 0, last do
    local k = 1e-4 * 10 ^ (i / 40)
    file:write(string.format("%.17g %.17g\n", k, cosmology:linear_power(k)))
  end
  file:close()
end

return power_table
