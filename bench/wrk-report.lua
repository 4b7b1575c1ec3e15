-- wrk-report.lua - print wrk's summary as one machine-readable line.
--
-- Only done() is defined, so wrk does not call Lua per request or per
-- response: the measurement is the same as without a script.  bench/run
-- parses the line that starts with WRKRESULT.

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRKRESULT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
end
