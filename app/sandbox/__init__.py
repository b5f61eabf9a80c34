"""An embedded stand-in for Capillary's loyalty API v2, served over real HTTP.

Used when no upstream is configured and by the tests. It speaks the contract of
/work/shared/capillary-api.md: points balance and promised-points schedule (by id and by
lookup), Basic and OAuth auth, the documented error bodies, plus injectable latency and
faults. Seeded members are described in app.sandbox.data. Modules: data (seed), params
(validation), payloads (bodies), routes/webapp (HTTP), state, faults, server, cli.
"""
