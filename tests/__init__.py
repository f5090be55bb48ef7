"""The tests, each file named for what it tests, so a module's tests are found from its name:

- test_<module>.py: models/<module>.py, its rules (and the store seam), without the graph.
- test_resolvers_<module>.py: the use-cases of resolvers/<module>.py, called directly.
- test_graph_<module>.py: graph/<module>.py or graph/extensions/<module>.py, through the
  schema (the `execute` fixture) or over HTTP.
- test_scenario_<story>.py: scenario tests that cross layers or areas; the module
  docstring starts "Scenario tests:" and says what they cross.
- test_<name>_fuzzed.py: property-based tests (hypothesis) of what test_<name>.py tests,
  with arbitrary and near-valid input. The `ci` profile (conftest.py) runs the same
  examples every time, all files within ~30 s; HYPOTHESIS_PROFILE=explore runs 2,000 a test.

Fixtures are in conftest.py; GraphQL documents used by more than one file in queries.py;
other shared helpers (times, `values`, `codes`, `collect`) in helpers.py; operations
built from the schema itself, and a company's data to aim them at, in schema_walk.py (the
tenancy and role scenarios walk every field with them). Tests marked
`wire` take the `any_store` fixture and run on the embedded store and on a real MongoDB
wire server.
"""
