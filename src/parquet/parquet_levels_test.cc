// Property tests of the Parquet writer's definition and repetition levels: random nested schemas
// (structs, lists and maps, nullable or not at every level) filled with random rows whose fields
// are present always, never, rarely, mostly or in stretches of rows. The levels decoded from every
// data page must equal those of a straightforward reference that walks each leaf's path row by
// row, the chunks' value and null counts must agree with them, and the file must read back as
// written (through lakeflow's reader, and through DuckDB for some of the cases).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "lakeflow/files.h"
#include "lakeflow/json.h"
#include "parquet/parquet_encoding.h"
#include "parquet/parquet_format.h"
#include "parquet/parquet_schema.h"
#include "parquet/parquet_test_util.h"
#include "parquet/parquet_writer.h"

namespace lakeflow::parquet {
namespace {

using testing::rows_json;
using testing::TempDir;

// How often a node of the schema is present (not null) in the rows.
enum class Presence { kAlways, kNever, kRare, kHalf, kMostly, kStretches };

// A random schema and, per node (in the order the generator visits them), its presence.
class RandomRows {
 public:
  explicit RandomRows(std::uint32_t seed) : rng_(seed) {}

  StructType schema() {
    std::vector<StructField> fields;
    const int n = 2 + pick(5);
    fields.emplace_back("id", DataType::Long(), false);
    for (int i = 0; i < n; ++i) {
      fields.emplace_back("f" + std::to_string(i), type(0), pick(8) != 0);
    }
    return StructType(std::move(fields));
  }

  // Appends `rows` rows to `batch` (rows numbered from `first`).
  void fill(ColumnBatch& batch, std::size_t first, std::size_t rows) {
    node_ = 0;
    const auto& fields = batch.schema().fields();
    for (std::size_t r = first; r < first + rows; ++r) {
      row_ = r;
      node_ = 0;
      batch.root().child(0).append_value<std::int64_t>(static_cast<std::int64_t>(r));
      for (std::size_t f = 1; f < fields.size(); ++f) {
        value(batch.root().child(f), fields[f].type, fields[f].nullable);
      }
      batch.root().append_valid();
    }
  }

  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint32_t>(n)); }

 private:
  DataType type(int depth) {
    const int kind = depth >= 4 ? 4 + pick(5) : pick(9);
    switch (kind) {
      case 0:
      case 1: {
        std::vector<StructField> fields;
        const int n = 1 + pick(4);
        for (int i = 0; i < n; ++i) {
          fields.emplace_back("s" + std::to_string(i), type(depth + 1), pick(8) != 0);
        }
        return StructType(std::move(fields));
      }
      case 2:
        return DataType::Array(type(depth + 1), pick(6) != 0);
      case 3:
        return DataType::Map(pick(2) == 0 ? DataType::String() : DataType::Integer(),
                             type(depth + 1), pick(6) != 0);
      case 4:
        return DataType::Long();
      case 5:
        return DataType::String();
      case 6:
        return DataType::Boolean();
      case 7:
        return DataType::Double();
      default:
        return DataType::Integer();
    }
  }

  // The presence of the next node visited, chosen once per node (the node count of a row is the
  // same for every row up to its lists, so nodes are numbered by their first visit).
  Presence presence() {
    const std::size_t node = node_++;
    while (presences_.size() <= node) {
      static constexpr Presence kAll[] = {Presence::kAlways,   Presence::kNever,  Presence::kRare,
                                          Presence::kHalf,     Presence::kMostly, Presence::kNever,
                                          Presence::kStretches};
      presences_.push_back(kAll[pick(7)]);
      stretch_.push_back(static_cast<std::size_t>(1 + pick(3000)));
    }
    return presences_[node];
  }

  bool present(bool nullable) {
    const std::size_t node = node_;
    const Presence p = presence();
    if (!nullable) return true;
    switch (p) {
      case Presence::kAlways:
        return true;
      case Presence::kNever:
        return false;
      case Presence::kRare:
        return pick(100) == 0;
      case Presence::kHalf:
        return pick(2) == 0;
      case Presence::kMostly:
        return pick(20) != 0;
      case Presence::kStretches:
        return (row_ / stretch_[node]) % 2 == 1;
    }
    return true;
  }

