// A plugin of the calling convention before this one (public virtual LakeflowConnect methods):
// only lakeflow_plugin_v1.
extern "C" [[gnu::visibility("default")]] int lakeflow_plugin_v1(void* /*call*/) { return 0; }
