-- wrk script for bench/run.py: sets up one kind of request and prints one
-- machine-readable line of results at the end.
--
-- Arguments after "--": the expected status, then optionally the method and a
-- url-encoded form body. Answers with any other status are counted apart, so a
-- run that measured redirects or 429 pages instead of the real work shows it.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   expected_status = tonumber(args[1])
   wrk.method = args[2] or "GET"
   if args[3] and args[3] ~= "" then
      wrk.body = args[3]
      wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   end
   expected, unexpected = 0, 0
end

function response(status, headers, body)
   if status == expected_status then
      expected = expected + 1
   else
      unexpected = unexpected + 1
   end
end

function done(summary, latency, requests)
   local total_expected, total_unexpected = 0, 0
   for _, thread in ipairs(threads) do
      total_expected = total_expected + thread:get("expected")
      total_unexpected = total_unexpected + thread:get("unexpected")
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH-RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
      '"p99_us": %d, "max_us": %d, "expected": %d, "unexpected": %d, ' ..
      '"socket_errors": %d, "timeouts": %d}\n',
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      total_expected, total_unexpected,
      errors.connect + errors.read + errors.write, errors.timeout))
end