  // Appends one value of `type` to `c`, null or not as its node's presence says. Every value
  // visits the same nodes in the same order, so nodes keep their numbers across rows.
  void value(Column& c, const DataType& type, bool nullable) {
    const std::size_t node = node_;
    const bool is_present = present(nullable);
    // Nodes below: skipped when null, numbered as if visited.
    const std::size_t below = count_nodes(type);
    if (!is_present) {
      c.append_null();
      node_ = node + 1 + below;
      return;
    }
    switch (type.id()) {
      case TypeId::kStruct: {
        const auto& fields = type.fields();
        for (std::size_t i = 0; i < fields.size(); ++i) {
          value(c.child(i), fields[i].type, fields[i].nullable);
        }
        c.append_valid();
        break;
      }
      case TypeId::kArray: {
        const std::size_t start = node_;
        const int n = pick(4);
        for (int k = 0; k < n; ++k) {
          node_ = start;
          value(c.child(0), type.element_type(), type.contains_null());
        }
        c.finish_list();
        break;
      }
      case TypeId::kMap: {
        const std::size_t start = node_;
        const int n = pick(4);
        Column& entries = c.child(0);
        for (int k = 0; k < n; ++k) {
          node_ = start;
          if (type.key_type().id() == TypeId::kString) {
            entries.child(0).append_bytes("k" + std::to_string(k));
          } else {
            entries.child(0).append_value<std::int32_t>(k * 3 - 2);
          }
          value(entries.child(1), type.value_type(), type.value_contains_null());
          entries.append_valid();
        }
        c.finish_list();
        break;
      }
      case TypeId::kLong:
        c.append_value<std::int64_t>(static_cast<std::int64_t>(rng_()) - (1ll << 31));
        break;
      case TypeId::kInteger:
        c.append_value<std::int32_t>(pick(1000) - 500);
        break;
      case TypeId::kDouble:
        c.append_value<double>(pick(10000) / 8.0);
        break;
      case TypeId::kBoolean:
        c.append_bool(pick(2) == 0);
        break;
      default:
        c.append_bytes("v" + std::to_string(pick(pick(2) == 0 ? 5 : 100000)));
        break;
    }
    node_ = node + 1 + below;
  }

  // Nodes below a value of `type` (its fields, elements or map values, recursively).
  static std::size_t count_nodes(const DataType& type) {
    switch (type.id()) {
      case TypeId::kStruct: {
        std::size_t n = 0;
        for (const StructField& f : type.fields()) n += 1 + count_nodes(f.type);
        return n;
      }
      case TypeId::kArray:
        return 1 + count_nodes(type.element_type());
      case TypeId::kMap:
        return 1 + count_nodes(type.value_type());
      default:
        return 0;
    }
  }

  std::mt19937 rng_;
  std::size_t row_ = 0;
  std::size_t node_ = 0;
  std::vector<Presence> presences_;
  std::vector<std::size_t> stretch_;
};

struct Levels {
  std::vector<std::uint32_t> def;
  std::vector<std::uint32_t> rep;
};

// The reference: the levels of one leaf, row by row and element by element, from the validity and
// offsets of each column on its path (the Dremel encoding, as the Parquet specification states
// it).
void reference_levels(const LeafDescriptor& d, std::size_t depth, const Column& c, std::size_t i,
                      std::uint32_t rep, Levels& out) {
  const LeafStep& s = d.steps[depth];
  auto emit = [&](int def) {
    out.def.push_back(static_cast<std::uint32_t>(def));
    out.rep.push_back(rep);
  };
  if (!c.is_valid(i)) {
    ASSERT_TRUE(s.optional) << d.display_path;
    emit(s.def_level - 1);
    return;
  }
  switch (s.kind) {
    case LeafStep::Kind::kLeaf:
      emit(s.def_level);
      return;
    case LeafStep::Kind::kStruct:
      reference_levels(d, depth + 1, c.child(s.child), i, rep, out);
      return;
    case LeafStep::Kind::kList: {
      const auto begin = static_cast<std::size_t>(c.offsets()[i]);
      const auto end = static_cast<std::size_t>(c.offsets()[i + 1]);
      if (begin == end) {
        emit(s.def_level);
        return;
      }
      for (std::size_t k = begin; k < end; ++k) {
        reference_levels(d, depth + 1, c.child(0), k,
                         k == begin ? rep : static_cast<std::uint32_t>(s.rep_level), out);
      }
      return;
    }
  }
}

