// Starts a real Orthanc PACS with its DICOMweb plugin for a test and stops it afterwards.
//
//   auto server = OrthancServer::start();
//   server.store(dicom_file_bytes);                       // POST /instances
//   options.set("base_url", server.dicomweb_url());      // http://127.0.0.1:PORT/dicom-web
//
// Debian's `orthanc` and `orthanc-dicomweb` packages (scripts/install-deps installs them); the
// system service they ship is never used. Each server runs /usr/sbin/Orthanc as a child process
// with a generated configuration: a free HTTP port on 127.0.0.1, the DICOM (DIMSE) server off,
// storage and index in a temporary directory, UTF-8 as the default character set, and the
// DICOMweb plugin at /dicom-web. Optional: HTTP Basic users (`RegisteredUsers`), or a bearer token
// checked by a Lua filter on every request (Orthanc itself has no bearer authentication; a request
// without `Authorization: Bearer <token>` gets 403). The server dies with the test process
// (`setpriv --pdeathsig`) and is killed by the destructor, its directory removed. Orthanc runs as
// root without complaint, so CI needs no other user.
#pragma once

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lakeflow/json.h"
#include "subprocess.h"

namespace lakeflow::test_support {

struct OrthancOptions {
  std::string username{};  // with password: HTTP Basic authentication on every request
  std::string password{};
  std::string bearer_token{};  // a Lua filter admits only "Authorization: Bearer <token>"
};

class OrthancServer {
 public:
  static constexpr const char* kOrthanc = "/usr/sbin/Orthanc";
  static constexpr const char* kDicomWebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

  static OrthancServer start(OrthancOptions options = {}) {
    for (const char* path : {kOrthanc, kDicomWebPlugin}) {
      if (!std::filesystem::exists(path)) {
        throw std::runtime_error(std::string("orthanc: ") + path +
                                 " is missing; run scripts/install-deps (Debian packages orthanc "
                                 "and orthanc-dicomweb)");
      }
    }
    OrthancServer server(std::move(options));
    for (int attempt = 0;; ++attempt) {
      server.port_ = free_tcp_port();
      server.spawn();
      if (server.wait_ready()) return server;
      const std::string log = server.process_->err_so_far();
      server.process_.reset();
      if (attempt == 4) throw std::runtime_error("orthanc: the server did not start:\n" + log);
    }
  }

  OrthancServer(OrthancServer&&) noexcept = default;
  OrthancServer& operator=(OrthancServer&&) = delete;
  ~OrthancServer() = default;  // the process is killed before its directory is removed

  int port() const { return port_; }
  std::string rest_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string dicomweb_url() const { return rest_url() + "/dicom-web"; }

  // Stores one DICOM file (Part 10 bytes). Throws with Orthanc's answer when it refuses it.
  void store(const std::string& dicom) const {
    auto client = make_client();
    const auto answer = client->Post("/instances", dicom, "application/dicom");
    if (!answer || answer->status != 200) {
      throw std::runtime_error("orthanc: storing a DICOM file failed: " +
                               (answer ? answer->body : httplib::to_string(answer.error())));
    }
  }

  // Deletes the study with StudyInstanceUID `uid` and everything in it.
  void delete_study(const std::string& uid) const {
    auto client = make_client();
    const auto found = client->Post("/tools/lookup", uid, "text/plain");
    if (!found || found->status != 200) throw std::runtime_error("orthanc: lookup failed");
    const JsonValue matches = JsonValue::parse(found->body);
    for (const JsonValue& match : matches.as_array()) {
      if (match.find("Type")->as_string() != "Study") continue;
      const auto deleted = client->Delete(match.find("Path")->as_string());
      if (!deleted || deleted->status != 200) throw std::runtime_error("orthanc: delete failed");
      return;
    }
    throw std::runtime_error("orthanc: no study " + uid);
  }

  // A GET of Orthanc's REST API (with the server's credentials): the body, or throws.
  std::string get(const std::string& path) const {
    auto client = make_client();
    const auto answer = client->Get(path);
    if (!answer || answer->status != 200) throw std::runtime_error("orthanc: GET " + path);
    return answer->body;
  }

 private:
  explicit OrthancServer(OrthancOptions options)
      : options_(std::move(options)), dir_(std::make_unique<TempDir>("lakeflow_orthanc")) {}

  std::unique_ptr<httplib::Client> make_client() const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client->set_connection_timeout(std::chrono::seconds(5));
    client->set_read_timeout(std::chrono::seconds(60));
    if (!options_.username.empty()) {
      client->set_basic_auth(options_.username, options_.password);
    }
    if (!options_.bearer_token.empty()) client->set_bearer_token_auth(options_.bearer_token);
    return client;
  }

  void spawn() {
    const std::string storage = dir_->file("storage-" + std::to_string(port_));
    JsonValue::Object config{
        {"Name", JsonValue("lakeflow-test")},
        {"StorageDirectory", JsonValue(storage)},
        {"IndexDirectory", JsonValue(storage)},
        {"HttpPort", JsonValue(port_)},
        {"RemoteAccessAllowed", JsonValue(false)},
        {"DicomServerEnabled", JsonValue(false)},
        {"DefaultEncoding", JsonValue("Utf8")},
        {"StorageCompression", JsonValue(false)},
        {"SaveJobs", JsonValue(false)},
        {"Plugins", JsonValue(JsonValue::Array{JsonValue(kDicomWebPlugin)})},
        {"DicomWeb",
         JsonValue(JsonValue::Object{{"Enable", JsonValue(true)},
                                     {"Root", JsonValue("/dicom-web/")},
                                     {"EnableWado", JsonValue(false)},
                                     {"Host", JsonValue("127.0.0.1:" + std::to_string(port_))}})},
        {"AuthenticationEnabled", JsonValue(!options_.username.empty())},
    };
    if (!options_.username.empty()) {
      config.emplace(
          "RegisteredUsers",
          JsonValue(JsonValue::Object{{options_.username, JsonValue(options_.password)}}));
    }
    if (!options_.bearer_token.empty()) {
      // Orthanc passes header names lower-cased; the token holds no quote or backslash.
      const std::string script = dir_->file("bearer.lua");
      std::ofstream(script) << "function IncomingHttpRequestFilter(method, uri, ip, username, "
                               "httpHeaders)\n  return httpHeaders['authorization'] == 'Bearer "
                            << options_.bearer_token << "'\nend\n";
      config.emplace("LuaScripts", JsonValue(JsonValue::Array{JsonValue(script)}));
    }
    const std::string path = dir_->file("orthanc-" + std::to_string(port_) + ".json");
    std::ofstream(path) << JsonValue(std::move(config)).dump();
    ProcessOptions process;
    process.merge_stderr = true;
    process.timeout = std::chrono::hours(24);  // stopped by the destructor, never waited for
    process_ = std::make_unique<RunningProcess>(
        start_process({"/usr/bin/setpriv", "--pdeathsig", "KILL", kOrthanc, path}, process));
  }

  bool wait_ready() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(process_->pid(), nullptr, WNOHANG) != 0) return false;  // exited: port taken?
      auto client = make_client();
      client->set_connection_timeout(std::chrono::milliseconds(200));
      if (const auto answer = client->Get("/dicom-web/studies?limit=1");
          answer && answer->status == 200) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  OrthancOptions options_;
  std::unique_ptr<TempDir> dir_;
  int port_ = 0;
  // Declared after dir_: destroyed (killed) first.
  std::unique_ptr<RunningProcess> process_;
};

}  // namespace lakeflow::test_support
