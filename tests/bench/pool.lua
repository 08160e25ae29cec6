-- pool.lua -- the wrk script of make bench (tests/bench/run.py).
--
--   wrk ... -s pool.lua URL -- FILE MODE THREADS CONNECTIONS
--
-- FILE holds one request per line: PATH TAB AUTHORIZATION TAB CONTENT-TYPE
-- TAB BODY. Thread k of THREADS sends lines k, k+THREADS, ... MODE
-- "cycle" starts over at the end; MODE "pool" sends each line once (fresh
-- codes and assertions) and stops the thread before it runs out. The
-- rate is measured here (first request to last response, monotonic
-- clock), since wrk divides by its whole -d duration. done() prints one
-- line "BENCHJSON {...}". wrk calls request() once in thread 0 before the
-- run starts, so the first line of thread 0 is never sent.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_ts;
int clock_gettime(int clk, bench_ts *ts);
]]
local tsbuf = ffi.new("bench_ts")

local function now()
	ffi.C.clock_gettime(1, tsbuf) -- CLOCK_MONOTONIC
	return tonumber(tsbuf.tv_sec) + tonumber(tsbuf.tv_nsec) * 1e-9
end

local threads = {}
local counter = 0

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

local reqs, n, idx, pooled, margin

function init(args)
	local file, mode = args[1], args[2]
	local nthreads, conns = tonumber(args[3]), tonumber(args[4])
	pooled = mode == "pool"
	margin = 2 * math.ceil(conns / nthreads)
	reqs = {}
	local i = 0
	for line in io.lines(file) do
		if i % nthreads == tid then
			local path, authz, ctype, body =
			    line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
			local h = { ["Content-Type"] = ctype }
			if authz ~= "" then
				h["Authorization"] = authz
			end
			reqs[#reqs + 1] = wrk.format("POST", path, h, body)
		end
		i = i + 1
	end
	n = #reqs
	idx = 0
	done_n = 0
	statuses = {}
end

function request()
	if t0 == nil then
		t0 = now()
	end
	idx = idx + 1
	if idx > n then
		idx = pooled and n or 1
	end
	return reqs[idx]
end

function response(status, headers, body)
	done_n = done_n + 1
	t1 = now()
	statuses[status] = (statuses[status] or 0) + 1
	if pooled and idx + margin >= n then
		wrk.thread:stop()
	end
end

function done(summary, latency, requests)
	local total, a, b = 0, nil, nil
	local st = {}
	for _, t in ipairs(threads) do
		total = total + (t:get("done_n") or 0)
		local x, y = t:get("t0"), t:get("t1")
		if x ~= nil and (a == nil or x < a) then a = x end
		if y ~= nil and (b == nil or y > b) then b = y end
		for k, v in pairs(t:get("statuses") or {}) do
			st[k] = (st[k] or 0) + v
		end
	end
	local parts = {}
	for k, v in pairs(st) do
		parts[#parts + 1] = string.format('"%d":%d', k, v)
	end
	local e = summary.errors
	io.write(string.format('BENCHJSON {"responses":%d,"seconds":%.6f,' ..
	    '"p50_us":%d,"p99_us":%d,"statuses":{%s},"socket_errors":%d}\n',
	    total, (b or 0) - (a or 0), latency:percentile(50),
	    latency:percentile(99), table.concat(parts, ","),
	    e.connect + e.read + e.write + e.timeout))
end
