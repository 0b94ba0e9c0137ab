-- wrk script for bench/submit_load.py: every request carries one of the users' API keys in turn
-- (and, for a POST, the JSON body); answers other than 2xx are counted; done() prints one line
-- of JSON after the marker WRK_JSON.
-- Arguments after `--`: METHOD PATH KEYS_FILE [BODY_FILE].

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function file_text(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

function init(args)
  local method, path, keys_path, body_path = args[1], args[2], args[3], args[4]
  local body = nil
  if body_path and body_path ~= "" then
    body = file_text(body_path)
  end
  -- Formatted once: building a request per call would cost the load generator, not the server.
  prepared = {}
  for key in io.lines(keys_path) do
    local headers = {}
    if key ~= "" then
      headers["Authorization"] = "Bearer " .. key
    end
    if body then
      headers["Content-Type"] = "application/json"
    end
    table.insert(prepared, wrk.format(method, path, headers, body))
  end
  if #prepared == 0 then
    prepared = {wrk.format(method, path, {}, body)}
  end
  turn = math.random(#prepared)
  non2xx = 0
  statuses = ""
end

function request()
  turn = turn % #prepared + 1
  return prepared[turn]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    -- The first few, to say what went wrong.
    if #statuses < 60 then
      statuses = statuses .. status .. " "
    end
  end
end

function done(summary, latency, _)
  local refused, seen = 0, ""
  for _, thread in ipairs(threads) do
    refused = refused + thread:get("non2xx")
    seen = seen .. thread:get("statuses")
  end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"non2xx": %d, "statuses": "%s", "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, refused, seen, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout
  ))
end
