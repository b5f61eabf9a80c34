"""An embedded stand-in for Capillary's loyalty API v2, served over real HTTP.

Used when no upstream is configured and by the tests. It speaks the documented contract
(the project's copy of the API notes): points balance and promised-points schedule (by id and
by lookup), the org's programs, Basic and OAuth auth, the documented error bodies, plus
injectable latency and faults. Every documented shape of section 7 is a demo member (see
data.SHAPE_MEMBERS) or a fault mode (faults.FAULT_MODES). Modules: data (the org's programs
and the member catalogue), seed (the members built from it, dated from the app's "today"),
params (validation), payloads (bodies), routes and webapp (HTTP), state, faults, server
(threads and the embedded start), cli; story_data and story_routes: customer details,
the points-expiry schedule and the points ledger.
"""
