// The machine checks of the checklist. Each answers for one checklist item: kOk with what it
// found, kFail with what is wrong and what to do, kPending when there is nothing to judge yet.
#include "workflow/checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <memory>

#include "core/plugin_loader.h"
#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/offset.h"
#include "lakeflow/options.h"
#include "lakeflow/registry.h"
#include "util/text.h"

namespace lakeflow::workflow {
namespace fs = std::filesystem;
namespace {

std::string join_names(const std::vector<std::string>& names, std::size_t limit = 8) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
    out += (i == 0 ? "" : ", ") + names[i];
  }
  if (names.size() > limit) out += fmt::format(", ... ({} in all)", names.size());
  return out;
}

std::string single_line_text(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text.size() > 200 ? text.substr(0, 200) + "..." : text;
}

CheckResult ok(std::string detail) { return {ItemState::kOk, std::move(detail), "", false}; }
CheckResult fail(std::string detail, std::string todo, bool error = false) {
  return {ItemState::kFail, std::move(detail), std::move(todo), error};
}
CheckResult pending(std::string detail, std::string todo) {
  return {ItemState::kPending, std::move(detail), std::move(todo), false};
}

// --- Documents ----------------------------------------------------------------------------------

const std::optional<std::string>& document_text(CheckContext& c, std::string_view key) {
  return key == "design" ? c.design : key == "api_doc" ? c.api_doc : c.readme;
}

CheckResult sections_check(CheckContext& c, std::string_view key) {
  const DocumentRule& rule = c.checklist.document(key);
  const std::string file = with_name(rule.file, c.name);
  const std::optional<std::string>& text = document_text(c, key);
  if (!text) {
    return fail(file + " is missing",
                fmt::format("create it (lakeflow new writes it from templates/connector/)"));
  }
  const std::vector<Section> all = markdown_sections(*text);
  std::vector<std::string> missing;
  std::vector<std::string> unfilled;
  for (const std::vector<std::string>& alternatives : rule.sections) {
    const Section* found = nullptr;
    for (const Section& section : all) {
      for (const std::string& alternative : alternatives) {
        if (section.heading.find(alternative) != std::string::npos) found = &section;
      }
      if (found != nullptr) break;
    }
    if (found == nullptr) {
      missing.push_back("'" + alternatives.front() + "'");
    } else if (text::trim(found->body).empty() || unfilled_marker(found->body)) {
      unfilled.push_back("'" + alternatives.front() + "'");
    }
  }
  if (missing.empty() && unfilled.empty()) {
    if (const auto marker = unfilled_marker(*text)) {
      return fail(fmt::format("{} still contains '{}' from the template", file, *marker),
                  "replace every TODO and {{placeholder}}");
    }
    return ok(
        fmt::format("{}: all {} required sections present and filled", file, rule.sections.size()));
  }
  std::vector<std::string> parts;
  if (!missing.empty()) parts.push_back("missing section(s) " + join_names(missing, 20));
  if (!unfilled.empty()) {
    parts.push_back("unfilled section(s) (empty, TODO or {{placeholder}}) " +
                    join_names(unfilled, 20));
  }
  return fail(fmt::format("{}: {}", file, fmt::join(parts, "; ")),
              fmt::format("write each section (headings as in templates/connector/{})",
                          with_name(rule.file, "{{name}}")));
}

