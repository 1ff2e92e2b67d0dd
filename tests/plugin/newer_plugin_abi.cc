// A plugin of a later calling convention than this lakeflow knows: only lakeflow_plugin_v3.
extern "C" [[gnu::visibility("default")]] int lakeflow_plugin_v3(void* /*call*/) { return 0; }
