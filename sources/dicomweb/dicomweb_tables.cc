#include "dicomweb_tables.h"

#include <fmt/format.h>

#include <array>

#include "lakeflow/json.h"

namespace lakeflow::dicomweb {

namespace {

using K = ValueKind;

// Study level (PS3.18 table 6.7.1-2 "Study Attributes", plus the patient attributes every study
// search returns).
constexpr std::array kStudyColumns = {
    Attribute{0x0020000D, "study_instance_uid", "StudyInstanceUID", "UI", K::kText},
    Attribute{0x00080020, "study_date", "StudyDate", "DA", K::kText},
    Attribute{0x00080030, "study_time", "StudyTime", "TM", K::kText},
    Attribute{0x00080050, "accession_number", "AccessionNumber", "SH", K::kText},
    Attribute{0x00200010, "study_id", "StudyID", "SH", K::kText},
    Attribute{0x00081030, "study_description", "StudyDescription", "LO", K::kText},
    Attribute{0x00080061, "modalities_in_study", "ModalitiesInStudy", "CS", K::kTextList},
    Attribute{0x00080090, "referring_physician_name", "ReferringPhysicianName", "PN",
              K::kPersonName},
    Attribute{0x00100010, "patient_name", "PatientName", "PN", K::kPersonName},
    Attribute{0x00100020, "patient_id", "PatientID", "LO", K::kText},
    Attribute{0x00100030, "patient_birth_date", "PatientBirthDate", "DA", K::kText},
    Attribute{0x00100040, "patient_sex", "PatientSex", "CS", K::kText},
    Attribute{0x00201206, "number_of_study_related_series", "NumberOfStudyRelatedSeries", "IS",
              K::kInteger},
    Attribute{0x00201208, "number_of_study_related_instances", "NumberOfStudyRelatedInstances",
              "IS", K::kInteger},
    Attribute{0x00081190, "retrieve_url", "RetrieveURL", "UR", K::kText},
};

// Series level (table 6.7.1-2a).
constexpr std::array kSeriesColumns = {
    Attribute{0x0020000E, "series_instance_uid", "SeriesInstanceUID", "UI", K::kText},
    Attribute{0x0020000D, "study_instance_uid", "StudyInstanceUID", "UI", K::kText},
    Attribute{0x00080020, "study_date", "StudyDate", "DA", K::kText},
    Attribute{0x00080060, "modality", "Modality", "CS", K::kText},
    Attribute{0x00200011, "series_number", "SeriesNumber", "IS", K::kInteger},
    Attribute{0x0008103E, "series_description", "SeriesDescription", "LO", K::kText},
    Attribute{0x00080021, "series_date", "SeriesDate", "DA", K::kText},
    Attribute{0x00080031, "series_time", "SeriesTime", "TM", K::kText},
    Attribute{0x00180015, "body_part_examined", "BodyPartExamined", "CS", K::kText},
    Attribute{0x00201209, "number_of_series_related_instances", "NumberOfSeriesRelatedInstances",
              "IS", K::kInteger},
    Attribute{0x00100020, "patient_id", "PatientID", "LO", K::kText},
    Attribute{0x00081190, "retrieve_url", "RetrieveURL", "UR", K::kText},
};

// Instance level (table 6.7.1-2b, plus the image attributes most viewers list).
constexpr std::array kInstanceColumns = {
    Attribute{0x00080018, "sop_instance_uid", "SOPInstanceUID", "UI", K::kText},
    Attribute{0x0020000E, "series_instance_uid", "SeriesInstanceUID", "UI", K::kText},
    Attribute{0x0020000D, "study_instance_uid", "StudyInstanceUID", "UI", K::kText},
    Attribute{0x00080016, "sop_class_uid", "SOPClassUID", "UI", K::kText},
    Attribute{0x00200013, "instance_number", "InstanceNumber", "IS", K::kInteger},
    Attribute{0x00080020, "study_date", "StudyDate", "DA", K::kText},
    Attribute{0x00080060, "modality", "Modality", "CS", K::kText},
    Attribute{0x00080023, "content_date", "ContentDate", "DA", K::kText},
    Attribute{0x00080033, "content_time", "ContentTime", "TM", K::kText},
    Attribute{0x00080008, "image_type", "ImageType", "CS", K::kTextList},
    Attribute{0x00280010, "rows", "Rows", "US", K::kInteger},
    Attribute{0x00280011, "columns", "Columns", "US", K::kInteger},
    Attribute{0x00280008, "number_of_frames", "NumberOfFrames", "IS", K::kInteger},
    Attribute{0x00280100, "bits_allocated", "BitsAllocated", "US", K::kInteger},
    Attribute{0x00280030, "pixel_spacing", "PixelSpacing", "DS", K::kDecimalList},
    Attribute{0x00180050, "slice_thickness", "SliceThickness", "DS", K::kDecimal},
    Attribute{0x00081190, "retrieve_url", "RetrieveURL", "UR", K::kText},
};

// Instance metadata (WADO-RS RetrieveMetadata of a series, PS3.18 §10.4): every attribute of each
// instance but bulk data; these columns type the common image attributes (PS3.3 C.7.6.1 General
// Image, C.7.6.2 Image Plane, C.7.6.3 Image Pixel, C.7.5.1 General Equipment).
constexpr std::array kInstanceMetadataColumns = {
    Attribute{0x00080018, "sop_instance_uid", "SOPInstanceUID", "UI", K::kText},
    Attribute{0x0020000E, "series_instance_uid", "SeriesInstanceUID", "UI", K::kText},
    Attribute{0x0020000D, "study_instance_uid", "StudyInstanceUID", "UI", K::kText},
    Attribute{0x00080016, "sop_class_uid", "SOPClassUID", "UI", K::kText},
    Attribute{0x00200013, "instance_number", "InstanceNumber", "IS", K::kInteger},
    Attribute{0x00080020, "study_date", "StudyDate", "DA", K::kText},
    Attribute{0x00080060, "modality", "Modality", "CS", K::kText},
    Attribute{0x00080008, "image_type", "ImageType", "CS", K::kTextList},
    Attribute{0x00080070, "manufacturer", "Manufacturer", "LO", K::kText},
    Attribute{0x00081090, "manufacturer_model_name", "ManufacturerModelName", "LO", K::kText},
    Attribute{0x00100020, "patient_id", "PatientID", "LO", K::kText},
    Attribute{0x00100010, "patient_name", "PatientName", "PN", K::kPersonName},
    Attribute{0x00101010, "patient_age", "PatientAge", "AS", K::kText},
    Attribute{0x00180015, "body_part_examined", "BodyPartExamined", "CS", K::kText},
    Attribute{0x00180050, "slice_thickness", "SliceThickness", "DS", K::kDecimal},
    Attribute{0x00200032, "image_position_patient", "ImagePositionPatient", "DS", K::kDecimalList},
    Attribute{0x00200037, "image_orientation_patient", "ImageOrientationPatient", "DS",
              K::kDecimalList},
    Attribute{0x00280030, "pixel_spacing", "PixelSpacing", "DS", K::kDecimalList},
    Attribute{0x00280010, "rows", "Rows", "US", K::kInteger},
    Attribute{0x00280011, "columns", "Columns", "US", K::kInteger},
    Attribute{0x00280008, "number_of_frames", "NumberOfFrames", "IS", K::kInteger},
    Attribute{0x00280004, "photometric_interpretation", "PhotometricInterpretation", "CS",
              K::kText},
    Attribute{0x00280100, "bits_allocated", "BitsAllocated", "US", K::kInteger},
    Attribute{0x00280101, "bits_stored", "BitsStored", "US", K::kInteger},
    Attribute{0x00281050, "window_center", "WindowCenter", "DS", K::kDecimalList},
    Attribute{0x00281051, "window_width", "WindowWidth", "DS", K::kDecimalList},
    Attribute{0x7FE00010, "pixel_data", "PixelData", "OB or OW", K::kText},
};

constexpr std::array kTables = {
    TableDefinition{"studies", 0x0020000D, "study_instance_uid", kStudyColumns},
    TableDefinition{"series", 0x0020000E, "series_instance_uid", kSeriesColumns},
    TableDefinition{"instances", 0x00080018, "sop_instance_uid", kInstanceColumns},
    TableDefinition{kInstanceMetadataTable, 0x00080018, "sop_instance_uid",
                    kInstanceMetadataColumns},
};

std::string comment(std::string_view text) {
  std::string out = "{\"comment\":";
  append_json_string(out, text);
  out += '}';
  return out;
}

DataType column_type(ValueKind kind) {
  switch (kind) {
    case K::kText:
      return DataType::String();
    case K::kInteger:
      return DataType::Long();
    case K::kDecimal:
      return DataType::Double();
    case K::kPersonName:
      return StructType{StructField("alphabetic", DataType::String()),
                        StructField("ideographic", DataType::String()),
                        StructField("phonetic", DataType::String())};
    case K::kTextList:
      return DataType::Array(DataType::String());
    case K::kDecimalList:
      return DataType::Array(DataType::Double());
  }
  return DataType::String();
}

}  // namespace

std::span<const TableDefinition> table_definitions() { return kTables; }

const TableDefinition* find_table(std::string_view name) {
  for (const TableDefinition& table : kTables) {
    if (table.name == name) return &table;
  }
  return nullptr;
}

StructType table_schema(const TableDefinition& table) {
  std::vector<StructField> fields;
  for (const Attribute& column : table.columns) {
    const bool key = column.tag == table.key_tag;
    fields.emplace_back(
        std::string(column.column), column_type(column.kind), !key,
        comment(fmt::format("{} {} ({})", format_tag(column.tag), column.keyword, column.vr)));
  }
  fields.emplace_back(std::string(kConnectionNameColumn), DataType::String(), true,
                      comment("the connection's connection_name (default: base_url)"));
  fields.emplace_back(std::string(kDicomJsonColumn), DataType::String(), true,
                      comment("the DICOM JSON object as the server sent it"));
  return StructType(std::move(fields));
}

std::string include_fields(const TableDefinition& table) {
  std::string out;
  for (const Attribute& column : table.columns) {
    if (!out.empty()) out.push_back(',');
    fmt::format_to(std::back_inserter(out), "{:08X}", column.tag);
  }
  return out;
}

}  // namespace lakeflow::dicomweb
