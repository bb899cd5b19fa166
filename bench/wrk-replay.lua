-- Replays pre-built raw HTTP/1.1 requests (NUL-separated in the file given after `--`), each once, in order,
-- over wrk's connections; prints one JSON line of results when done. Used by bench/wrk.ts.
local requests = {}
local next_request = 0
local wrapped = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  local start = 1
  while start <= #data do
    local stop = string.find(data, "\0", start, true)
    if not stop then
      requests[#requests + 1] = string.sub(data, start)
      break
    end
    requests[#requests + 1] = string.sub(data, start, stop - 1)
    start = stop + 1
  end
end

function request()
  next_request = next_request + 1
  if next_request > #requests then
    -- More requests than were built: repeat from the start (the caller builds enough and reports this).
    next_request = 1
    wrapped = wrapped + 1
  end
  return requests[next_request]
end

function done(summary, latency, _requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"durationUs":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"p50Us":%d,"p99Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
