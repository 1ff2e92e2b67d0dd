// A plugin built against the next SDK major version: its entry point reports that version and,
// as the contract of lakeflow/plugin.h says, registers nothing.
#include "lakeflow/plugin.h"

extern "C" [[gnu::visibility("default")]] int lakeflow_plugin_v2(LakeflowPluginV2* call) {
  call->plugin_sdk_major = LAKEFLOW_SDK_VERSION_MAJOR + 1;
  call->plugin_sdk_minor = 0;
  call->plugin_sdk_patch = 0;
  call->plugin_cpu_baseline = LAKEFLOW_SDK_CPU_BASELINE;
  return LAKEFLOW_PLUGIN_INCOMPATIBLE;
}
