-- wrk script for bench_front: one ready-made raw request (a file, the first argument), sent again
-- and again on every connection; at the end one JSON line with the requests answered and the errors.
local raw

function init(args)
  local file = assert(io.open(args[1], "rb"))
  raw = file:read("*a")
  file:close()
end

function request()
  return raw
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format('{"requests": %d, "errors": %d}\n', summary.requests,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