// The reading references of DESIGN.md: the backticked paths on its `> Guide:` (and older
// `> Skill:`) lines, which must exist in the repository, the connector folder or the installed SDK.
CheckResult design_references(CheckContext& c, const ChecklistItem&) {
  if (!c.design) return fail("DESIGN.md is missing", "create it with lakeflow new");
  std::vector<std::string> checked;
  std::vector<std::string> missing;
  std::string text;
  for (const std::string& line : text_lines(*c.design)) {
    const std::string_view t = text::trim(line);
    if (t.rfind("> Guide:", 0) == 0 || t.rfind("> Skill:", 0) == 0) text += line + "\n";
  }
  for (std::size_t open = text.find('`'); open != std::string::npos;) {
    const std::size_t close = text.find('`', open + 1);
    if (close == std::string::npos) break;
    const std::string token = text.substr(open + 1, close - open - 1);
    open = text.find('`', close + 1);
    if (token.empty() || token.find_first_of("{}<>*? ") != std::string::npos) continue;
    const std::string path = token.substr(0, token.find('#'));
    if (std::find(checked.begin(), checked.end(), path) != checked.end()) continue;
    checked.push_back(path);
    std::error_code ec;
    // The repository's file, the connector's, or that of the installed SDK (<prefix>/share/
    // lakeflow/docs/workflow.md beside <prefix>/bin/lakeflow).
    const fs::path installed =
        fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path() / "share" / "lakeflow";
    if (!fs::exists(c.options.root / path, ec) && !fs::exists(c.folder / path, ec) &&
        !fs::exists(installed / path, ec)) {
      missing.push_back(path);
    }
  }
  if (!missing.empty()) {
    return fail("DESIGN.md refers to missing file(s): " + join_names(missing),
                "point it at files that exist (the guide is " + c.checklist.guide + ")");
  }
  return ok(checked.empty()
                ? std::string("no guide referred to")
                : fmt::format("the guide(s) it refers to exist: {}", join_names(checked)));
}

// http(s) URLs with a dotted host in the research log.
CheckResult research_log_urls(CheckContext& c, const ChecklistItem&) {
  if (!c.api_doc) return fail(c.name + "_api_doc.md is missing", "create it with lakeflow new");
  int urls = 0;
  bool has_log = false;
  for (const Section& section : markdown_sections(*c.api_doc)) {
    if (section.heading.find("research log") == std::string::npos) continue;
    has_log = true;
    for (std::string_view scheme : {"https://", "http://"}) {
      for (std::size_t pos = section.body.find(scheme); pos != std::string::npos;
           pos = section.body.find(scheme, pos + 1)) {
        std::size_t end = pos + scheme.size();
        while (end < section.body.size() &&
               (std::isalnum(static_cast<unsigned char>(section.body[end])) ||
                section.body[end] == '-' || section.body[end] == '.')) {
          ++end;
        }
        const std::string host =
            section.body.substr(pos + scheme.size(), end - pos - scheme.size());
        const std::size_t dot = host.find('.');
        if (dot != std::string::npos && dot > 0 && dot + 1 < host.size()) ++urls;
      }
    }
  }
  if (!has_log) return fail("the API doc has no research log section", "add '## Research log'");
  if (urls == 0) {
    return fail("the research log cites no http(s) URL", "cite each source you used by its URL");
  }
  return ok(fmt::format("{} URL(s) cited", urls));
}

CheckResult tbd_markers(CheckContext& c, const ChecklistItem&) {
  if (!c.api_doc) return fail(c.name + "_api_doc.md is missing", "create it with lakeflow new");
  int count = 0;
  for (std::size_t pos = 0; (pos = c.api_doc->find("TBD:", pos)) != std::string::npos; pos += 4) {
    if (pos == 0 || (*c.api_doc)[pos - 1] != '`') ++count;
  }
  if (count == 0) return ok("no open TBD: marker");
  return pending(fmt::format("{} open TBD: marker(s) in the API doc", count),
                 "resolve them, or mark this item n/a with the reason they stay");
}

// --- Code ---------------------------------------------------------------------------------------

CheckResult connector_sources(CheckContext& c, const ChecklistItem&) {
  int headers = 0;
  int sources = 0;
  for (const SourceFile& file : c.sources) {
    (fs::path(file.path).extension() == ".h" ? headers : sources) += 1;
  }
  if (headers == 0 || sources == 0) {
    return fail(fmt::format("{} has {} header(s) and {} source file(s)", c.where, headers, sources),
                "write the connector as NAME_connector.h and NAME_connector.cc");
  }
  return ok(fmt::format("{} header(s), {} source file(s)", headers, sources));
}

// The definitions of a table method: `Class::method(...)`, or of its protected hook
// `Class::do_method(...)` under a non-virtual interface.
std::vector<std::string> definitions(const CheckContext& c, std::string_view method) {
  std::vector<std::string> bodies;
  for (const SourceFile& file : c.sources) {
    for (const std::string& name : {std::string(method), "do_" + std::string(method)}) {
      for (std::string& body : file.source.definitions(name)) bodies.push_back(std::move(body));
    }
  }
  return bodies;
}