// The levels of one column chunk, decoded from its (uncompressed) data pages. Checks that every
// page starts a row.
Levels decoded_levels(const std::string& bytes, const ColumnMetaData& m, const LeafDescriptor& d) {
  Levels out;
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  auto pos = static_cast<std::size_t>(m.dictionary_page_offset.value_or(m.data_page_offset));
  const std::size_t end = pos + static_cast<std::size_t>(m.total_compressed_size);
  const int def_width = bit_width(static_cast<std::uint64_t>(d.max_def));
  const int rep_width = bit_width(static_cast<std::uint64_t>(d.max_rep));
  while (pos < end) {
    std::size_t header_size = 0;
    PageHeader h = parse_page_header(data + pos, end - pos, "test file", header_size);
    const std::uint8_t* body = data + pos + header_size;
    pos += header_size + static_cast<std::size_t>(h.compressed_page_size);
    if (h.type != PageType::kDataPage) continue;
    const auto n = static_cast<std::size_t>(h.data_page_header->num_values);
    EXPECT_GT(n, 0u) << d.display_path;
    auto take = [&](int width, std::vector<std::uint32_t>& levels) {
      const std::uint32_t size = load_le32(body);
      const std::size_t at = levels.size();
      levels.resize(at + n);
      EXPECT_TRUE(decode_rle_hybrid(body + 4, size, width, n, levels.data() + at))
          << d.display_path;
      body += 4 + size;
      return at;
    };
    if (d.max_rep > 0) {
      const std::size_t at = take(rep_width, out.rep);
      EXPECT_EQ(out.rep[at], 0u) << d.display_path << ": a page starts inside a row";
    } else {
      out.rep.resize(out.rep.size() + n, 0);
    }
    if (d.max_def > 0) {
      take(def_width, out.def);
    } else {
      out.def.resize(out.def.size() + n, 0);
    }
  }
  EXPECT_EQ(pos, end) << d.display_path;
  return out;
}

struct Case {
  std::uint32_t seed;
  std::vector<std::size_t> batch_rows;
  ParquetWriterOptions options;
};

