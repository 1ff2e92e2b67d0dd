#include "parquet/parquet_schema.h"

#include <string_view>
#include <utility>

#include "lakeflow/error.h"

namespace lakeflow::parquet {

std::int32_t decimal_byte_width(int precision) {
  // The fewest bytes n whose signed range holds 10^precision - 1, i.e. 2^(8n-1) > 10^precision.
  __extension__ typedef unsigned __int128 UInt128;
  UInt128 limit = 1;
  for (int i = 0; i < precision; ++i) limit *= 10;
  for (std::int32_t n = 1; n < 16; ++n) {
    UInt128 range = static_cast<UInt128>(1) << (8 * n - 1);
    if (range >= limit) return n;
  }
  return 16;
}

namespace {

struct Context {
  std::vector<std::string> path_in_schema;
  std::string display_path;
  std::vector<LeafStep> steps;
  std::int16_t def = 0;
  std::int16_t rep = 0;
  std::size_t top_field = 0;
  bool stats_eligible = true;
  std::vector<std::string> field_path;
};

class SchemaBuilder {
 public:
  WriterSchema build(const StructType& schema) {
    SchemaElement root;
    root.name = "spark_schema";
    root.num_children = static_cast<std::int32_t>(schema.size());
    out_.elements.push_back(std::move(root));
    for (std::size_t i = 0; i < schema.size(); ++i) {
      const StructField& f = schema.fields()[i];
      Context ctx;
      ctx.top_field = i;
      ctx.display_path = f.name;
      ctx.field_path = {f.name};
      visit(f.name, f.type, f.nullable, std::move(ctx));
    }
    return std::move(out_);
  }

 private:
  void visit(const std::string& name, const DataType& type, bool optional, Context ctx) {
    if (name.empty()) {
      throw SchemaError(
          "field " +
          (ctx.display_path.empty() ? std::string("(top level)") : "`" + ctx.display_path + "`") +
          " has an empty name; Parquet needs a name for every field");
    }
    ctx.path_in_schema.push_back(name);
    auto def = static_cast<std::int16_t>(ctx.def + (optional ? 1 : 0));
    SchemaElement e;
    e.name = name;
    e.repetition = optional ? Repetition::kOptional : Repetition::kRequired;
    switch (type.id()) {
      case TypeId::kStruct: {
        const auto& fields = type.fields();
        e.num_children = static_cast<std::int32_t>(fields.size());
        out_.elements.push_back(std::move(e));
        for (std::size_t i = 0; i < fields.size(); ++i) {
          Context c = ctx;
          c.def = def;
          c.steps.push_back(
              {LeafStep::Kind::kStruct, optional, def, 0, static_cast<std::uint32_t>(i)});
          c.display_path += "." + fields[i].name;
          if (c.stats_eligible) c.field_path.push_back(fields[i].name);
          visit(fields[i].name, fields[i].type, fields[i].nullable, std::move(c));
        }
        return;
      }
      case TypeId::kArray:
      case TypeId::kMap: {
        bool is_map = type.id() == TypeId::kMap;
        e.num_children = 1;
        e.converted_type = is_map ? ConvertedType::kMap : ConvertedType::kList;
        e.logical_type.kind = is_map ? LogicalType::Kind::kMap : LogicalType::Kind::kList;
        out_.elements.push_back(std::move(e));
        SchemaElement repeated;
        repeated.name = is_map ? "key_value" : "list";
        repeated.repetition = Repetition::kRepeated;
        repeated.num_children = is_map ? 2 : 1;
        out_.elements.push_back(std::move(repeated));
        if (ctx.stats_eligible) add_nested_stats_field(ctx, type, optional);

        auto rep = static_cast<std::int16_t>(ctx.rep + 1);
        Context c = ctx;
        c.def = static_cast<std::int16_t>(def + 1);
        c.rep = rep;
        c.path_in_schema.push_back(is_map ? "key_value" : "list");
        c.steps.push_back({LeafStep::Kind::kList, optional, def, rep, 0});
        c.stats_eligible = false;
        c.field_path.clear();
        if (!is_map) {
          c.display_path += "[]";
          visit("element", type.element_type(), type.contains_null(), std::move(c));
          return;
        }
        // The map's entries are a struct column {key, value} that is never null.
        for (std::uint32_t child = 0; child < 2; ++child) {
          Context m = c;
          m.steps.push_back({LeafStep::Kind::kStruct, false, c.def, 0, child});
          m.display_path += child == 0 ? "[].key" : "[].value";
          if (child == 0) {
            visit("key", type.key_type(), false, std::move(m));
          } else {
            visit("value", type.value_type(), type.value_contains_null(), std::move(m));
          }
        }
        return;
      }
      default:
        break;
    }
    set_primitive(e, type);
    LeafDescriptor leaf;
    leaf.physical = *e.type;
    leaf.type_length = e.type_length.value_or(0);
    out_.elements.push_back(std::move(e));
    leaf.path_in_schema = std::move(ctx.path_in_schema);
    leaf.display_path = std::move(ctx.display_path);
    leaf.type = type;
    leaf.max_def = def;
    leaf.max_rep = ctx.rep;
    leaf.top_field = ctx.top_field;
    leaf.steps = std::move(ctx.steps);
    leaf.steps.push_back({LeafStep::Kind::kLeaf, optional, def, 0, 0});
    leaf.stats_eligible = ctx.stats_eligible;
    if (leaf.stats_eligible) {
      leaf.field_path = std::move(ctx.field_path);
      out_.stats_columns.push_back({true, out_.leaves.size()});
    }
    out_.leaves.push_back(std::move(leaf));
  }

