-- wrk script: report cases through POST /api/v1/cases, each with its own Idempotency-Key.
--
--   ONEGRID_POINTS=/tmp/og/points.csv wrk -t2 -c64 -d30s --timeout 10s --latency \
--       -s bench/intake.lua http://127.0.0.1:18080
--
-- The points file is `onegrid bench points --out FILE` (lon,lat,county rows inside the grids).
-- At the end the script prints how many answers were 201 and how many were not, so that the
-- count of stored cases can be checked against it. With ONEGRID_IDS_DIR set, every thread also
-- writes the id of each case answered 201 to DIR/ids-RUN-THREAD.txt, so that each
-- acknowledged case can be looked up in the store afterwards (bench/intake.sh does).

-- An API token of an account that may report in the city (bench/intake.sh makes one).
token = os.getenv("ONEGRID_TOKEN") or error("set ONEGRID_TOKEN")
local points_file = os.getenv("ONEGRID_POINTS") or "/tmp/onegrid-points.csv"
local points = {}
for line in io.lines(points_file) do
  local lon, lat = line:match("^([%d%.%-]+),([%d%.%-]+)")
  if lon then
    points[#points + 1] = { lon, lat }
  end
end
assert(#points > 0, "no points in " .. points_file)

local subjects = {
  "小区门口道路破损，雨后积水严重", "路灯不亮，夜间行人出行不便", "垃圾桶满溢，周边有异味",
  "楼道堆放杂物，存在消防隐患", "占道经营，影响车辆通行", "井盖缺失，存在安全隐患",
  "噪音扰民，夜间施工", "违章搭建，占用公共绿地", "供暖管道漏水", "共享单车乱停乱放，堵塞人行道",
  "树木倒伏压住电线", "广告牌松动有坠落危险",
}
local channels = { "resident", "grid_patrol", "hotline", "resident" }

local threads = {}
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
  thread:set("run", tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000)))
  table.insert(threads, thread)
end

counter = 0
created = 0
other = 0
last_other = ""

local ids_file = nil

function init(args)
  math.randomseed(tid * 7919 + os.time())
  local dir = os.getenv("ONEGRID_IDS_DIR")
  if dir and dir ~= "" then
    ids_file = assert(io.open(dir .. "/ids-" .. run .. "-" .. tid .. ".txt", "w"))
  end
end

function request()
  counter = counter + 1
  local p = points[math.random(#points)]
  local body = string.format(
    '{"description":"%s（压测 %d-%d）","lon":%s,"lat":%s,"channel":"%s"}',
    subjects[math.random(#subjects)], tid, counter, p[1], p[2], channels[math.random(#channels)])
  local headers = {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "wrk-" .. run .. "-" .. tid .. "-" .. counter,
    ["Authorization"] = "Bearer " .. token,
  }
  return wrk.format("POST", "/api/v1/cases", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
    if ids_file then
      ids_file:write((body:match('"id":"([^"]+)"') or "?"), "\n")
      if created % 1000 == 0 then ids_file:flush() end
    end
  else
    other = other + 1
    last_other = tostring(status) .. " " .. string.sub(body or "", 1, 200)
  end
end

function done(summary, latency, requests)
  local c, o, last, sent = 0, 0, "", 0
  for _, t in ipairs(threads) do
    sent = sent + t:get("counter")
    c = c + t:get("created")
    o = o + t:get("other")
    local l = t:get("last_other")
    if l ~= "" then last = l end
  end
  io.write(string.format("requests sent: %d (the ones still in flight when wrk stopped were\n" ..
    "  sent and may be stored, but are not counted as answers)\n", sent))
  io.write(string.format("answers 201: %d, other: %d%s\n", c, o,
    last ~= "" and (" (last other: " .. last .. ")") or ""))
  io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d; non-2xx/3xx %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("cases/s (201 only): %.1f\n", c / (summary.duration / 1e6)))
  for _, q in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%g: %.2f ms\n", q, latency:percentile(q) / 1000))
  end
end
