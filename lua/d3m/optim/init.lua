-- d3m.optim: optimisers over d3m.nn parameters.
return {
  adam = require "d3m.optim.adam",
}