  void add_nested_stats_field(const Context& ctx, const DataType& type, bool optional) {
    NestedStatsField f;
    f.field_path = ctx.field_path;
    f.type = type;
    f.top_field = ctx.top_field;
    for (const LeafStep& s : ctx.steps) {
      f.struct_children.push_back(s.child);
      f.optional.push_back(s.optional);
    }
    f.optional.push_back(optional);
    out_.stats_columns.push_back({false, out_.nested_fields.size()});
    out_.nested_fields.push_back(std::move(f));
  }

  static void set_primitive(SchemaElement& e, const DataType& type) {
    auto integer = [&](std::int8_t bits, ConvertedType converted) {
      e.type = PhysicalType::kInt32;
      e.converted_type = converted;
      e.logical_type.kind = LogicalType::Kind::kInteger;
      e.logical_type.bit_width = bits;
      e.logical_type.is_signed = true;
    };
    switch (type.id()) {
      case TypeId::kLong:
        e.type = PhysicalType::kInt64;
        return;
      case TypeId::kInteger:
        e.type = PhysicalType::kInt32;
        return;
      case TypeId::kShort:
        integer(16, ConvertedType::kInt16);
        return;
      case TypeId::kByte:
        integer(8, ConvertedType::kInt8);
        return;
      case TypeId::kDouble:
        e.type = PhysicalType::kDouble;
        return;
      case TypeId::kFloat:
        e.type = PhysicalType::kFloat;
        return;
      case TypeId::kBoolean:
        e.type = PhysicalType::kBoolean;
        return;
      case TypeId::kDecimal: {
        int p = type.precision();
        if (p <= 9) {
          e.type = PhysicalType::kInt32;
        } else if (p <= 18) {
          e.type = PhysicalType::kInt64;
        } else {
          e.type = PhysicalType::kFixedLenByteArray;
          e.type_length = decimal_byte_width(p);
        }
        e.converted_type = ConvertedType::kDecimal;
        e.scale = type.scale();
        e.precision = p;
        e.logical_type.kind = LogicalType::Kind::kDecimal;
        e.logical_type.scale = type.scale();
        e.logical_type.precision = p;
        return;
      }
      case TypeId::kString:
        e.type = PhysicalType::kByteArray;
        e.converted_type = ConvertedType::kUtf8;
        e.logical_type.kind = LogicalType::Kind::kString;
        return;
      case TypeId::kBinary:
        e.type = PhysicalType::kByteArray;
        return;
      case TypeId::kVariant:
        e.type = PhysicalType::kByteArray;
        e.converted_type = ConvertedType::kJson;
        e.logical_type.kind = LogicalType::Kind::kJson;
        return;
      case TypeId::kDate:
        e.type = PhysicalType::kInt32;
        e.converted_type = ConvertedType::kDate;
        e.logical_type.kind = LogicalType::Kind::kDate;
        return;
      case TypeId::kTimestamp:
        e.type = PhysicalType::kInt64;
        e.converted_type = ConvertedType::kTimestampMicros;
        e.logical_type.kind = LogicalType::Kind::kTimestamp;
        e.logical_type.adjusted_to_utc = true;
        e.logical_type.unit = TimeUnit::kMicros;
        return;
      case TypeId::kTimestampNtz:
        // No converted type: TIMESTAMP_MICROS would tell older readers this is an instant.
        e.type = PhysicalType::kInt64;
        e.logical_type.kind = LogicalType::Kind::kTimestamp;
        e.logical_type.adjusted_to_utc = false;
        e.logical_type.unit = TimeUnit::kMicros;
        return;
      case TypeId::kStruct:
      case TypeId::kArray:
      case TypeId::kMap:
        break;
    }
    throw Error(ErrorCode::kInternal, "set_primitive called for a nested type");
  }

  WriterSchema out_;
};

}  // namespace

WriterSchema build_writer_schema(const StructType& schema) { return SchemaBuilder().build(schema); }

}  // namespace lakeflow::parquet
