"""How many tenants a run works on at once, unless ``--concurrency`` says otherwise.

32: on the 200-tenant peer benchmark (20 ms latency, two cores shared with the sandbox) 32
tenants at once beat 16 in 11 of 14 paired runs, 0.16-0.34 s (5-10 %) faster on average; 64
was no faster than 32 (``bench/README.md``). Each tenant keeps at most four requests in flight
(the HTTP core's per-tenant bound). Observing a tenant is about 16 Graph requests in two
``$batch`` round trips, so 32 tenants at once are some 500-1,000 Graph requests a second at a
few hundred milliseconds a batch: under Graph's global limit of 2,000 a second per app across
all tenants (``docs/api-contract.md``, Throttling); a 429 is waited out as always. CIPP, one
function app serving every tenant, sees no more than before: at most 64 of its requests are
in flight at once (``connectors/_http.SERVICE_IN_FLIGHT``). A light module: ``--help`` reads
it.
"""

TENANTS_AT_ONCE = 32
