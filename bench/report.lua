-- wrk script for bench/run.py: checks every answer and prints one machine-readable
-- line of results at the end.
--
-- Arguments after "--": the expected status, then strings the body must contain
-- (the signed-in user's name, the sign-out form, the CSRF field...). An answer with
-- another status or without one of them is counted apart, so a run that measured
-- redirects, error pages or the wrong page shows it.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   expected_status = tonumber(args[1])
   markers = {}
   for i = 2, #args do
      table.insert(markers, args[i])
   end
   expected, unexpected = 0, 0
end

function response(status, headers, body)
   local right = status == expected_status
   if right then
      for _, marker in ipairs(markers) do
         if not string.find(body, marker, 1, true) then
            right = false
            break
         end
      end
   end
   if right then
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
