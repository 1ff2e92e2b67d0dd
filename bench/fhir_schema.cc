// Prints the FHIR connector's schema of one R4 resource type as PySpark StructType JSON, so the
// benchmarks can convert the same workload with the connector's full, wide schema.
//
//   bench_fhir_schema RESOURCE_TYPE > schema.json
#include "schema/fhir_schema.h"

#include <iostream>

#include "lakeflow/error.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bench_fhir_schema RESOURCE_TYPE\n";
    return 2;
  }
  try {
    std::cout << lakeflow::fhir::resource_schema(argv[1]).json() << "\n";
  } catch (const lakeflow::Error& e) {
    std::cerr << "bench_fhir_schema: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
