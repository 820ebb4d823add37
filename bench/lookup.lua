-- POST member(identity: PHONE) lookups for random members of the benchmark data.
local members = tonumber(os.getenv("BENCH_MEMBERS") or "10000")
local key = os.getenv("BENCH_KEY")
local query = os.getenv("BENCH_QUERY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

request = function()
  local phone = string.format("+86%d", 13800000000 + math.random(0, members - 1))
  local body = string.format('{"query":"%s","variables":{"phone":"%s"}}', query, phone)
  return wrk.format(nil, "/graphql", nil, body)
end
