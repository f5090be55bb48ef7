"""Shared parts of the benchmarks: a server in a subprocess, store choice, and a GraphQL client."""
