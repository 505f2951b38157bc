-- wrk script of bench/bench_wrk.py: each wrk thread, with one connection of its
-- own (wrk -t N -c N), is one resident repeating the questionnaire's path:
-- landing (GET) -> consent (POST, CSRF) -> page 1 -> page 2 -> page 3 (submit),
-- keeping its cookies; or (mode "bare") one client of the bare endpoint /healthz.
--
-- Argument: a file whose first line is "<mode> <outdir> <count for thread 0> <count
-- for thread 1> ...", then one "<channel token> <district>" line per channel. When
-- a thread has done its count (submissions, or bare requests) it writes
-- <outdir>/thread-<n>.txt: "window <first request start µs> <last answer µs>"
-- (CLOCK_MONOTONIC), "abandoned <n>", "noreceipt <n>" (303s without the receipt
-- cookie), a "receipt <code>" line per acknowledged
-- submission and a "<step> <latency µs> <status>" line per answer; then it stops.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC, as Python's time.monotonic()
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

local AGES = {"18-29岁", "30-39岁", "40-49岁", "50-59岁", "60岁及以上"}
local SEXES = {"男", "女"}
local SCORES = {"5", "4", "3", "2", "1"}
local SATISFACTION = {"s_air", "s_water", "s_drinking", "s_green", "s_sanitation", "s_noise",
                      "s_government"}
local STEP_NAMES = {[0] = "landing", "consent", "page", "page", "submit"}

local mode, out_path, todo = "resident", nil, 0
local tokens, districts = {}, {}
local step, pick, done = 0, 1, 0
local cookies = {}
local csrf, state
local sent, first, last = 0, nil, 0
local lines, receipts, abandoned, noreceipt = {}, {}, 0, 0

local function encode(s)
  return (string.gsub(s, "[^%w%-_%.~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  local f = assert(io.open(args[1]))
  local words = {}
  for w in string.gmatch(f:read("*l"), "%S+") do words[#words + 1] = w end
  mode, out_path, todo = words[1], words[2] .. "/thread-" .. id .. ".txt", tonumber(words[3 + id])
  for line in f:lines() do
    local token, district = string.match(line, "^(%S+) (.+)$")
    tokens[#tokens + 1], districts[#districts + 1] = token, district
  end
  f:close()
  math.randomseed(1000 + id * 7919)
  pick = math.random(math.max(1, #tokens))
end

local function headers(post)
  local h = {["User-Agent"] = "Mozilla/5.0 (Android; Mobile) bench"}
  local jar = {}
  for name, value in pairs(cookies) do jar[#jar + 1] = name .. "=" .. value end
  if #jar > 0 then h["Cookie"] = table.concat(jar, "; ") end
  if post then h["Content-Type"] = "application/x-www-form-urlencoded" end
  return h
end

local function form(fields)
  local parts = {}
  for i = 1, #fields, 2 do parts[#parts + 1] = encode(fields[i]) .. "=" .. encode(fields[i + 1]) end
  return table.concat(parts, "&")
end

function request()
  sent = now_us()
  first = first or sent
  if mode == "bare" then return wrk.format("GET", "/healthz", headers(false)) end
  local base = "/s/" .. tokens[pick]
  if step == 0 then return wrk.format("GET", base, headers(false)) end
  if step == 1 then
    return wrk.format("POST", base .. "/start", headers(true), form({"csrf_token", csrf}))
  end
  local fields = {"csrf_token", csrf, "state", state}
  if step == 2 then
    for _, kv in ipairs({{"age_group", AGES[math.random(#AGES)]}, {"residence", "yes"},
                         {"env_staff", "no"}, {"district", districts[pick]},
                         {"sex", SEXES[math.random(2)]}, {"urban_rural", "城镇"}}) do
      fields[#fields + 1], fields[#fields + 2] = kv[1], kv[2]
    end
  elseif step == 3 then
    for _, q in ipairs(SATISFACTION) do
      fields[#fields + 1], fields[#fields + 2] = q, SCORES[math.random(5)]
    end
  else
    for _, kv in ipairs({{"activities", "sorting"}, {"awareness", "know"}}) do
      fields[#fields + 1], fields[#fields + 2] = kv[1], kv[2]
    end
  end
  return wrk.format("POST", base .. "/page", headers(true), form(fields))
end

local function finish()
  local f = assert(io.open(out_path .. ".tmp", "w"))
  f:write(string.format("window %.0f %.0f\n", first or 0, last))
  f:write("abandoned ", abandoned, "\n")
  f:write("noreceipt ", noreceipt, "\n")
  for _, code in ipairs(receipts) do f:write("receipt ", code, "\n") end
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  os.rename(out_path .. ".tmp", out_path)  -- whole, or not there
  wrk.thread:stop()
end

-- The receipt code of an acknowledged submission: in the receipt cookie its 303
-- sets (sv_receipt=<code>.<time>.<signature>), the address being the thank-you
-- page's, which carries no code; nil otherwise (counted as "noreceipt": an
-- invariant broken, as in bench_load.py). wrk keeps one value per header name,
-- the last: the server sends the receipt cookie after any other (sv_ended).
local function receipt_of(hdrs)
  local location = hdrs["Location"] or hdrs["location"] or ""
  if not string.find(location, "/thanks$") then return nil end
  local cookie = hdrs["Set-Cookie"] or hdrs["set-cookie"] or ""
  return string.match(cookie, "^sv_receipt=([%w%-]+)%.")
end

function response(status, hdrs, body)
  local t = now_us()
  last = t
  lines[#lines + 1] = (mode == "bare" and "bare" or STEP_NAMES[step]) .. " "
    .. string.format("%.0f", t - sent) .. " " .. status
  if mode == "bare" then
    done = done + 1
    if done >= todo then finish() end
    return
  end
  local set = hdrs["Set-Cookie"] or hdrs["set-cookie"]
  if set then
    local name, value = string.match(set, "^([^=;]+)=([^;]*)")
    if name and (value == "" or string.find(set, "[Mm]ax%-[Aa]ge=0")) then
      cookies[name] = nil  -- deleted (the receipt cookie, once a new questionnaire starts)
    elseif name then
      cookies[name] = value
    end
  end
  if status == 503 then return end  -- retryable: the same request again
  if step < 4 and status == 200 then
    csrf = string.match(body, 'name="csrf_token" value="([^"]+)"')
    state = string.match(body, 'name="state" value="([^"]+)"')
    step = step + 1
    return
  end
  local code = step == 4 and status == 303 and receipt_of(hdrs)
  if code then
    receipts[#receipts + 1] = code
  else
    abandoned = abandoned + 1
    if step == 4 and status == 303 then noreceipt = noreceipt + 1 end
  end
  step, done = 0, done + 1
  pick = math.random(#tokens)
  if done >= todo then finish() end
end
