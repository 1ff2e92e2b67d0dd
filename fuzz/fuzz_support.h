// What every fuzz target checks: the error contract of the code it drives, and the structure of the
// columns that code produces.
//
// The contract: bytes from outside (a file, a response, a log) may make lakeflow throw its own
// typed errors (lakeflow::Error and subclasses, whose messages name the problem and the way out),
// and nothing else. A crash, a sanitizer report, a timeout, running out of memory, an exception of
// another type, or an Error of code kInternal (a broken invariant inside lakeflow, exit status 1)
// is a finding: `fail` aborts with the details, and libFuzzer keeps the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

#include "columnar/column_batch.h"
#include "lakeflow/error.h"

namespace lakeflow::fuzz {

[[noreturn]] inline void fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "fuzz finding: %.*s\n%.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Runs `body`. Returns true when it completes, false when it throws a lakeflow::Error the contract
// allows; fails on anything else.
template <typename Body>
bool typed_errors_only(Body&& body) {
  try {
    body();
    return true;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInternal) fail("an internal error from outside input", e.what());
    return false;
  } catch (const std::exception& e) {
    fail("an exception that is not a lakeflow::Error",
         std::string(typeid(e).name()) + ": " + e.what());
  }
}

// Structural invariants of a column and its children: null counts, child lengths and offsets that
// stay within their buffers. `path` names the column in failure messages.
// `c` must be materialized (Column::materialize): its buffers are read over every row.
inline void check_column(const Column& c, const std::string& path) {
  if (c.null_count() > c.length()) fail("null_count exceeds length", path);
  std::size_t nulls = 0;
  for (std::size_t i = 0; i < c.length(); ++i) nulls += c.is_valid(i) ? 0 : 1;
  if (nulls != c.null_count()) fail("null_count disagrees with the validity bitmap", path);
  switch (c.type().id()) {
    case TypeId::kStruct:
      for (std::size_t i = 0; i < c.num_children(); ++i) {
        const std::string child_path = path + "." + c.type().fields()[i].name;
        if (c.child(i).length() != c.length()) {
          fail("struct child length differs", child_path + ": " +
                                                  std::to_string(c.child(i).length()) +
                                                  " rows, parent " + std::to_string(c.length()));
        }
        check_column(c.child(i), child_path);
      }
      break;
    case TypeId::kArray:
    case TypeId::kMap: {
      const std::int32_t* o = c.offsets();
      if (c.num_children() != 1) fail("list column without one child", path);
      if (c.length() > 0 && o[0] != 0) fail("first offset is not 0", path);
      for (std::size_t i = 0; i < c.length(); ++i) {
        if (o[i + 1] < o[i]) fail("offsets decrease", path);
      }
      if (c.length() > 0 && static_cast<std::size_t>(o[c.length()]) != c.child(0).length()) {
        fail("last offset is not the child length", path);
      }
      check_column(c.child(0), path + "[]");
      break;
    }
    case TypeId::kString:
    case TypeId::kBinary:
    case TypeId::kVariant: {
      const std::int32_t* o = c.offsets();
      if (c.length() > 0 && o[0] != 0) fail("first offset is not 0", path);
      for (std::size_t i = 0; i < c.length(); ++i) {
        if (o[i + 1] < o[i]) fail("offsets decrease", path);
        (void)c.string_value(i);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace lakeflow::fuzz