// Whether the connector implements protected do_* hooks, whose table names the framework's
// non-virtual public methods check before calling them.
bool uses_hooks(const CheckContext& c) {
  return std::any_of(c.sources.begin(), c.sources.end(), [&](const SourceFile& file) {
    return std::any_of(
        c.checklist.table_methods.begin(), c.checklist.table_methods.end(),
        [&](const std::string& m) { return !file.source.definitions("do_" + m).empty(); });
  });
}

CheckResult method_implemented(CheckContext& c, const ChecklistItem& item) {
  const std::vector<std::string> bodies = definitions(c, item.method);
  if (bodies.empty()) {
    if (item.method == "read_table_deletes") {
      return pending("not overridden (the default throws NotImplementedError)",
                     "implement it when a table is cdc_with_deletes, else mark the item "
                     "'n/a: <reason>'");
    }
    return fail(fmt::format("no definition of do_{}() in {}", item.method, c.where),
                fmt::format("define the hook do_{}() (lakeflow/connector.h)", item.method));
  }
  for (const std::string& body : bodies) {
    if (contains_word(body, "not_implemented")) {
      return fail(
          fmt::format("do_{}() still throws the scaffold's NotImplementedError", item.method),
          fmt::format("implement it{}", item.method == "read_table_deletes"
                                            ? ", or mark the item 'n/a: <reason>' and "
                                              "delete the override"
                                            : ""));
    }
  }
  return ok(fmt::format("do_{}() is defined and is no scaffold stub", item.method));
}

CheckResult table_name_validation(CheckContext& c, const ChecklistItem&) {
  if (uses_hooks(c)) {
    return ok("the framework checks the table name before each do_* hook (non-virtual interface)");
  }
  std::vector<std::string> unchecked;
  int defined = 0;
  for (const std::string& method : c.checklist.table_methods) {
    if (c.na_methods.count(method)) continue;
    for (const std::string& body : definitions(c, method)) {
      ++defined;
      if (!contains_word(body, "require_table")) {
        unchecked.push_back(method);
        break;
      }
    }
  }
  if (!unchecked.empty()) {
    return fail("does not call require_table first: " + join_names(unchecked),
                "call require_table(table) at the start of each table method");
  }
  return ok(fmt::format("each of the {} table method definition(s) calls require_table", defined));
}

// Registers the connector of an out-of-tree project from the plugin its build made
// (BUILD/lakeflow_NAME.so), unless it is registered already (LAKEFLOW_PLUGIN_PATH, --plugin).
// Returns why it cannot be, or "".
std::string load_project_plugin(const CheckContext& c) {
  ConnectorRegistry& registry = ConnectorRegistry::instance();
  if (registry.find(c.name) != nullptr) return "";
  const fs::path plugin = c.options.build_dir / ("lakeflow_" + c.name + ".so");
  std::error_code ec;
  if (!fs::exists(plugin, ec)) return fmt::format("no plugin {} built yet", plugin.string());
  try {
    load_plugin(plugin, registry);
  } catch (const PluginError& e) {
    return single_line_text(e.what());
  }
  if (registry.find(c.name) == nullptr) {
    return fmt::format("{} does not register a connector named '{}'", plugin.string(), c.name);
  }
  return "";
}

