// A plugin of a later calling convention than this lakeflow knows: only lakeflow_plugin_v2.
extern "C" [[gnu::visibility("default")]] int lakeflow_plugin_v2(void* /*call*/) { return 0; }
