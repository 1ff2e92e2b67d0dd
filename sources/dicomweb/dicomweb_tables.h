// The tables of the DICOMweb connector: one per level of the DICOM information model that QIDO-RS
// searches (studies, series, instances), and instance_metadata, every instance's attributes as
// WADO-RS metadata of its series gives them. Each names the attributes it asks for (`includefield`)
// and reads into typed columns (dicom_json.h), its identity attribute, and the QIDO-RS resource
// it searches; every row also carries `connection_name` (where it came from) and `dicom_json`, the
// DICOM JSON object exactly as the server sent it (all attributes, BulkDataURI and InlineBinary
// included).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "dicom_json.h"
#include "lakeflow/types.h"

namespace lakeflow::dicomweb {

struct TableDefinition {
  std::string_view name;  // the table, and the QIDO-RS resource searched: /studies, ...
  std::uint32_t key_tag;  // the identity attribute (a UID)
  std::string_view key_column;
  std::span<const Attribute> columns;
};

// Read through WADO-RS metadata of each series the series search finds, not through QIDO-RS.
inline constexpr std::string_view kInstanceMetadataTable = "instance_metadata";
inline constexpr std::string_view kConnectionNameColumn = "connection_name";
inline constexpr std::string_view kDicomJsonColumn = "dicom_json";

std::span<const TableDefinition> table_definitions();
// nullptr when `name` is not a table.
const TableDefinition* find_table(std::string_view name);
StructType table_schema(const TableDefinition& table);
// The `includefield` value asking for every column's attribute: "00080020,00080030,...".
std::string include_fields(const TableDefinition& table);

}  // namespace lakeflow::dicomweb