// Runs every table method of the registered connector with a table it does not serve.
CheckResult unknown_table_run(CheckContext& c, const ChecklistItem&) {
  if (c.out_of_tree) {
    if (const std::string problem = load_project_plugin(c); !problem.empty()) {
      return pending("not run: " + problem, fmt::format("build the project (cmake --build {})",
                                                        c.options.build_dir.string()));
    }
  } else if (ConnectorRegistry::instance().find(c.name) == nullptr) {
    return pending("not run: the connector is not linked into this lakeflow binary",
                   "rebuild lakeflow (make) so that it includes the connector");
  }
  std::string config = "{}";
  if (const auto dev = files::read_file_if_exists(c.folder / "configs" / "dev_config.json")) {
    config = *dev;
  } else if (const auto cmake = files::read_file_if_exists(c.folder / "CMakeLists.txt")) {
    static constexpr std::string_view kKey = "LAKEFLOW_TEST_CONFIG_JSON=";
    const std::size_t at = cmake->find(kKey);
    if (at != std::string::npos) {
      const std::size_t start = at + kKey.size();
      const std::size_t end = cmake->find('\n', start);
      std::string value = cmake->substr(start, end == std::string::npos ? end : end - start);
      const std::size_t close = value.rfind('}');
      if (!value.empty() && value[0] == '{' && close != std::string::npos) {
        config = value.substr(0, close + 1);
      }
    }
  }
  std::unique_ptr<LakeflowConnect> connector;
  try {
    connector = ConnectorRegistry::instance().create(c.name, Options::from_json(config));
  } catch (const std::exception& e) {
    return pending("not run: cannot construct the connector (" + single_line_text(e.what()) + ")",
                   "give the connection options in configs/dev_config.json");
  }
  constexpr std::string_view kTable = "lakeflow_check_no_such_table";
  std::vector<std::string> wrong;
  auto expect_unknown = [&](const char* method, const std::function<void()>& call) {
    try {
      call();
      wrong.push_back(std::string(method) + " returned normally");
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kUnknownTable) {
        wrong.push_back(fmt::format("{} threw {}", method, to_string(e.code())));
      }
    } catch (const std::exception& e) {
      wrong.push_back(fmt::format("{} threw '{}'", method, single_line_text(e.what())));
    }
  };
  const Options none;
  expect_unknown("get_table_schema", [&] { connector->get_table_schema(kTable, none); });
  expect_unknown("read_table_metadata", [&] { connector->read_table_metadata(kTable, none); });
  expect_unknown("read_table", [&] { connector->read_table(kTable, Offset(), none); });
  expect_unknown("read_table_deletes",
                 [&] { connector->read_table_deletes(kTable, Offset(), none); });
  if (!wrong.empty()) {
    return fail("expected UnknownTableError: " + join_names(wrong),
                "throw UnknownTableError (require_table) for a table the connector does not serve");
  }
  return ok("ran: each of the 4 table methods throws UnknownTableError for an unknown table");
}

CheckResult types_preferred(CheckContext& c, const ChecklistItem&) {
  bool loose = false;
  for (const SourceFile& file : c.sources) {
    const std::string& code = file.source.code();
    loose = loose || contains_word(code, "DataType::Integer") ||
            contains_word(code, "DataType::Map") || contains_word(code, "IntegerType") ||
            contains_word(code, "MapType");
  }
  bool reasoned = false;
  for (const SourceFile& file : c.tests) {
    reasoned = reasoned || file.source.uses("allowed_integer_or_map_fields");
  }
  if (!loose) return ok("no IntegerType or MapType in the connector's code");
  if (reasoned) {
    return ok("IntegerType/MapType used, each with a written reason in the suite options");
  }
  return fail("IntegerType or MapType used without a reason",
              "use LongType / StructType, or give the reason in "
              "SuiteOptions::allowed_integer_or_map_fields");
}

// No test double stands in for the connector or its source: no gMock mock (MOCK_METHOD,
// EXPECT_CALL, ON_CALL, NiceMock/StrictMock/NaggyMock) in the connector's files, and no class in
// its test files derives from LakeflowConnect, from one of the connector's classes or from
// HttpClient.
CheckResult no_mocks(CheckContext& c, const ChecklistItem&) {
  static constexpr std::string_view kMockWords[] = {
      "MOCK_METHOD",  "MOCK_CONST_METHOD0", "MOCK_CONST_METHOD1",
      "MOCK_METHOD0", "MOCK_METHOD1",       "EXPECT_CALL",
      "ON_CALL",      "NiceMock",           "StrictMock",
      "NaggyMock"};
  std::vector<std::string> found;
  std::set<std::string> connector_classes;
  for (const SourceFile& file : c.sources) {
    for (const auto& [name, bases] : file.source.bases()) {
      if (std::find(bases.begin(), bases.end(), "LakeflowConnect") != bases.end()) {
        connector_classes.insert(name);
      }
    }
  }
  auto scan = [&](const std::vector<SourceFile>& files, bool test) {
    for (const SourceFile& file : files) {
      for (std::string_view word : kMockWords) {
        if (file.source.uses(word)) found.push_back(fmt::format("{} uses {}", file.path, word));
      }
      if (!test) continue;
      for (const auto& [name, bases] : file.source.bases()) {
        for (const std::string& base : bases) {
          if (base == "LakeflowConnect" || base == "HttpClient" || connector_classes.count(base)) {
            found.push_back(fmt::format("{}: class {} derives from {}", file.path, name, base));
          }
        }
      }
    }
  };
  scan(c.sources, false);
  scan(c.tests, true);
  if (!found.empty()) {
    return fail("test doubles: " + join_names(found),
                "test against the real source (or a real local server), not a mock");
  }
  return ok(fmt::format(
      "no gMock mock in {} file(s); no test class derives from LakeflowConnect, the connector or "
      "HttpClient",
      c.sources.size() + c.tests.size()));
}

