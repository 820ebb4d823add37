-- identify mutations from a till: BENCH_MODE=new enrols a fresh card and phone per request,
-- BENCH_MODE=returning identifies a member loaded before the run by its verified phone.
local members = tonumber(os.getenv("BENCH_MEMBERS") or "10000")
local mode = os.getenv("BENCH_MODE") or "returning"
local key = os.getenv("BENCH_KEY")
local query = "mutation Identify($input: IdentifyInput!) { identify(input: $input) { outcome member { id } userErrors { code } } }"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local counter = 0
request = function()
  local identities
  if mode == "new" then
    counter = counter + 1
    -- Phones above the loaded range, disjoint per thread and per run.
    local number = 13900000000 + (thread_id or 0) * 10000000 + (os.time() % 1000) * 10000 + counter
    identities = string.format('{"type":"PHONE","value":"+86%d","verified":true},'
      .. '{"type":"POS_CARD","namespace":"bench-pos","value":"C%d"}', number, number)
  else
    local number = 13800000000 + math.random(0, members - 1)
    identities = string.format('{"type":"PHONE","value":"+86%d","verified":true}', number)
  end
  local body = string.format(
    '{"query":"%s","variables":{"input":{"channel":"POS","identities":[%s]}}}', query, identities)
  return wrk.format(nil, "/graphql", nil, body)
end
