-- wrk script for bench/webhook.sh: POSTs AdmissionReview bodies (one JSON document a line in
-- the file named by BODIES), round robin, optionally paced (DELAY_MS per connection between
-- requests, so that C connections make about C*1000/DELAY_MS requests a second), and reports
-- percentiles and how many answers allowed, denied or failed.
local bodies = {}
local i = 0
allowed, denied, other = 0, 0, 0 -- globals: done() reads them with thread:get
local threads = {}

local file = assert(io.open(os.getenv("BODIES"), "r"))
for line in file:lines() do
  if #line > 0 then bodies[#bodies + 1] = line end
end
file:close()
local pace = tonumber(os.getenv("DELAY_MS") or "0")
local path = os.getenv("ENDPOINT") or "/validate"

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  i = id * 7919
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, bodies[i])
end

if pace > 0 then
  function delay()
    return pace
  end
end

function response(status, headers, body)
  if status ~= 200 then
    other = other + 1
  elseif string.find(body, '"allowed":true', 1, true) then
    allowed = allowed + 1
  elseif string.find(body, '"allowed":false', 1, true) then
    denied = denied + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, d, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("allowed")
    d = d + t:get("denied")
    o = o + t:get("other")
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d rate=%.0f/s p50=%.2fms p90=%.2fms p99=%.2fms p99.9=%.2fms max=%.2fms allowed=%d denied=%d other=%d socket_errors=%d timeouts=%d\n",
    summary.requests, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000, a, d, o,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout))
end