// The connector returns the source's JSON: its code includes nothing of the engine's converter
// (columnar/, record_converter, column builders), and its read_table and read_table_deletes do
// not ask for the schema or build columns (get_table_schema, StructType, RecordConverter,
// ColumnBatch).
CheckResult no_schema_conversion(CheckContext& c, const ChecklistItem&) {
  std::vector<std::string> found;
  for (const SourceFile& file : c.sources) {
    for (const std::string& include : file.source.includes()) {
      if (include.rfind("columnar/", 0) == 0 ||
          include.find("record_converter") != std::string::npos ||
          include.find("column_builder") != std::string::npos) {
        found.push_back(fmt::format("{} includes {}", file.path, include));
      }
    }
  }
  for (const char* method : {"read_table", "read_table_deletes"}) {
    for (const std::string& body : definitions(c, method)) {
      for (const char* word :
           {"get_table_schema", "StructType", "RecordConverter", "ColumnBatch"}) {
        if (contains_word(body, word)) found.push_back(fmt::format("{}() uses {}", method, word));
      }
    }
  }
  if (!found.empty()) {
    return fail("schema work in the read path: " + join_names(found),
                "return the source's records as JSON (RecordBatch); the framework converts them");
  }
  return ok("read_table/read_table_deletes use no schema and nothing includes the converter");
}

// --- Tests --------------------------------------------------------------------------------------

CheckResult suite_instantiated(CheckContext& c, const ChecklistItem&) {
  std::vector<std::string> files;
  for (const SourceFile& file : c.tests) {
    if (file.source.uses("LAKEFLOW_CONFORMANCE_SUITE")) files.push_back(file.path);
  }
  if (files.empty()) {
    return fail("no test/*.cc calls LAKEFLOW_CONFORMANCE_SUITE(...)",
                "instantiate the suite as templates/connector/test/{{name}}_conformance_test.cc "
                "does");
  }
  return ok(join_names(files) + " instantiates the conformance suite");
}

CheckResult tests_wired(CheckContext& c, const ChecklistItem&) {
  const std::string cmake = files::read_file_if_exists(c.folder / "CMakeLists.txt").value_or("");
  // In tree lakeflow_connector(), out of tree the installed SDK's lakeflow_add_connector().
  const std::string call = c.out_of_tree ? "lakeflow_add_connector" : "lakeflow_connector";
  if (cmake.find(call + "(") != std::string::npos && cmake.find("TESTS") != std::string::npos) {
    return ok(fmt::format("CMakeLists.txt declares {}(... TESTS ...)", call));
  }
  return fail(fmt::format("CMakeLists.txt lacks {}(NAME SOURCES ... TESTS ...)", call),
              "list the test files under TESTS");
}

std::string not_run_todo(const CheckContext& c) {
  return fmt::format("run `lakeflow check {} --run-tests` (it runs by itself for a phase marked ✅)",
                     c.out_of_tree ? "--project " + c.folder.string() : c.name);
}

CheckResult conformance_run(CheckContext& c, const ChecklistItem&) {
  if (!c.run_tests) return pending("not run", not_run_todo(c));
  const TestRun& run = c.test_run();
  if (!run.ran) return fail("the test binary did not run: " + run.problem, "build it, then rerun");
  std::vector<std::string> failures;
  for (const auto& [name, result] : run.classes) {
    failures.insert(failures.end(), result.failures.begin(), result.failures.end());
  }
  const std::string counts = fmt::format("{} test(s), {} failed (exit status {})", run.total(),
                                         run.failed(), run.exit_status);
  if (run.total() == 0) return fail("the test binary ran no test", "instantiate the suite");
  if (!failures.empty() || run.exit_status != 0) {
    return fail(counts + (failures.empty() ? "" : ": " + join_names(failures, 5)),
                "fix the connector (or the configured source) until they pass");
  }
  if (run.mode != "live") {
    return ok(fmt::format("ran in {} mode ({}): {}", run.mode, run.mode_reason, counts));
  }
  return ok("ran against the configured source: " + counts);
}

