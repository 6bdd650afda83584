-- The requests `make bench` sends through wrk (tests/bench/wrk.py runs it); the Python
-- clients in tests/bench/http_load.py send the same ones (tests/bench/workloads.py).
--
--   wrk ... -s wrk_workload.lua <url> -- <kind> <run> <customers> ["Name: value" ...]
--
-- kind "consent":  POST /v1/consents, a first-time visitor each time (the visitor id is the
--                  8-hex-digit <run>, the thread and a counter: never the same twice)
-- kind "lookup":   GET /v1/decisions for one of <customers> seeded customers, drawn at random
-- kind "fixed":    GET of the URL's own path every time (the banner)
-- The headers after <customers> go with every request (the API key, Accept-Encoding).

local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("thread_id", threads)
end

function init(args)
   kind = args[1]
   run = args[2]
   customers = tonumber(args[3])
   for i = 4, #args do
      local name, value = args[i]:match("^([^:]+):%s*(.*)$")
      wrk.headers[name] = value
   end
   sent = 0
   math.randomseed(thread_id * 104729 + tonumber(run, 16) % 1000003)
   fixed = wrk.format("GET", wrk.path)
   if kind == "consent" then
      wrk.headers["Content-Type"] = "application/json"
   end
end

local consent = '{"property":"demo-shop","visitor_id":"%s-%04x-4000-8000-%012x",'
   .. '"policy_version":2,"method":"custom","decisions":{"preferences":true,'
   .. '"analytics":true,"marketing":false,"advertising":false}}'

function request()
   sent = sent + 1
   if kind == "consent" then
      local body = string.format(consent, run, thread_id, sent)
      return wrk.format("POST", "/v1/consents", nil, body)
   elseif kind == "lookup" then
      local path = string.format(
         "/v1/decisions?subject=customer:bench-%d&purpose=marketing",
         math.random(0, customers - 1)
      )
      return wrk.format("GET", path)
   end
   return fixed
end
