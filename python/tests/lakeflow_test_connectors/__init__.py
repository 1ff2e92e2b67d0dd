"""Python connectors written against upstream's LakeflowConnect interface, for lakeflow's tests
and benchmarks: they run through lakeflow's Python bridge (`python:package.module:Class`)."""