CheckResult test_class(CheckContext& c, const ChecklistItem& item) {
  if (!c.run_tests) return pending("not run", not_run_todo(c));
  const TestRun& run = c.test_run();
  if (!run.ran) return fail("the test binary did not run: " + run.problem, "build it, then rerun");
  const auto it = run.classes.find(item.test_class);
  if (it == run.classes.end() || it->second.passed + it->second.failed == 0) {
    const int skipped = it == run.classes.end() ? 0 : it->second.skipped;
    return fail(fmt::format("no {} test ran{}", item.test_class,
                            skipped > 0 ? fmt::format(" ({} skipped)", skipped) : ""),
                "make the source serve what the class tests, or mark the item 'n/a: <reason>'");
  }
  const TestClassResult& result = it->second;
  if (result.failed > 0) {
    return fail(fmt::format("{} of {} failed: {}", result.failed, result.failed + result.passed,
                            join_names(result.failures, 5)),
                "fix the connector until the class passes");
  }
  return ok(fmt::format("{} passed{}", result.passed,
                        result.skipped > 0 ? fmt::format(", {} skipped", result.skipped) : ""));
}

CheckResult full_test_run(CheckContext& c, const ChecklistItem&) {
  if (!c.run_tests) return pending("not run", not_run_todo(c));
  const TestRun& run = c.test_run();
  if (!run.ran) return fail("the test binary did not run: " + run.problem, "build it, then rerun");
  if (run.failed() > 0 || run.exit_status != 0) {
    return fail(fmt::format("{} of {} test(s) failed (exit status {})", run.failed(), run.total(),
                            run.exit_status),
                "fix them and rerun");
  }
  return ok(fmt::format("all {} test(s) of the connector's test binary pass", run.total()));
}

// --- Documentation ------------------------------------------------------------------------------

CheckResult readme_exists(CheckContext& c, const ChecklistItem&) {
  if (!c.readme) return fail("README.md is missing", "create it with lakeflow new");
  return ok("found");
}

CheckResult parameters_documented(CheckContext& c, const ChecklistItem&) {
  if (!c.readme) return fail("README.md is missing", "create it with lakeflow new");
  if (!c.spec) return fail(c.spec_problem, "write connector_spec.yaml (templates/connector/)");
  std::vector<std::string> names;
  for (const ConnectorSpec::Parameter& p : c.spec->parameters()) names.push_back(p.name);
  if (names.empty()) {
    return pending("connector_spec.yaml lists no connection parameter yet",
                   "list the connector's connection parameters in connector_spec.yaml");
  }
  std::vector<std::string> undocumented;
  for (const std::string& name : names) {
    if (!contains_word(*c.readme, name)) undocumented.push_back(name);
  }
  if (!undocumented.empty()) {
    return fail("README does not mention: " + join_names(undocumented),
                "document each connection parameter of connector_spec.yaml");
  }
  return ok(fmt::format("{} parameter(s) of connector_spec.yaml documented", names.size()));
}