// Writes the case's random rows and checks the file's levels, counts and rows.
void check_case(const Case& c, bool with_duckdb) {
  SCOPED_TRACE("seed " + std::to_string(c.seed));
  RandomRows random(c.seed);
  const StructType schema = random.schema();
  SCOPED_TRACE(schema.simple_string());
  std::vector<ColumnBatch> batches;
  std::size_t first = 0;
  for (std::size_t rows : c.batch_rows) {
    batches.emplace_back(schema);
    random.fill(batches.back(), first, rows);
    first += rows;
  }
  TempDir dir;
  const std::string path = dir.file("levels.parquet");
  ParquetWriterOptions options = c.options;
  options.sync = false;
  options.compression = Compression::kNone;
  ParquetWriter writer(path, schema, options);
  for (const ColumnBatch& batch : batches) writer.write(batch);
  const ParquetFileStats stats = writer.close();
  ASSERT_EQ(stats.num_records, static_cast<std::int64_t>(first));

  const std::string bytes = files::read_file(path);
  std::uint32_t footer_size =
      load_le32(reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size() - 8);
  const FileMetaData metadata = parse_file_metadata(
      reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size() - 8 - footer_size,
      footer_size, path);
  const WriterSchema ws = build_writer_schema(schema);
  for (std::size_t leaf = 0; leaf < ws.leaves.size(); ++leaf) {
    const LeafDescriptor& d = ws.leaves[leaf];
    SCOPED_TRACE(d.display_path);
    Levels expected;
    for (const ColumnBatch& batch : batches) {
      for (std::size_t r = 0; r < batch.num_rows(); ++r) {
        reference_levels(d, 0, batch.column(d.top_field), r, 0, expected);
      }
    }
    Levels actual;
    for (const RowGroup& group : metadata.row_groups) {
      const ColumnMetaData& m = *group.columns[leaf].meta_data;
      Levels chunk = decoded_levels(bytes, m, d);
      ASSERT_EQ(static_cast<std::int64_t>(chunk.def.size()), m.num_values);
      std::int64_t nulls = 0;
      for (std::uint32_t def : chunk.def) nulls += def < static_cast<std::uint32_t>(d.max_def);
      EXPECT_EQ(m.statistics->null_count, nulls);
      // A row group holds whole rows: its first level starts one, and it holds as many as it says.
      std::int64_t rows = 0;
      for (std::uint32_t rep : chunk.rep) rows += rep == 0;
      EXPECT_EQ(rows, group.num_rows);
      actual.def.insert(actual.def.end(), chunk.def.begin(), chunk.def.end());
      actual.rep.insert(actual.rep.end(), chunk.rep.begin(), chunk.rep.end());
    }
    ASSERT_EQ(actual.def.size(), expected.def.size());
    for (std::size_t k = 0; k < expected.def.size(); ++k) {
      ASSERT_EQ(actual.def[k], expected.def[k]) << "definition level " << k;
      ASSERT_EQ(actual.rep[k], expected.rep[k]) << "repetition level " << k;
    }
  }

  // File statistics: a column reached through structs only is null in a row when it or an
  // enclosing struct is.
  ASSERT_EQ(stats.columns.size(), ws.stats_columns.size());
  for (std::size_t k = 0; k < ws.stats_columns.size(); ++k) {
    const WriterSchema::StatsColumn& sc = ws.stats_columns[k];
    std::size_t top = 0;
    std::vector<std::uint32_t> children;
    std::vector<bool> optional;
    if (sc.is_leaf) {
      const LeafDescriptor& d = ws.leaves[sc.index];
      top = d.top_field;
      for (const LeafStep& step : d.steps) {
        optional.push_back(step.optional);
        if (step.kind == LeafStep::Kind::kStruct) children.push_back(step.child);
      }
    } else {
      const NestedStatsField& f = ws.nested_fields[sc.index];
      top = f.top_field;
      children = f.struct_children;
      optional = f.optional;
    }
    std::int64_t nulls = 0;
    for (const ColumnBatch& batch : batches) {
      for (std::size_t r = 0; r < batch.num_rows(); ++r) {
        const Column* column = &batch.column(top);
        bool null = false;
        for (std::size_t level = 0; level < optional.size() && !null; ++level) {
          null = optional[level] && !column->is_valid(r);
          if (level < children.size()) column = &column->child(children[level]);
        }
        nulls += null ? 1 : 0;
      }
    }
    EXPECT_EQ(stats.columns[k].null_count, nulls) << "statistics column " << k;
  }

  std::vector<std::string> expected_rows;
  for (const ColumnBatch& batch : batches) {
    for (std::string& row : rows_json(batch)) expected_rows.push_back(std::move(row));
  }
  EXPECT_EQ(testing::read_rows(path, schema), expected_rows);
  if (!with_duckdb || !testing::duckdb_unavailable().empty()) return;
  testing::DuckDbResult r = testing::run_duckdb({path});
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_EQ(r.lines.size(), expected_rows.size()) << r.output;
  for (std::size_t i = 0; i < expected_rows.size(); ++i) {
    ASSERT_EQ(JsonValue::parse(r.lines[i]), JsonValue::parse(expected_rows[i]))
        << "row " << i << "\n  duckdb:   " << r.lines[i] << "\n  expected: " << expected_rows[i];
  }
}

TEST(ParquetLevels, RandomNestedRowsHaveTheReferenceLevels) {
  for (std::uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed * 7919u);
    Case c;
    c.seed = seed;
    const std::size_t batches = 1 + rng() % 4;
    for (std::size_t b = 0; b < batches; ++b) c.batch_rows.push_back(1 + rng() % 2500);
    static constexpr std::size_t kPages[] = {64, 1024, 1 << 20};
    static constexpr std::size_t kGroups[] = {4 << 10, 64 << 10, 128 << 20};
    c.options.page_bytes = kPages[rng() % 3];
    c.options.row_group_bytes = kGroups[rng() % 3];
    c.options.dictionary = rng() % 4 != 0;
    check_case(c, false);
    if (HasFatalFailure()) return;
  }
}

TEST(ParquetLevels, RandomNestedRowsReadBackThroughDuckDb) {
  if (std::string why = testing::duckdb_unavailable(); !why.empty()) {
    GTEST_SKIP() << "DuckDB check skipped: " << why;
  }
  for (std::uint32_t seed = 101; seed <= 106; ++seed) {
    Case c;
    c.seed = seed;
    c.batch_rows = {700, 1, 2200};
    c.options.page_bytes = 2 << 10;
    c.options.row_group_bytes = 48 << 10;
    check_case(c, true);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace lakeflow::parquet
