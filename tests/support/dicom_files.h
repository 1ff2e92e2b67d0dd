// The DICOM files of the DICOMweb tests: made once per test process from the text dumps in
// sources/dicomweb/test/dicom/ (where each comes from: sources/dicomweb/dicomweb_api_doc.md) with
// dcmtk's dump2dcm (Debian package dcmtk), and generated studies made from
// sources/dicomweb/test/dicom/generated_study.dump by replacing its marker UID part and study date
// with values of the same length (a DICOM file with the same lengths stays valid).
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "orthanc_server.h"
#include "subprocess.h"

namespace lakeflow::test_support::dicom {

inline constexpr const char* kDump2dcm = "/usr/bin/dump2dcm";

// The sample files of sources/dicomweb/test/dicom (without .dump), in the order they are stored.
inline const std::vector<std::string>& sample_names() {
  static const std::vector<std::string> names = {
      "ct_head_image", "ct_head_report", "mr_knee_image_1", "mr_knee_image_2", "cr_chest_undated"};
  return names;
}

inline constexpr const char* kStudy1 = "1.2.826.0.1.3680043.10.1234.1";
inline constexpr const char* kStudy2 = "1.2.826.0.1.3680043.10.1234.2";
inline constexpr const char* kStudy3 = "1.2.826.0.1.3680043.10.1234.3";

// The Part 10 bytes of sources/dicomweb/test/dicom/<name>.dump.
inline std::string dicom_file(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::string> made;
  static TempDir dir("lakeflow_dicom_files");
  const std::lock_guard lock(mutex);
  if (const auto found = made.find(name); found != made.end()) return found->second;
  const std::string dump = (std::filesystem::path(LAKEFLOW_REPO_DIR) / "sources" / "dicomweb" /
                            "test" / "dicom" / (name + ".dump"))
                               .string();
  const std::string out = dir.file(name + ".dcm");
  const ProcessResult run = run_process({kDump2dcm, "+te", dump, out});
  if (run.status != 0) {
    throw std::runtime_error("dump2dcm " + dump +
                             " failed (install dcmtk: scripts/install-deps): " + run.out + run.err);
  }
  return made.emplace(name, slurp(out)).first->second;
}

// UIDs of generated study `number` (0..99999).
inline std::string generated_study_uid(int number) {
  return fmt::format("1.2.826.0.1.3680043.10.1234.9.{:05}", number);
}
inline std::string generated_series_uid(int number) { return generated_study_uid(number) + ".1"; }
inline std::string generated_instance_uid(int number) {
  return generated_study_uid(number) + ".1.1";
}

// Generated study `number` with one series of one instance, dated `study_date` (YYYYMMDD).
inline std::string generated_study(int number, std::string_view study_date) {
  std::string bytes = dicom_file("generated_study");
  const std::string digits = fmt::format("{:05}", number);
  for (std::size_t at = bytes.find("99999"); at != std::string::npos;
       at = bytes.find("99999", at + 5)) {
    bytes.replace(at, 5, digits);
  }
  for (std::size_t at = bytes.find("20240601"); at != std::string::npos;
       at = bytes.find("20240601", at + 8)) {
    bytes.replace(at, 8, study_date);
  }
  return bytes;
}

// Today's UTC date, YYYYMMDD (the date a connector made now starts its sync on).
inline std::string today() {
  const std::chrono::year_month_day date(
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  return fmt::format("{:04}{:02}{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

inline void store_samples(const OrthancServer& server) {
  for (const std::string& name : sample_names()) server.store(dicom_file(name));
}

}  // namespace lakeflow::test_support::dicom