// Class names and snake_case function names declared in the connector's headers (the protocol's
// method names excepted: users read about them).
CheckResult no_internal_identifiers(CheckContext& c, const ChecklistItem&) {
  if (!c.readme) return fail("README.md is missing", "create it with lakeflow new");
  static const std::set<std::string> kInterface = {"list_tables",         "get_table_schema",
                                                   "read_table_metadata", "read_table",
                                                   "read_table_deletes",  "require_table"};
  std::set<std::string> names;
  std::set<std::string> parameters;
  if (c.spec) {
    for (const ConnectorSpec::Parameter& p : c.spec->parameters()) parameters.insert(p.name);
  }
  for (const SourceFile& file : c.sources) {
    if (fs::path(file.path).extension() != ".h") continue;
    for (const std::string& name : file.source.class_names()) names.insert(name);
    const std::string& code = file.source.code();
    for (std::size_t i = 0; i < code.size(); ++i) {
      if (!std::islower(static_cast<unsigned char>(code[i])) ||
          (i > 0 &&
           (std::isalnum(static_cast<unsigned char>(code[i - 1])) || code[i - 1] == '_'))) {
        continue;
      }
      std::size_t end = i;
      while (end < code.size() &&
             (std::islower(static_cast<unsigned char>(code[end])) ||
              std::isdigit(static_cast<unsigned char>(code[end])) || code[end] == '_')) {
        ++end;
      }
      const std::string word = code.substr(i, end - i);
      std::size_t next = end;
      while (next < code.size() && code[next] == ' ') ++next;
      if (next < code.size() && code[next] == '(' && word.find('_') != std::string::npos &&
          word.front() != '_' && word.back() != '_') {
        names.insert(word);
      }
      i = end;
    }
  }
  std::vector<std::string> leaked;
  for (const std::string& name : names) {
    if (kInterface.count(name) || parameters.count(name)) continue;
    if (contains_word(*c.readme, name)) leaked.push_back(name);
  }
  if (!leaked.empty()) {
    return fail("README names code identifiers: " + join_names(leaked),
                "describe behaviour in the user's terms, not the code's");
  }
  return ok("no class or function name from the headers");
}

// --- Credentials and configs --------------------------------------------------------------------

CheckResult dev_config_ignored(CheckContext& c, const ChecklistItem&) {
  const FolderFiles& files = c.files();
  std::vector<std::string> problems;
  for (const std::string& config : c.checklist.ignored_configs) {
    const FolderFile* file = files.find(config);
    if (file != nullptr && file->state == GitState::kTracked) {
      return fail(config + " is tracked by git",
                  fmt::format("git rm --cached {}{} and rotate its credentials", c.where, config),
                  true);
    }
    if (!files.ignores(config)) problems.push_back(config);
  }
  if (!problems.empty()) {
    const bool present = std::any_of(problems.begin(), problems.end(), [&](const std::string& p) {
      return files.find(p) != nullptr;
    });
    return fail(join_names(problems) + " would not be git-ignored", "list it in configs/.gitignore",
                present);
  }
  return ok(
      fmt::format("{} git-ignored{}", join_names(c.checklist.ignored_configs),
                  files.git ? "" : " (by the folder's .gitignore files; not a git work tree)"));
}

CheckResult dev_config_removed(CheckContext& c, const ChecklistItem&) {
  const FolderFiles& files = c.files();
  std::vector<std::string> present;
  for (const std::string& config : c.checklist.ignored_configs) {
    if (const FolderFile* file = files.find(config); file != nullptr) {
      if (file->state != GitState::kIgnored) {
        return fail(config + " is present and not git-ignored",
                    "remove it (git rm --cached if tracked) and rotate its credentials", true);
      }
      present.push_back(config);
    }
  }
  if (!present.empty()) {
    return pending(join_names(present) + " still present (git-ignored)",
                   "delete it once the tests no longer need it");
  }
  return ok("no test configuration with credentials left");
}

CheckResult no_credentials(CheckContext& c, const ChecklistItem&) {
  const FolderFiles& files = c.files();
  std::vector<std::string> leaks;
  int scanned = 0;
  std::vector<std::string> skipped;
  for (const FolderFile& file : files.files) {
    if (file.state == GitState::kIgnored) {
      skipped.push_back(file.path);
      continue;
    }
    std::error_code ec;
    if (fs::file_size(c.folder / file.path, ec) > (4u << 20)) continue;
    const auto text = files::read_file_if_exists(c.folder / file.path);
    if (!text) continue;
    ++scanned;
    if (const auto found = find_credential(*text)) leaks.push_back(file.path + " " + *found);
  }
  if (!leaks.empty()) {
    return fail("credential-looking text in " + join_names(leaks),
                "remove it (keep credentials in git-ignored configs/dev_config.json or in "
                "${env:}/${file:} references) and rotate it",
                true);
  }
  return ok(fmt::format(
      "{} file(s) scanned, tracked and untracked{}", scanned,
      skipped.empty() ? std::string() : "; git-ignored, not scanned: " + join_names(skipped)));
}

