"""Planning: an order and a catalog's plan templates in, an orchestration plan out (DESIGN 4).

Orders are read and checked, decomposed into fulfillment items, matched to scenarios,
and their step instances wired and given their SLA and fallout settings. May import
the engine, `dro_cli.errors` and `dsl`; never the journal, a host, diff or output
(lint-imports checks).
"""
