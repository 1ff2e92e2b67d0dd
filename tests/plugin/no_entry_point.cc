// A shared object that is not a lakeflow plugin: it has no entry point.
extern "C" [[gnu::visibility("default")]] int lakeflow_fixture_not_a_plugin() { return 0; }
