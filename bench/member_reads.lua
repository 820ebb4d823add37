-- POST `me` with the member tokens listed in BENCH_TOKENS_FILE, one at random a request.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
  tokens[#tokens + 1] = line
end
local body = string.format('{"query":"%s"}', os.getenv("BENCH_QUERY"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  wrk.headers["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)]
  return wrk.format(nil, "/graphql", nil, body)
end
