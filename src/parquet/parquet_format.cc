#include "parquet/parquet_format.h"

#include "parquet/thrift_compact.h"

namespace lakeflow::parquet {

// ---- Encoding ------------------------------------------------------------------------------

namespace {

using W = ThriftCompactWriter;

template <typename Enum>
std::int32_t e(Enum v) {
  return static_cast<std::int32_t>(v);
}

void write_logical_type(W& w, std::int16_t id, const LogicalType& t) {
  w.field_struct(id);
  auto kind = static_cast<std::int16_t>(t.kind);
  w.field_struct(kind);
  switch (t.kind) {
    case LogicalType::Kind::kDecimal:
      w.field_i32(1, t.scale);
      w.field_i32(2, t.precision);
      break;
    case LogicalType::Kind::kTime:
    case LogicalType::Kind::kTimestamp:
      w.field_bool(1, t.adjusted_to_utc);
      w.field_struct(2);  // TimeUnit union
      w.field_struct(static_cast<std::int16_t>(t.unit));
      w.end_struct();
      w.end_struct();
      break;
    case LogicalType::Kind::kInteger:
      w.field_i8(1, t.bit_width);
      w.field_bool(2, t.is_signed);
      break;
    default:
      break;  // the other members are empty structs
  }
  w.end_struct();
  w.end_struct();
}

void write_schema_element(W& w, const SchemaElement& s) {
  w.begin_struct();
  if (s.type) w.field_i32(1, e(*s.type));
  if (s.type_length) w.field_i32(2, *s.type_length);
  if (s.repetition) w.field_i32(3, e(*s.repetition));
  w.field_binary(4, s.name);
  if (s.num_children) w.field_i32(5, *s.num_children);
  if (s.converted_type) w.field_i32(6, e(*s.converted_type));
  if (s.scale) w.field_i32(7, *s.scale);
  if (s.precision) w.field_i32(8, *s.precision);
  if (s.field_id) w.field_i32(9, *s.field_id);
  if (s.logical_type.kind != LogicalType::Kind::kNone &&
      s.logical_type.kind != LogicalType::Kind::kOther) {
    write_logical_type(w, 10, s.logical_type);
  }
  w.end_struct();
}

void write_statistics(W& w, std::int16_t id, const Statistics& s) {
  w.field_struct(id);
  if (s.max) w.field_binary(1, *s.max);
  if (s.min) w.field_binary(2, *s.min);
  if (s.null_count) w.field_i64(3, *s.null_count);
  if (s.distinct_count) w.field_i64(4, *s.distinct_count);
  if (s.max_value) w.field_binary(5, *s.max_value);
  if (s.min_value) w.field_binary(6, *s.min_value);
  if (s.is_max_value_exact) w.field_bool(7, *s.is_max_value_exact);
  if (s.is_min_value_exact) w.field_bool(8, *s.is_min_value_exact);
  if (s.nan_count) w.field_i64(9, *s.nan_count);
  w.end_struct();
}

void write_column_metadata(W& w, std::int16_t id, const ColumnMetaData& m) {
  w.field_struct(id);
  w.field_i32(1, e(m.type));
  w.field_list(2, ThriftType::kI32, m.encodings.size());
  for (Encoding enc : m.encodings) w.element_i32(e(enc));
  const std::vector<std::string>& path =
      m.path_in_schema_ref != nullptr ? *m.path_in_schema_ref : m.path_in_schema;
  w.field_list(3, ThriftType::kBinary, path.size());
  for (const std::string& p : path) w.element_binary(p);
  w.field_i32(4, e(m.codec));
  w.field_i64(5, m.num_values);
  w.field_i64(6, m.total_uncompressed_size);
  w.field_i64(7, m.total_compressed_size);
  w.field_i64(9, m.data_page_offset);
  if (m.dictionary_page_offset) w.field_i64(11, *m.dictionary_page_offset);
  if (m.statistics) write_statistics(w, 12, *m.statistics);
  if (!m.encoding_stats.empty()) {
    w.field_list(13, ThriftType::kStruct, m.encoding_stats.size());
    for (const PageEncodingStats& s : m.encoding_stats) {
      w.begin_struct();
      w.field_i32(1, e(s.page_type));
      w.field_i32(2, e(s.encoding));
      w.field_i32(3, s.count);
      w.end_struct();
    }
  }
  w.end_struct();
}

void write_row_group(W& w, const RowGroup& g) {
  w.begin_struct();
  w.field_list(1, ThriftType::kStruct, g.columns.size());
  for (const ColumnChunk& c : g.columns) {
    w.begin_struct();
    w.field_i64(2, c.file_offset);
    if (c.meta_data) write_column_metadata(w, 3, *c.meta_data);
    w.end_struct();
  }
  w.field_i64(2, g.total_byte_size);
  w.field_i64(3, g.num_rows);
  if (g.file_offset) w.field_i64(5, *g.file_offset);
  if (g.total_compressed_size) w.field_i64(6, *g.total_compressed_size);
  if (g.ordinal) w.field_i16(7, *g.ordinal);
  w.end_struct();
}

}  // namespace

void append_file_metadata(std::string& out, const FileMetaData& m) {
  W w(out);
  w.begin_struct();
  w.field_i32(1, m.version);
  w.field_list(2, ThriftType::kStruct, m.schema.size());
  for (const SchemaElement& s : m.schema) write_schema_element(w, s);
  w.field_i64(3, m.num_rows);
  w.field_list(4, ThriftType::kStruct, m.row_groups.size());
  for (const RowGroup& g : m.row_groups) write_row_group(w, g);
  if (!m.key_value_metadata.empty()) {
    w.field_list(5, ThriftType::kStruct, m.key_value_metadata.size());
    for (const KeyValue& kv : m.key_value_metadata) {
      w.begin_struct();
      w.field_binary(1, kv.key);
      if (kv.value) w.field_binary(2, *kv.value);
      w.end_struct();
    }
  }
  if (m.created_by) w.field_binary(6, *m.created_by);
  if (!m.column_orders_type_defined.empty()) {
    w.field_list(7, ThriftType::kStruct, m.column_orders_type_defined.size());
    for (std::size_t i = 0; i < m.column_orders_type_defined.size(); ++i) {
      w.begin_struct();
      w.field_struct(1);  // TYPE_ORDER: an empty struct
      w.end_struct();
      w.end_struct();
    }
  }
  w.end_struct();
}

void append_page_header(std::string& out, const PageHeader& h) {
  W w(out);
  w.begin_struct();
  w.field_i32(1, e(h.type));
  w.field_i32(2, h.uncompressed_page_size);
  w.field_i32(3, h.compressed_page_size);
  if (h.crc) w.field_i32(4, *h.crc);
  if (h.data_page_header) {
    const DataPageHeader& d = *h.data_page_header;
    w.field_struct(5);
    w.field_i32(1, d.num_values);
    w.field_i32(2, e(d.encoding));
    w.field_i32(3, e(d.definition_level_encoding));
    w.field_i32(4, e(d.repetition_level_encoding));
    w.end_struct();
  }
  if (h.dictionary_page_header) {
    const DictionaryPageHeader& d = *h.dictionary_page_header;
    w.field_struct(7);
    w.field_i32(1, d.num_values);
    w.field_i32(2, e(d.encoding));
    if (d.is_sorted) w.field_bool(3, *d.is_sorted);
    w.end_struct();
  }
  if (h.data_page_header_v2) {
    const DataPageHeaderV2& d = *h.data_page_header_v2;
    w.field_struct(8);
    w.field_i32(1, d.num_values);
    w.field_i32(2, d.num_nulls);
    w.field_i32(3, d.num_rows);
    w.field_i32(4, e(d.encoding));
    w.field_i32(5, d.definition_levels_byte_length);
    w.field_i32(6, d.repetition_levels_byte_length);
    w.field_bool(7, d.is_compressed);
    w.end_struct();
  }
  w.end_struct();
}

// ---- Decoding ------------------------------------------------------------------------------

namespace {

using R = ThriftCompactReader;

// Reads a struct field by field: `on_field(id, type)` returns false for fields it does not
// read, which are skipped.
template <typename OnField>
void read_struct(R& r, OnField on_field) {
  r.begin_struct();
  std::int16_t id;
  ThriftType type;
  while (r.next_field(id, type)) {
    if (!on_field(id, type)) r.skip(type);
  }
  r.end_struct();
}

template <typename OnElement>
void read_list(R& r, ThriftType type, ThriftType expected, OnElement on_element) {
  if (type != ThriftType::kList) r.fail("a list field of another type");
  ThriftType element;
  std::size_t size;
  r.read_list_header(element, size);
  if (size > 0 && element != expected) r.fail("a list of unexpected element type");
  for (std::size_t i = 0; i < size; ++i) on_element();
}

void expect(R& r, ThriftType type, ThriftType expected) {
  if (type != expected) r.fail("a field of unexpected type");
}

std::int32_t i32(R& r, ThriftType type) {
  expect(r, type, ThriftType::kI32);
  return r.read_i32();
}

std::int64_t i64(R& r, ThriftType type) {
  expect(r, type, ThriftType::kI64);
  return r.read_i64();
}

std::string binary(R& r, ThriftType type) {
  expect(r, type, ThriftType::kBinary);
  return std::string(r.read_binary());
}

TimeUnit read_time_unit(R& r) {
  TimeUnit unit = TimeUnit::kMicros;
  read_struct(r, [&](std::int16_t id, ThriftType type) {
    if (id < 1 || id > 3 || type != ThriftType::kStruct) return false;
    unit = static_cast<TimeUnit>(id);
    r.skip(type);
    return true;
  });
  return unit;
}

LogicalType read_logical_type(R& r) {
  LogicalType t;
  read_struct(r, [&](std::int16_t id, ThriftType type) {
    if (type != ThriftType::kStruct) return false;
    switch (id) {
      case 5:
        t.kind = LogicalType::Kind::kDecimal;
        read_struct(r, [&](std::int16_t f, ThriftType ft) {
          if (f == 1)
            t.scale = i32(r, ft);
          else if (f == 2)
            t.precision = i32(r, ft);
          else
            return false;
          return true;
        });
        return true;
      case 7:
      case 8:
        t.kind = static_cast<LogicalType::Kind>(id);
        read_struct(r, [&](std::int16_t f, ThriftType ft) {
          if (f == 1)
            t.adjusted_to_utc = r.read_bool(ft);
          else if (f == 2 && ft == ThriftType::kStruct)
            t.unit = read_time_unit(r);
          else
            return false;
          return true;
        });
        return true;
      case 10:
        t.kind = LogicalType::Kind::kInteger;
        read_struct(r, [&](std::int16_t f, ThriftType ft) {
          if (f == 1 && ft == ThriftType::kByte)
            t.bit_width = r.read_i8();
          else if (f == 2)
            t.is_signed = r.read_bool(ft);
          else
            return false;
          return true;
        });
        return true;
      case 1:
      case 2:
      case 3:
      case 4:
      case 6:
      case 11:
      case 12:
      case 13:
      case 14:
      case 15:
      case 16:
        t.kind = static_cast<LogicalType::Kind>(id);
        return false;  // an empty struct (or fields we do not need): skipped
      default:
        t.kind = LogicalType::Kind::kOther;
        return false;
    }
  });
  return t;
}

SchemaElement read_schema_element(R& r) {
  SchemaElement s;
  bool has_name = false;
  read_struct(r, [&](std::int16_t id, ThriftType type) {
    switch (id) {
      case 1:
        s.type = static_cast<PhysicalType>(i32(r, type));
        return true;
      case 2:
        s.type_length = i32(r, type);
        return true;
      case 3:
        s.repetition = static_cast<Repetition>(i32(r, type));
        return true;
      case 4:
        s.name = binary(r, type), has_name = true;
        return true;
      case 5:
        s.num_children = i32(r, type);
        return true;
      case 6:
        s.converted_type = static_cast<ConvertedType>(i32(r, type));
        return true;
      case 7:
        s.scale = i32(r, type);
        return true;
      case 8:
        s.precision = i32(r, type);
        return true;
      case 9:
        s.field_id = i32(r, type);
        return true;
      case 10:
        expect(r, type, ThriftType::kStruct);
        s.logical_type = read_logical_type(r);
        return true;
      default:
        return false;
    }
  });
  if (!has_name) r.fail("a schema element without a name");
  return s;
}

Statistics read_statistics(R& r) {
  Statistics s;
  read_struct(r, [&](std::int16_t id, ThriftType type) {
    switch (id) {
      case 1:
        s.max = binary(r, type);
        return true;
      case 2:
        s.min = binary(r, type);
        return true;
      case 3:
        s.null_count = i64(r, type);
        return true;
      case 4:
        s.distinct_count = i64(r, type);
        return true;
      case 5:
        s.max_value = binary(r, type);
        return true;
      case 6:
        s.min_value = binary(r, type);
        return true;
      case 7:
        s.is_max_value_exact = r.read_bool(type);
        return true;
      case 8:
        s.is_min_value_exact = r.read_bool(type);
        return true;
      case 9:
        s.nan_count = i64(r, type);
        return true;
      default:
        return false;
    }
  });
  return s;
}

ColumnMetaData read_column_metadata(R& r) {
  ColumnMetaData m;
  read_struct(r, [&](std::int16_t id, ThriftType type) {
    switch (id) {
      case 1:
        m.type = static_cast<PhysicalType>(i32(r, type));
        return true;
      case 2:
        read_list(r, type, ThriftType::kI32,
                  [&] { m.encodings.push_back(static_cast<Encoding>(r.read_i32())); });
        return true;
      case 3:
        read_list(r, type, ThriftType::kBinary,
                  [&] { m.path_in_schema.emplace_back(r.read_binary()); });
        return true;
      case 4:
        m.codec = static_cast<CompressionCodec>(i32(r, type));
        return true;
      case 5:
        m.num_values = i64(r, type);
        return true;
      case 6:
        m.total_uncompressed_size = i64(r, type);
        return true;
      case 7:
        m.total_compressed_size = i64(r, type);
        return true;
      case 9:
        m.data_page_offset = i64(r, type);
        return true;
      case 11:
        m.dictionary_page_offset = i64(r, type);
        return true;
      case 12:
        expect(r, type, ThriftType::kStruct);
        m.statistics = read_statistics(r);
        return true;
      case 13:
        read_list(r, type, ThriftType::kStruct, [&] {
          PageEncodingStats s;
          read_struct(r, [&](std::int16_t f, ThriftType ft) {
            if (f == 1)
              s.page_type = static_cast<PageType>(i32(r, ft));
            else if (f == 2)
              s.encoding = static_cast<Encoding>(i32(r, ft));
            else if (f == 3)
              s.count = i32(r, ft);
            else
              return false;
            return true;
          });
          m.encoding_stats.push_back(s);
        });
        return true;
      default:
        return false;
    }
  });
  return m;
}

RowGroup read_row_group(R& r) {
  RowGroup g;
  read_struct(r, [&](std::int16_t id, ThriftType type) {
    switch (id) {
      case 1:
        read_list(r, type, ThriftType::kStruct, [&] {
          ColumnChunk c;
          read_struct(r, [&](std::int16_t f, ThriftType ft) {
            if (f == 2) {
              c.file_offset = i64(r, ft);
            } else if (f == 3) {
              expect(r, ft, ThriftType::kStruct);
              c.meta_data = read_column_metadata(r);
            } else {
              return false;
            }
            return true;
          });
          g.columns.push_back(std::move(c));
        });
        return true;
      case 2:
        g.total_byte_size = i64(r, type);
        return true;
      case 3:
        g.num_rows = i64(r, type);
        return true;
      case 5:
        g.file_offset = i64(r, type);
        return true;
      case 6:
        g.total_compressed_size = i64(r, type);
        return true;
      case 7:
        expect(r, type, ThriftType::kI16);
        g.ordinal = r.read_i16();
        return true;
      default:
        return false;
    }
  });
  return g;
}

}  // namespace

FileMetaData parse_file_metadata(const std::uint8_t* data, std::size_t size,
                                 std::string_view what) {
  R r(data, size, what);
  FileMetaData m;
  read_struct(r, [&](std::int16_t id, ThriftType type) {
    switch (id) {
      case 1:
        m.version = i32(r, type);
        return true;
      case 2:
        read_list(r, type, ThriftType::kStruct,
                  [&] { m.schema.push_back(read_schema_element(r)); });
        return true;
      case 3:
        m.num_rows = i64(r, type);
        return true;
      case 4:
        read_list(r, type, ThriftType::kStruct, [&] { m.row_groups.push_back(read_row_group(r)); });
        return true;
      case 5:
        read_list(r, type, ThriftType::kStruct, [&] {
          KeyValue kv;
          read_struct(r, [&](std::int16_t f, ThriftType ft) {
            if (f == 1)
              kv.key = binary(r, ft);
            else if (f == 2)
              kv.value = binary(r, ft);
            else
              return false;
            return true;
          });
          m.key_value_metadata.push_back(std::move(kv));
        });
        return true;
      case 6:
        m.created_by = binary(r, type);
        return true;
      case 7:
        read_list(r, type, ThriftType::kStruct, [&] {
          bool type_defined = false;
          read_struct(r, [&](std::int16_t f, ThriftType) {
            if (f == 1) type_defined = true;
            return false;
          });
          m.column_orders_type_defined.push_back(type_defined);
        });
        return true;
      default:
        return false;
    }
  });
  return m;
}

PageHeader parse_page_header(const std::uint8_t* data, std::size_t size, std::string_view what,
                             std::size_t& header_size) {
  R r(data, size, what);
  PageHeader h;
  read_struct(r, [&](std::int16_t id, ThriftType type) {
    switch (id) {
      case 1:
        h.type = static_cast<PageType>(i32(r, type));
        return true;
      case 2:
        h.uncompressed_page_size = i32(r, type);
        return true;
      case 3:
        h.compressed_page_size = i32(r, type);
        return true;
      case 4:
        h.crc = i32(r, type);
        return true;
      case 5: {
        expect(r, type, ThriftType::kStruct);
        DataPageHeader d;
        read_struct(r, [&](std::int16_t f, ThriftType ft) {
          switch (f) {
            case 1:
              d.num_values = i32(r, ft);
              return true;
            case 2:
              d.encoding = static_cast<Encoding>(i32(r, ft));
              return true;
            case 3:
              d.definition_level_encoding = static_cast<Encoding>(i32(r, ft));
              return true;
            case 4:
              d.repetition_level_encoding = static_cast<Encoding>(i32(r, ft));
              return true;
            default:
              return false;
          }
        });
        h.data_page_header = d;
        return true;
      }
      case 7: {
        expect(r, type, ThriftType::kStruct);
        DictionaryPageHeader d;
        read_struct(r, [&](std::int16_t f, ThriftType ft) {
          switch (f) {
            case 1:
              d.num_values = i32(r, ft);
              return true;
            case 2:
              d.encoding = static_cast<Encoding>(i32(r, ft));
              return true;
            case 3:
              d.is_sorted = r.read_bool(ft);
              return true;
            default:
              return false;
          }
        });
        h.dictionary_page_header = d;
        return true;
      }
      case 8: {
        expect(r, type, ThriftType::kStruct);
        DataPageHeaderV2 d;
        read_struct(r, [&](std::int16_t f, ThriftType ft) {
          switch (f) {
            case 1:
              d.num_values = i32(r, ft);
              return true;
            case 2:
              d.num_nulls = i32(r, ft);
              return true;
            case 3:
              d.num_rows = i32(r, ft);
              return true;
            case 4:
              d.encoding = static_cast<Encoding>(i32(r, ft));
              return true;
            case 5:
              d.definition_levels_byte_length = i32(r, ft);
              return true;
            case 6:
              d.repetition_levels_byte_length = i32(r, ft);
              return true;
            case 7:
              d.is_compressed = r.read_bool(ft);
              return true;
            default:
              return false;
          }
        });
        h.data_page_header_v2 = d;
        return true;
      }
      default:
        return false;
    }
  });
  header_size = r.position();
  return h;
}

}  // namespace lakeflow::parquet
