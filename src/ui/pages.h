// The HTML pages of `lakeflow ui`, rendered from the same JSON the API serves (lakehouse.h), so a
// page never shows what /api/... would not return. No JavaScript: links and one GET form; the
// history chart is inline SVG drawn with presentation attributes (the Content-Security-Policy
// allows no inline styles or scripts); the stylesheet is served by the binary.
//
// Every value that comes from a table (names, rows, reasons, offsets, errors) is untrusted and
// passes through html_escape, in text and in attribute values alike; URLs built from table names
// percent-encode every byte outside the unreserved set.
#pragma once

#include <string>
#include <string_view>

#include "lakeflow/json.h"

namespace lakeflow::ui {

// Escapes `&`, `<`, `>`, `"` and `'`.
std::string html_escape(std::string_view text);
// Percent-encodes every byte except unreserved characters (and `/` when `keep_slash`).
std::string url_encode(std::string_view text, bool keep_slash = false);
// `/tables/<name, encoded>` followed by `/<page>` when `page` is not empty.
std::string table_url(std::string_view name, std::string_view page = "");

std::string stylesheet();

// `tables`: Lakehouse::tables_json().
std::string tables_page(const JsonValue& tables);
// `table`: table_json(); `history`: history_json().
std::string table_page(const JsonValue& table, const JsonValue& history);
std::string schema_page(const JsonValue& table, const JsonValue& schema);
std::string rows_page(const JsonValue& table, const JsonValue& rows);
std::string quarantine_page(const JsonValue& table, const JsonValue& quarantine);
// A page saying what went wrong (`status` is the HTTP status, e.g. 404).
std::string error_page(int status, std::string_view message);

}  // namespace lakeflow::ui
