#include "ui/pages.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace lakeflow::ui {
namespace {

using Object = JsonValue::Object;

const JsonValue kNull;

const JsonValue& get(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.find(key);
  return value == nullptr ? kNull : *value;
}

// A value as text for a cell: strings as they are, null as "", anything else as JSON.
std::string text_of(const JsonValue& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.as_string();
  return value.dump();
}

// Escaped cell text; null as an em dash (unknown).
std::string cell(const JsonValue& value) {
  if (value.is_null()) return "<span class=\"unknown\">&mdash;</span>";
  return html_escape(text_of(value));
}

// A row's value for a cell, cut after kCellLimit bytes (at a character boundary): the page stays
// readable with whole documents in a column; the JSON has the full value.
constexpr std::size_t kCellLimit = 2000;
// Offsets in lists (a cursor with many tied ids can be long); the table's page shows them whole.
constexpr std::size_t kListOffsetLimit = 160;

std::string value_cell(const JsonValue& value, std::size_t limit = kCellLimit) {
  if (value.is_null()) return "<span class=\"unknown\">null</span>";
  std::string text = text_of(value);
  if (text.size() <= limit) return html_escape(text);
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  const std::size_t size = text.size();
  text.resize(cut);
  return html_escape(text) +
         fmt::format("<span class=\"unknown\">&hellip; ({} bytes in all)</span>", size);
}

std::string number_cell(const JsonValue& value) {
  if (!value.is_int()) return cell(value);
  std::string digits = std::to_string(value.as_int());
  std::string out;
  const std::size_t first = digits[0] == '-' ? 1 : 0;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > first && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string bytes_text(const JsonValue& value) {
  if (!value.is_int()) return cell(value);
  double n = static_cast<double>(value.as_int());
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  while (n >= 1024 && unit + 1 < std::size(units)) n /= 1024, ++unit;
  return unit == 0 ? fmt::format("{} B", value.as_int()) : fmt::format("{:.1f} {}", n, units[unit]);
}

std::string age_text(const JsonValue& seconds) {
  if (!seconds.is_int()) return cell(seconds);
  const std::int64_t s = seconds.as_int();
  if (s < 60) return fmt::format("{} s ago", s);
  if (s < 3600) return fmt::format("{} min ago", s / 60);
  if (s < 86400) return fmt::format("{} h ago", s / 3600);
  return fmt::format("{} days ago", s / 86400);
}

std::string page(std::string_view title, std::string_view body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{} - lakeflow</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>"
      "<body><header><a class=\"home\" href=\"/\">lakeflow</a></header><main>{}</main></body>"
      "</html>\n",
      html_escape(title), body);
}

std::string link(std::string_view href, std::string_view text) {
  return fmt::format("<a href=\"{}\">{}</a>", html_escape(href), html_escape(text));
}

// The tabs of a table's pages, `current` marked.
std::string table_nav(const JsonValue& table, std::string_view current) {
  const std::string name = text_of(get(table, "name"));
  std::string out = fmt::format("<h1>{}</h1><nav class=\"tabs\">",
                                html_escape(text_of(get(table, "display_name"))));
  const std::pair<std::string_view, std::string_view> tabs[] = {
      {"", "history"}, {"schema", "schema"}, {"rows", "rows"}, {"quarantine", "quarantine"}};
  for (const auto& [path, label] : tabs) {
    if (path == current) {
      out += fmt::format("<span class=\"current\">{}</span>", label);
    } else {
      out += link(table_url(name, path), label);
    }
  }
  out += link("/api/tables/" + url_encode(name, true) +
                  (current.empty() ? "/history" : "/" + std::string(current)),
              "json");
  out += "</nav>";
  return out;
}

// Links to the previous and next page of a paged list.
std::string pager(std::string_view base, std::string_view extra_query, const JsonValue& list,
                  std::size_t total) {
  const auto offset = static_cast<std::size_t>(get(list, "offset").as_int());
  const auto limit = static_cast<std::size_t>(get(list, "limit").as_int());
  std::string out = "<p class=\"pager\">";
  auto href = [&](std::size_t at) {
    return fmt::format("{}?offset={}&limit={}{}", base, at, limit, extra_query);
  };
  if (offset > 0) out += link(href(offset > limit ? offset - limit : 0), "previous") + " ";
  out += fmt::format("{}-{} of {}", total == 0 ? 0 : offset + 1, std::min(offset + limit, total),
                     total);
  if (offset + limit < total) out += " " + link(href(offset + limit), "next");
  out += "</p>";
  return out;
}

// The run record (run_record.h) as a paragraph; the failure, when the run failed or was killed.
std::string last_run(const JsonValue& run) {
  if (!run.is_object()) return "";
  const std::string state = text_of(get(run, "state"));
  std::string out;
  if (state == "failed") {
    out += fmt::format(
        "<section class=\"failure\"><h2>Last run failed</h2><p>Started {}, ended {}, after {} "
        "commit(s). {}</p><pre>{}</pre></section>",
        cell(get(run, "started_time")), cell(get(run, "ended_time")), cell(get(run, "commits")),
        get(run, "offset").is_null()
            ? "No offset was committed: a rerun starts from the beginning."
            : "A rerun continues from the committed offset " + cell(get(run, "offset")) + ".",
        cell(get(run, "error")));
  } else if (state == "running" && get(run, "alive").is_bool() && !get(run, "alive").as_bool()) {
    out += fmt::format(
        "<section class=\"failure\"><h2>Last run stopped</h2><p>The run started {} (process {}) "
        "ended without recording how: it was killed. The table holds what it committed; a rerun "
        "continues from there.</p></section>",
        cell(get(run, "started_time")), cell(get(run, "pid")));
  } else if (state == "running") {
    out += fmt::format("<p class=\"running\">A run started {} is writing this table.</p>",
                       cell(get(run, "started_time")));
  } else {
    out += fmt::format(
        "<p>Last run {}: {} records, +{} ~{} -{} rows, {} quarantined, {} commit(s), ended {}.</p>",
        html_escape(state), number_cell(get(run, "records")), number_cell(get(run, "inserted")),
        number_cell(get(run, "updated")), number_cell(get(run, "deleted")),
        number_cell(get(run, "quarantined")), number_cell(get(run, "commits")),
        cell(get(run, "ended_time")));
  }
  if (const JsonValue& notes = get(run, "notes"); notes.is_array() && !notes.as_array().empty()) {
    out += "<ul class=\"notes\">";
    for (const JsonValue& note : notes.as_array()) out += "<li>" + cell(note) + "</li>";
    out += "</ul>";
  }
  return out;
}

// Stacked bars of rows inserted, updated, deleted and quarantined per commit, oldest on the left.
std::string chart(const JsonValue& points) {
  if (!points.is_array() || points.as_array().empty()) return "";
  const JsonValue::Array& all = points.as_array();
  constexpr double kWidth = 900;
  constexpr double kHeight = 160;
  std::int64_t top = 1;
  for (const JsonValue& p : all) {
    top = std::max(top, get(p, "inserted").as_int() + get(p, "updated").as_int() +
                            get(p, "deleted").as_int() + get(p, "quarantined").as_int());
  }
  // At most 30 units a commit: a few commits draw as narrow bars on the left, not wide blocks.
  const double step = std::min(30.0, kWidth / static_cast<double>(all.size()));
  const double bar = std::max(step * 0.8, 0.5);
  std::string out = fmt::format(
      "<figure><svg role=\"img\" class=\"chart\" "
      "viewBox=\"0 0 {} {}\" width=\"100%\" height=\"{}\" preserveAspectRatio=\"none\">"
      "<title>rows per commit</title>",
      kWidth, kHeight + 1, kHeight + 1);
  const std::pair<std::string_view, std::string_view> series[] = {{"inserted", "#2a7ab0"},
                                                                  {"updated", "#e0a020"},
                                                                  {"deleted", "#c0392b"},
                                                                  {"quarantined", "#8e44ad"}};
  for (std::size_t i = 0; i < all.size(); ++i) {
    double y = kHeight;
    for (const auto& [key, colour] : series) {
      const std::int64_t n = get(all[i], key).as_int();
      if (n <= 0) continue;
      const double h = kHeight * static_cast<double>(n) / static_cast<double>(top);
      y -= h;
      out += fmt::format(
          "<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"{}\">"
          "<title>version {}: {} {}</title></rect>",
          static_cast<double>(i) * step, y, bar, h, colour, get(all[i], "version").as_int(), n,
          key);
    }
  }
  out += fmt::format(
      "<line x1=\"0\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#888\" stroke-width=\"1\"/></svg>"
      "<figcaption>Rows per commit, oldest left (max {2}): <span class=\"k-inserted\">inserted"
      "</span> <span class=\"k-updated\">updated</span> <span class=\"k-deleted\">deleted</span> "
      "<span class=\"k-quarantined\">quarantined</span></figcaption></figure>",
      kHeight + 0.5, kWidth, top);
  return out;
}

// A struct's fields (Spark's schema JSON) as nested lists.
void schema_tree(const JsonValue& type, std::string& out);

std::string type_label(const JsonValue& type) {
  if (type.is_string()) return type.as_string();
  return text_of(get(type, "type"));
}

void type_children(const JsonValue& type, std::string& out) {
  if (!type.is_object()) return;
  const std::string kind = text_of(get(type, "type"));
  if (kind == "struct") {
    schema_tree(type, out);
  } else if (kind == "array") {
    out += fmt::format("<ul><li><span class=\"field\">element</span>: {}{}",
                       html_escape(type_label(get(type, "elementType"))),
                       get(type, "containsNull").is_bool() && get(type, "containsNull").as_bool()
                           ? ""
                           : " <span class=\"notnull\">not null</span>");
    type_children(get(type, "elementType"), out);
    out += "</li></ul>";
  } else if (kind == "map") {
    out += fmt::format("<ul><li><span class=\"field\">key</span>: {}",
                       html_escape(type_label(get(type, "keyType"))));
    type_children(get(type, "keyType"), out);
    out += fmt::format("</li><li><span class=\"field\">value</span>: {}",
                       html_escape(type_label(get(type, "valueType"))));
    type_children(get(type, "valueType"), out);
    out += "</li></ul>";
  }
}

void schema_tree(const JsonValue& type, std::string& out) {
  const JsonValue& fields = get(type, "fields");
  if (!fields.is_array()) return;
  out += "<ul>";
  for (const JsonValue& field : fields.as_array()) {
    const bool nullable = !get(field, "nullable").is_bool() || get(field, "nullable").as_bool();
    out += fmt::format("<li><span class=\"field\">{}</span>: {}{}",
                       html_escape(text_of(get(field, "name"))),
                       html_escape(type_label(get(field, "type"))),
                       nullable ? "" : " <span class=\"notnull\">not null</span>");
    type_children(get(field, "type"), out);
    out += "</li>";
  }
  out += "</ul>";
}

std::string error_box(const JsonValue& object) {
  const JsonValue& error = get(object, "error");
  if (error.is_null()) return "";
  return "<p class=\"error\">" + cell(error) + "</p>";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text, bool keep_slash) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

std::string table_url(std::string_view name, std::string_view page) {
  std::string out = "/tables/" + url_encode(name, true);
  if (!page.empty()) out += "/" + std::string(page);
  return out;
}

std::string stylesheet() {
  return R"(body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3b57;padding:.5em 1.5em}header a{color:#fff;font-weight:600;text-decoration:none}
main{padding:1em 1.5em}h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.1em}
table{border-collapse:collapse;background:#fff;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#eef2f6;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.n,td.t{white-space:nowrap}
td pre,td code{margin:0;white-space:pre-wrap;word-break:break-all;max-width:40em}
.unknown{color:#999}.error,.failure{color:#8a1c1c}.failure{border:1px solid #e3b4b4;background:#fff5f5;padding:.3em 1em}
.failure pre{white-space:pre-wrap}.tabs a,.tabs span{margin-right:1em}.tabs .current{font-weight:600}
.chart{background:#fff;border:1px solid #ddd}figure{margin:.5em 0}
.k-inserted{color:#2a7ab0}.k-updated{color:#e0a020}.k-deleted{color:#c0392b}.k-quarantined{color:#8e44ad}
.field{font-weight:600}.notnull{color:#666;font-size:.9em}.schema ul{list-style:none;padding-left:1.3em}
.rows td{max-width:30em;overflow-wrap:anywhere}.running{color:#2a7ab0}
)";
}

std::string tables_page(const JsonValue& tables) {
  std::string body =
      fmt::format("<h1>Tables in {}</h1>", html_escape(text_of(get(tables, "root"))));
  body +=
      "<table class=\"tables\"><tr><th>table</th><th>rows</th><th>files</th><th>size</th>"
      "<th>last commit</th><th>age</th><th>source offset</th><th>ingestion</th><th>SCD</th>"
      "<th>quarantined</th><th>last run</th></tr>";
  const JsonValue& list = get(tables, "tables");
  for (const JsonValue& t : list.is_array() ? list.as_array() : JsonValue::Array{}) {
    const std::string name = text_of(get(t, "name"));
    const JsonValue& quarantine = get(t, "quarantine");
    const JsonValue& run = get(t, "last_run");
    std::string run_state = text_of(get(run, "state"));
    if (run_state == "running" && get(run, "alive").is_bool() && !get(run, "alive").as_bool()) {
      run_state = "killed";
    }
    body += fmt::format(
        "<tr><td>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"t\">{}</td><td "
        "class=\"t\">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"n\">{}"
        "</td><td class=\"{}\">{}</td></tr>",
        link(table_url(name), text_of(get(t, "display_name"))), error_box(t),
        number_cell(get(t, "rows")), number_cell(get(t, "files")), bytes_text(get(t, "bytes")),
        cell(get(t, "last_commit")), age_text(get(t, "age_seconds")),
        value_cell(get(t, "offset"), kListOffsetLimit), cell(get(t, "ingestion_type")),
        cell(get(t, "scd_type")),
        quarantine.is_object()
            ? link(table_url(name, "quarantine"), text_of(get(quarantine, "rows")))
            : "",
        run_state == "failed" || run_state == "killed" ? "error" : "",
        run_state.empty() ? "" : html_escape(run_state));
  }
  body += "</table>";
  if (list.is_array() && list.as_array().empty()) {
    body +=
        "<p>No Delta tables here yet: run a pipeline whose destination root is this directory.</p>";
  }
  body += "<p>" + link("/api/tables", "json") + "</p>";
  return page("tables", body);
}

std::string table_page(const JsonValue& table, const JsonValue& history) {
  std::string body = table_nav(table, "");
  body += error_box(table);
  body += fmt::format(
      "<table class=\"summary\"><tr><th>version</th><td>{}</td><th>rows</th><td>{}</td>"
      "<th>files</th><td>{}</td><th>size</th><td>{}</td></tr><tr><th>last commit</th><td>{}"
      "</td><th>age</th><td>{}</td><th>ingestion</th><td>{} {}</td><th>flow</th><td>{}</td>"
      "</tr><tr><th>source offset</th><td colspan=\"7\"><code>{}</code></td></tr>",
      cell(get(table, "version")), number_cell(get(table, "rows")),
      number_cell(get(table, "files")), bytes_text(get(table, "bytes")),
      cell(get(table, "last_commit")), age_text(get(table, "age_seconds")),
      cell(get(table, "ingestion_type")), cell(get(table, "scd_type")), cell(get(table, "flow")),
      cell(get(table, "offset")));
  if (!get(table, "deletes_offset").is_null()) {
    body += fmt::format("<tr><th>deletes offset</th><td colspan=\"7\"><code>{}</code></td></tr>",
                        cell(get(table, "deletes_offset")));
  }
  body += "</table>";
  body += last_run(get(table, "last_run"));
  if (const JsonValue& q = get(table, "quarantine"); q.is_object()) {
    body += "<p>" +
            link(table_url(text_of(get(table, "name")), "quarantine"),
                 text_of(get(q, "rows")) + " record(s) in quarantine") +
            "</p>";
  }
  body += "<h2>History</h2>";
  body += chart(get(history, "chart"));
  const auto total = static_cast<std::size_t>(get(history, "total").as_int());
  body += pager(table_url(text_of(get(table, "name"))), "", history, total);
  body +=
      "<table class=\"history\"><tr><th>version</th><th>time</th><th>operation</th>"
      "<th>inserted</th><th>updated</th><th>deleted</th><th>quarantined</th><th>files +</th>"
      "<th>files &minus;</th><th>rows</th><th>duration</th><th>offset</th></tr>";
  const JsonValue& commits = get(history, "commits");
  for (const JsonValue& c : commits.is_array() ? commits.as_array() : JsonValue::Array{}) {
    if (!get(c, "error").is_null()) {
      body +=
          fmt::format("<tr><td class=\"n\">{}</td><td colspan=\"11\" class=\"error\">{}</td></tr>",
                      cell(get(c, "version")), cell(get(c, "error")));
      continue;
    }
    const JsonValue& ms = get(c, "duration_ms");
    body += fmt::format(
        "<tr><td class=\"n\">{}</td><td class=\"t\">{}</td><td>{}{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td><code>{}</code></td></tr>",
        cell(get(c, "version")), cell(get(c, "time")), cell(get(c, "operation")),
        get(c, "schema_changed").is_bool() && get(c, "schema_changed").as_bool()
            ? " " + link(table_url(text_of(get(table, "name")), "schema"), "schema changed")
            : "",
        number_cell(get(c, "inserted")), number_cell(get(c, "updated")),
        number_cell(get(c, "deleted")), number_cell(get(c, "quarantined")),
        number_cell(get(c, "files_added")), number_cell(get(c, "files_removed")),
        number_cell(get(c, "rows")),
        ms.is_int() ? fmt::format("{:.3f} s", static_cast<double>(ms.as_int()) / 1000) : cell(ms),
        value_cell(get(c, "offset"), kListOffsetLimit));
  }
  body += "</table>";
  return page(text_of(get(table, "display_name")), body);
}

std::string schema_page(const JsonValue& table, const JsonValue& schema) {
  std::string body = table_nav(table, "schema");
  body += fmt::format("<p>Schema at version {}.</p><div class=\"schema\">",
                      cell(get(schema, "version")));
  schema_tree(get(schema, "schema"), body);
  body += "</div><h2>Changes</h2>";
  const JsonValue& changes = get(schema, "changes");
  if (!changes.is_array() || changes.as_array().empty()) {
    body += "<p>The schema has not changed since the table was created.</p>";
  } else {
    body +=
        "<table><tr><th>version</th><th>time</th><th>added</th><th>removed</th>"
        "<th>changed</th></tr>";
    for (const JsonValue& change : changes.as_array()) {
      auto list = [&](std::string_view key) {
        std::string out;
        const JsonValue& items = get(change, key);
        for (const JsonValue& item : items.is_array() ? items.as_array() : JsonValue::Array{}) {
          out += "<code>" + cell(item) + "</code><br>";
        }
        return out;
      };
      body += fmt::format(
          "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}"
          "</td></tr>",
          cell(get(change, "version")), cell(get(change, "time")), list("added"), list("removed"),
          list("changed"), error_box(change));
    }
    body += "</table>";
  }
  return page(text_of(get(table, "display_name")) + " schema", body);
}

std::string rows_page(const JsonValue& table, const JsonValue& rows) {
  std::string body = table_nav(table, "rows");
  const JsonValue& total = get(rows, "total");
  const std::size_t count =
      total.is_int() ? static_cast<std::size_t>(total.as_int())
                     : get(rows, "offset").as_int() + get(rows, "rows").as_array().size();
  body += pager(table_url(text_of(get(table, "name")), "rows"), "", rows, count);
  body += "<table class=\"rows\"><tr>";
  const JsonValue& columns = get(rows, "columns");
  for (const JsonValue& column : columns.as_array()) body += "<th>" + cell(column) + "</th>";
  body += "</tr>";
  for (const JsonValue& row : get(rows, "rows").as_array()) {
    body += "<tr>";
    for (const JsonValue& column : columns.as_array()) {
      body += "<td>" + value_cell(get(row, column.as_string())) + "</td>";
    }
    body += "</tr>";
  }
  body += "</table>";
  return page(text_of(get(table, "display_name")) + " rows", body);
}

std::string quarantine_page(const JsonValue& table, const JsonValue& quarantine) {
  std::string body = table_nav(table, "quarantine");
  const std::string filter = text_of(get(quarantine, "filter"));
  const std::string base = table_url(text_of(get(table, "name")), "quarantine");
  body += fmt::format(
      "<form method=\"get\" action=\"{}\"><label>reason or record contains <input name=\"q\" "
      "value=\"{}\"></label> <button type=\"submit\">filter</button></form>",
      html_escape(base), html_escape(filter));
  if (!get(quarantine, "exists").as_bool()) {
    body +=
        "<p>No quarantine table: no record of this table was set aside (runs with "
        "<code>--on-bad-record quarantine</code> write one).</p>";
    return page(text_of(get(table, "display_name")) + " quarantine", body);
  }
  const auto matched = static_cast<std::size_t>(get(quarantine, "matched").as_int());
  body += fmt::format("<p>{} of {} quarantined record(s) match.</p>", matched,
                      get(quarantine, "total").as_int());
  body += pager(base, filter.empty() ? "" : "&q=" + url_encode(filter), quarantine, matched);
  body +=
      "<table class=\"rows\"><tr><th>quarantined at</th><th>reason</th><th>record</th>"
      "<th>batch end offset</th></tr>";
  for (const JsonValue& row : get(quarantine, "rows").as_array()) {
    body += fmt::format(
        "<tr><td class=\"t\">{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code>"
        "</td></tr>",
        cell(get(row, "quarantined_at")), cell(get(row, "reason")), value_cell(get(row, "record")),
        cell(get(row, "offset")));
  }
  body += "</table>";
  return page(text_of(get(table, "display_name")) + " quarantine", body);
}

std::string error_page(int status, std::string_view message) {
  return page(fmt::format("{}", status),
              fmt::format("<h1>{}</h1><p class=\"error\">{}</p><p>{}</p>", status,
                          html_escape(message), link("/", "all tables")));
}

}  // namespace lakeflow::ui
