-- wrk script for bench_audience: one kind of the webcast page's requests (streaming/bench/audience_load.py).
-- Arguments: the mean interval between a connection's requests (ms), a file of ready-made raw
-- requests separated by NUL bytes (one a viewer, taken in turn), a seed, the number of
-- connections of a thread (each wrk thread runs this script on its own), a file whose first line names the newest segment or part, put in place of
-- @NEWEST@ (re-read once a second; "-" for none), and "blocking" or "paced".
--
-- "blocking" is hls.js's low-latency reload: each request asks for the part after the newest one
-- a playlist answer hinted at (EXT-X-PRELOAD-HINT), with _HLS_msn and _HLS_part in place of
-- @WAIT@ (nothing before the first answer), and is sent as soon as the last was answered: the
-- server holds it until that part is published.
local requests, count, turn, interval_ms, newest_file, newest, checked = {}, 0, 1, 1000, nil, "", -1
local starting, blocking, hinted_msn, hinted_part = 0, false, nil, nil

function init(args)
  interval_ms = tonumber(args[1])
  local file = assert(io.open(args[2], "rb"))
  local all = file:read("*a")
  file:close()
  for raw in string.gmatch(all, "([^%z]+)") do
    count = count + 1
    requests[count] = raw
  end
  math.randomseed(tonumber(args[3]))
  turn = math.random(count)
  starting = tonumber(args[4])
  if args[5] ~= "-" then
    newest_file = args[5]
  end
  blocking = args[6] == "blocking"
end

-- wrk asks for a delay before every request, a connection's first included. The first ones are
-- spread over a whole interval (viewers arrive at any moment); each later wait is drawn between
-- half and one and a half of the mean, so connections drift apart as a crowd of viewers would,
-- instead of firing in step. A blocking reload does not wait here: the server holds it.
function delay()
  if starting > 0 then
    starting = starting - 1
    return interval_ms * math.random()
  end
  if blocking then
    return 0
  end
  return interval_ms * (0.5 + math.random())
end

function request()
  local raw = requests[turn]
  turn = turn % count + 1
  if newest_file then
    local now = os.time()
    if now ~= checked then
      checked = now
      local file = io.open(newest_file, "rb")
      if file then
        newest = file:read("*l") or newest
        file:close()
      end
    end
    raw = string.gsub(raw, "@NEWEST@", newest, 1)
  end
  if blocking then
    local directives = ""
    if hinted_msn then
      directives = string.format("?_HLS_msn=%d&_HLS_part=%d", hinted_msn, hinted_part)
    end
    raw = string.gsub(raw, "@WAIT@", directives, 1)
  end
  return raw
end

-- The hint is the playlist's last line; the newest hint any viewer of this thread was given is
-- where every viewer's next reload asks to be (they all follow the same live edge). An older
-- answer (one that waited longer) changes nothing.
function response(status, headers, body)
  if not blocking or status ~= 200 then
    return
  end
  local msn, part = string.match(body, 'PRELOAD%-HINT:TYPE=PART,URI="part_(%d+)_(%d+)%.ts"', -160)
  if msn then
    msn, part = tonumber(msn), tonumber(part)
    if not hinted_msn or msn > hinted_msn or (msn == hinted_msn and part > hinted_part) then
      hinted_msn, hinted_part = msn, part
    end
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d}, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
