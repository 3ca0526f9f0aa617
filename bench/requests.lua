-- wrk script: replays a prepared list of requests, each thread its own share, in order.
--
-- Usage: wrk ... -s bench/requests.lua URL -- LIST_FILE EXPECT [WRAP]
--   LIST_FILE  one request per line: METHOD <tab> PATH <tab> COOKIE <tab> BODY
--   EXPECT     a string every good response body contains ("-" for none), e.g. the
--              verifier's `content="valid"`; a response without it counts as wrong
--   WRAP       "wrap" to start the list again when a thread reaches its end (read-only
--              scenarios); otherwise the thread stops and the runner reports it
-- Statuses 2xx and 3xx are good. The done() callback prints one JSON line for bench/run.py.
-- When a one-shot list runs out, "list_us" is the time from the first request until the last
-- thread had none left: wrk divides by the whole run, which would count the idle rest of it.

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1

-- Microseconds on the monotonic clock (one clock for every thread; os.clock is CPU time).
local function now_us()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  list_file = args[1]
  expect = args[2] or "-"
  wrap = args[3] == "wrap"
  local nthreads = tonumber(args[4]) or 1
  local reqs = {}
  local i = 0
  for line in io.lines(list_file) do
    if i % nthreads == id then
      local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["User-Agent"] = "jiaoguan-bench" }
      if cookie ~= "" then headers["Cookie"] = cookie end
      if body == "" then body = nil end
      if method == "POST" then
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      end
      table.insert(reqs, wrk.format(method, path, headers, body))
    end
    i = i + 1
  end
  requests = reqs
  pos = 0
  sent = 0
  good = 0
  bad_status = 0
  wrong_body = 0
  status_503 = 0
  status_5xx = 0
  exhausted = 0
  wrong_seen = ""
  started_us = 0
  ran_out_us = 0
end

function request()
  if started_us == 0 then started_us = now_us() end
  pos = pos + 1
  if pos > #requests then
    exhausted = 1
    if wrap then
      pos = 1
    else
      if ran_out_us == 0 then ran_out_us = now_us() end
      wrk.thread:stop()
      pos = #requests
    end
  end
  sent = sent + 1
  return requests[pos]
end

function response(status, headers, body)
  if status >= 400 then
    bad_status = bad_status + 1
    if status == 503 then status_503 = status_503 + 1 end
    if status >= 500 then status_5xx = status_5xx + 1 end
  elseif expect ~= "-" and not (body and body:find(expect, 1, true)) then
    wrong_body = wrong_body + 1
    -- Keep a few of the wrong answers' verdicts (the verifier's meta tag) to report.
    local verdict = body and body:match('verification%-result" content="([a-z-]+)"') or "?"
    if #wrong_seen < 200 then wrong_seen = wrong_seen .. verdict .. " " end
  else
    good = good + 1
  end
end

function done(summary, latency, requests)
  local t = { good = 0, bad_status = 0, wrong_body = 0, status_503 = 0, status_5xx = 0,
              exhausted = 0, list = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do
      if k ~= "list" then t[k] = t[k] + (thread:get(k) or 0) end
    end
  end
  local seen = ""
  for _, thread in ipairs(threads) do seen = seen .. (thread:get("wrong_seen") or "") end
  -- The time the list lasted: a thread that never ran out was busy until the run's end.
  local first, last, ended = nil, 0, now_us()
  for _, thread in ipairs(threads) do
    local started, ran_out = thread:get("started_us") or 0, thread:get("ran_out_us") or 0
    if started > 0 and (first == nil or started < first) then first = started end
    if ran_out == 0 then ran_out = ended end
    if ran_out > last then last = ran_out end
  end
  local list_us = first and (last - first) or 0
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"good": %d, "bad_status": %d, "wrong_body": %d, "status_503": %d, "status_5xx": %d, ' ..
    '"exhausted": %d, "list_us": %d, "wrong_seen": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout,
    t.good, t.bad_status, t.wrong_body, t.status_503, t.status_5xx, t.exhausted, list_us, seen))
end
