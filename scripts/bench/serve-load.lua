-- wrk script for scripts/bench/serve-load.sh: GET /api/v1/findings?limit=100 with a random
-- tenant's token on every request, paced to a fixed rate, and the latency histogram written
-- out so the results of several wrk processes (one per replica) can be merged.
--
-- Environment: BENCH_TOKENS (file, one token a line), BENCH_RATE (requests/s for this wrk
-- process), BENCH_THREADS (wrk's -t, to split the rate), BENCH_OUT (where the summary and the
-- histogram go).
--
-- Pacing: wrk asks `delay()` before every request; a thread's k-th request is due at
-- start + k / rate, whichever of its connections sends it. Behind schedule, requests go out as
-- soon as a connection is free; the achieved rate is printed beside the target, so a server
-- that cannot keep up shows as a shortfall there (wrk times a request from when it is sent).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end

local interval_ms, started
local scheduled = 0

function init(args)
  local rate = tonumber(os.getenv("BENCH_RATE")) / tonumber(os.getenv("BENCH_THREADS"))
  interval_ms = 1000 / rate
  math.randomseed(os.time() + math.floor(now_ms() * 1000) % 1000003)
end

function delay()
  local now = now_ms()
  if not started then started = now end
  local due = started + scheduled * interval_ms
  scheduled = scheduled + 1
  if due <= now then return 0 end
  return math.floor(due - now)
end

function request()
  local token = tokens[math.random(#tokens)]
  return wrk.format("GET", "/api/v1/findings?limit=100", { ["Authorization"] = "Bearer " .. token })
end

-- First line: requests, duration (µs), non-2xx/3xx responses, socket errors (connect, read,
-- write, timeout). Then one line per histogram bucket with requests in it: latency (µs), count.
function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  local e = summary.errors
  out:write(string.format("%d %d %d %d\n", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout))
  -- Calling the histogram with i = 1..#latency gives its i-th distinct latency and how many
  -- requests took that long (what wrk's own percentile() reads).
  for i = 1, #latency do
    local value, count = latency(i)
    out:write(string.format("%d %d\n", value, count))
  end
  out:close()
end
