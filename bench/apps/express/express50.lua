-- SPDX-License-Identifier: Apache-2.0
-- wrk script of bench/workloads/express50*.sh: spreads requests over the 50
-- routes of bench/apps/express/express50.js (ids vary) and 20 tenants.
-- DELAY_MS (env): pause of each connection between its requests (the paced
-- 50 % runs); 0 or unset: as fast as the server answers.
local res = { "users", "orders", "invoices", "products", "carts", "payments", "shipments", "reviews", "teams", "projects" }
local reqs = {}
local n = 0
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0") or 0

function init(args)
	-- a fixed table per thread: 10 resources x 5 shapes x 20 tenants, ids varying
	local i = 0
	for t = 1, 20 do
		for r = 1, #res do
			for shape = 1, 5 do
				i = i + 1
				local id = tostring(1000 + (i * 7919) % 90000)
				local m, path, body = "GET", "/api/" .. res[r], nil
				if shape == 2 then path = path .. "/" .. id
				elseif shape == 3 then m = "PUT"; path = path .. "/" .. id; body = ""
				elseif shape == 4 then path = path .. "/" .. id .. "/history/" .. tostring(i % 97)
				elseif shape == 5 then m = "POST"; path = path .. "/" .. id .. "/actions"; body = "" end
				reqs[#reqs + 1] = wrk.format(m, path, { ["x-tenant-id"] = "tenant-" .. string.format("%02d", t), ["Host"] = "bench" }, body)
			end
		end
	end
	-- shuffle deterministically so consecutive requests differ in route and tenant
	local s = 12345
	for k = #reqs, 2, -1 do
		s = (s * 1103515245 + 12345) % 2147483648
		local j = (s % k) + 1
		reqs[k], reqs[j] = reqs[j], reqs[k]
	end
end

function request()
	n = n % #reqs + 1
	return reqs[n]
end

if delay_ms > 0 then
	function delay()
		return delay_ms
	end
end
