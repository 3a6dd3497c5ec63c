-- d3m.models: network definitions built from d3m.nn modules.
return {
  d3m = require "d3m.models.d3m",
}
