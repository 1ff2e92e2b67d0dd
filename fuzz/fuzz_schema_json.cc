// Fuzzes the schema JSON reader: any input either throws SchemaError or yields a type whose json()
// reads back to an equal type that prints the identical JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "lakeflow/error.h"
#include "lakeflow/types.h"

using lakeflow::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  lakeflow::DataType type;
  try {
    type = lakeflow::parse_data_type(input);
  } catch (const lakeflow::SchemaError&) {
    return 0;
  }

  std::string json = type.json();
  lakeflow::DataType again;
  try {
    again = lakeflow::parse_data_type(json);
  } catch (const lakeflow::SchemaError& e) {
    fail("json() of a parsed type does not parse back", json + "\n" + e.what());
  }
  if (!(again == type)) fail("json() does not round-trip to an equal type", json);
  if (again.json() != json) fail("json() is not stable", json + "\n" + again.json());

  // The other renderings must not crash on anything the reader accepts.
  (void)type.simple_string();
  (void)type.sql();
  (void)type.tree_name();
  if (type.id() == lakeflow::TypeId::kStruct) {
    lakeflow::StructType st = type.as_struct();
    (void)st.ddl();
    (void)st.tree_string();
    if (!(lakeflow::parse_struct_type(json) == st)) fail("parse_struct_type differs", json);
  }
  return 0;
}
