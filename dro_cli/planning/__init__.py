"""Planning: an order and a catalog's plan templates in, an orchestration plan out (DESIGN 4).

Orders are read and checked, decomposed into fulfillment items, matched to scenarios,
and their step instances wired and given their SLA and fallout settings. It may import
`dsl` and `dro_cli.errors`; never the engine, the journal, a host or output.
"""
