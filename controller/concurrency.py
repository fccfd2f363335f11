"""How many tenants a run works on at once, unless ``--concurrency`` says otherwise.

32: on the 200-tenant peer benchmark (20 ms latency, two cores shared with the sandbox) 32
tenants at once beat 16 in 11 of 14 paired runs, 0.16-0.34 s (5-10 %) faster on average; 64
was no faster than 32 (``bench/README.md``). Each tenant keeps at most four requests in flight
(the HTTP core's per-tenant bound), so a run has at most 128 in flight, far below Graph's
limits per app, which are per tenant anyway. A light module: ``--help`` reads it.
"""

TENANTS_AT_ONCE = 32
