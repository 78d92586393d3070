-- wrk script for `cargo xtask bench api`: POSTs a random one of the request bodies in the
-- file named by BENCH_BODIES (one JSON body per line) to the GraphQL endpoint.
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  bodies[#bodies + 1] = line
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
end