const std::map<std::string, Check, std::less<>>& checks() {
  static const std::map<std::string, Check, std::less<>> all = {
      {"design_sections",
       [](CheckContext& c, const ChecklistItem&) { return sections_check(c, "design"); }},
      {"design_references", design_references},
      {"api_doc_sections",
       [](CheckContext& c, const ChecklistItem&) { return sections_check(c, "api_doc"); }},
      {"research_log_urls", research_log_urls},
      {"tbd_markers", tbd_markers},
      {"connector_sources", connector_sources},
      {"method_implemented", method_implemented},
      {"table_name_validation", table_name_validation},
      {"unknown_table_run", unknown_table_run},
      {"types_preferred", types_preferred},
      {"no_mocks", no_mocks},
      {"no_schema_conversion", no_schema_conversion},
      {"suite_instantiated", suite_instantiated},
      {"tests_wired", tests_wired},
      {"conformance_run", conformance_run},
      {"test_class", test_class},
      {"full_test_run", full_test_run},
      {"readme_exists", readme_exists},
      {"readme_sections",
       [](CheckContext& c, const ChecklistItem&) { return sections_check(c, "readme"); }},
      {"parameters_documented", parameters_documented},
      {"no_internal_identifiers", no_internal_identifiers},
      {"dev_config_ignored", dev_config_ignored},
      {"dev_config_removed", dev_config_removed},
      {"no_credentials", no_credentials},
  };
  return all;
}

}  // namespace

CheckContext::CheckContext(const Checklist& list, const CheckOptions& opts, std::string connector)
    : checklist(list), options(opts), name(std::move(connector)) {
  out_of_tree = !options.project.empty();
  folder = out_of_tree ? options.project : options.root / "sources" / name;
  where = out_of_tree ? (folder / "").string() : "sources/" + name + "/";
  design = files::read_file_if_exists(folder / with_name(checklist.document("design").file, name));
  api_doc =
      files::read_file_if_exists(folder / with_name(checklist.document("api_doc").file, name));
  readme = files::read_file_if_exists(folder / with_name(checklist.document("readme").file, name));
  progress = parse_progress(design.value_or(""), checklist.phases.size());
  std::error_code ec;
  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const fs::path& p = it->path();
    // Not the test configurations, hidden folders or a build tree (an out-of-tree project's
    // build/ holds generated sources).
    if (it->is_directory() && (p.filename() == "configs" || p.filename().string()[0] == '.' ||
                               fs::exists(p / "CMakeCache.txt", ec))) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && (p.extension() == ".h" || p.extension() == ".cc")) {
      paths.push_back(p);
    }
  }
  std::sort(paths.begin(), paths.end());
  for (const fs::path& p : paths) {
    const std::string relative = fs::relative(p, folder).generic_string();
    SourceFile file{relative, CppSource(files::read_file_if_exists(p).value_or(""))};
    const std::string stem = p.stem().string();
    const bool test = relative.rfind("test/", 0) == 0 ||
                      (stem.size() > 5 && stem.compare(stem.size() - 5, 5, "_test") == 0);
    (test ? tests : sources).push_back(std::move(file));
  }
  const fs::path spec_path = folder / "connector_spec.yaml";
  try {
    spec = ConnectorSpec::parse(name, files::read_file(spec_path, "connector spec"),
                                spec_path.string());
  } catch (const Error& e) {
    spec_problem = e.what();
  }
}

const FolderFiles& CheckContext::files() {
  if (!files_) files_ = list_folder_files(folder);
  return *files_;
}

const TestRun& CheckContext::test_run() {
  if (!test_run_) {
    const std::string build = options.build_dir.string();
    const TestBuild how =
        out_of_tree
            ? TestBuild{fmt::format("cmake -S {} -B {} -DCMAKE_PREFIX_PATH=<the SDK's prefix>",
                                    folder.string(), build),
                        fmt::format("cmake --build {}", build)}
            : TestBuild{fmt::format("cmake -S {} -B {}", options.root.string(), build),
                        fmt::format("make -C {} lakeflow_source_{}_tests", build, name)};
    test_run_ = run_connector_tests(options.build_dir, name, how);
  }
  return *test_run_;
}

const Check* find_check(std::string_view id) {
  const auto& all = checks();
  const auto it = all.find(id);
  return it == all.end() ? nullptr : &it->second;
}

}  // namespace lakeflow::workflow
