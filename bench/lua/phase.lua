-- Replays one phase of the bench with wrk: the requests listed in a file, one per line as
-- METHOD<TAB>PATH<TAB>BODY, formatted once in init() so that sending one costs a table read.
--
--   wrk -t1 -c16 -d5s --timeout 10s -H 'Authorization: Bearer sk_test_bench' \
--       -s bench/lua/phase.lua http://127.0.0.1:8000 -- requests.tsv cycle
--
-- The last argument is "cycle" (start over at the end of the list) or "once" (send each
-- request once and stop when all are answered: a delete cannot hit the same id twice); with
-- "once", run one thread (-t1), since each thread replays the whole list. done() prints one line, "bench-result " and JSON, which
-- bench/load.py reads.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *time);
]])
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

-- wrk's own duration is always the full -d, even when a thread stops early; a "once" phase
-- that finishes its list measures its own time, from the first request to the last response.
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local requests = {}
local next_request = 1
local once = false
local reserved, answered = 0, 0
local PARK_MS = 3600 * 1000

-- Per-thread results; done() runs in another Lua state and reads them with thread:get().
statuses = {}
created_ids = {}
first_us = nil
last_us = nil
finished = false

-- Only in "once" mode (defined in init(), where wrk looks for it afterwards): each connection
-- reserves a request before sending one. A connection that finds none left is parked, and
-- the thread stops when the last reserved request is answered, so that the deletes still in
-- flight when the list runs out are counted too.
local function reserve_or_park()
  if reserved < #requests then
    reserved = reserved + 1
    return 0
  end
  return PARK_MS
end

function init(args)
  once = args[2] == "once"
  if once then
    delay = reserve_or_park
  end
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t(.*)$")
    local headers = {}
    for name, value in pairs(wrk.headers) do
      headers[name] = value
    end
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
end

function request()
  first_us = first_us or now_us()
  if next_request > #requests then
    -- In "once" mode, only after a reconnect (which skips delay()): the repeated request
    -- then shows as an error instead of going unnoticed.
    next_request = 1
  end
  next_request = next_request + 1
  return requests[next_request - 1]
end

function response(status, headers, body)
  last_us = now_us()
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    created_ids[#created_ids + 1] = body:match('"id"%s*:%s*"([^"]+)"')
  end
  answered = answered + 1
  if once and answered == #requests then
    finished = true
    wrk.thread:stop()
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, _)
  local counts, ids = {}, {}
  local duration_us = summary.duration
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
    for _, id in ipairs(thread:get("created_ids")) do
      ids[#ids + 1] = '"' .. id .. '"'
    end
    local first, last = thread:get("first_us"), thread:get("last_us")
    if thread:get("finished") and first and last then
      duration_us = last - first
    end
  end
  local status_fields = {}
  for status, count in pairs(counts) do
    status_fields[#status_fields + 1] = string.format('"%d":%d', status, count)
  end
  local errors = summary.errors
  io.write(string.format(
    'bench-result {"requests":%d,"duration_us":%d,"statuses":{%s},"timeouts":%d,'
      .. '"socket_errors":%d,"p50_us":%d,"p99_us":%d,"created_ids":[%s]}\n',
    summary.requests, duration_us, table.concat(status_fields, ","), errors.timeout,
    errors.connect + errors.read + errors.write, latency:percentile(50),
    latency:percentile(99), table.concat(ids, ",")
  ))
end
