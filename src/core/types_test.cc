#include "lakeflow/types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "lakeflow/error.h"
#include "lakeflow/files.h"

namespace lakeflow {
namespace {

using ::testing::HasSubstr;

std::string read_testdata(const std::string& name) {
  std::string text = files::read_file(std::string(LAKEFLOW_TESTDATA_DIR) + "/" + name);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Every primitive type, decimals, arrays of structs of maps of arrays, names with non-ASCII,
// quote and control characters, and metadata with nested keys, floats and escapes. The expected
// JSON in tests/data/nested_schema.json is what PySpark's StructType.json() writes for it.
StructType nested_schema() {
  const char* amount_metadata =
      R"({"comment":"it's \"quoted\"","scale":{"Z":true,"factor":0.01,"max":1e16,"min":1e-05,)"
      R"("ratio":1.5e300,"neg":-0.0,"big":123456789.125,"count":42,"none":null,"large":1e15,)"
      R"("tiny":0.0001,"list":[1,2.5,null,false,"x"],"é":"\u00fc\n\t\u0001\u007f🚀"}})";
  return StructType{
      {"id", DataType::Long(), false},
      {"i", DataType::Integer()},
      {"s", DataType::Short()},
      {"b", DataType::Byte()},
      {"d", DataType::Double()},
      {"f", DataType::Float()},
      {"amount", DataType::Decimal(38, 18), true, amount_metadata},
      {"name", DataType::String(), false, R"({"comment":"the name"})"},
      {"flag", DataType::Boolean()},
      {"day", DataType::Date()},
      {"ts", DataType::Timestamp()},
      {"ts_ntz", DataType::TimestampNtz()},
      {"raw", DataType::Binary()},
      {"v", DataType::Variant()},
      {"pr\u00e9nom", DataType::String()},
      {"say \"hi\"\\", DataType::String()},
      {"\U0001F680launch", DataType::String()},
      {"tab\there", DataType::String()},
      {"entries",
       DataType::Array(StructType{
           {"code", DataType::Decimal(10, 2), false},
           {"props", DataType::Map(DataType::String(),
                                   DataType::Array(
                                       DataType::Map(DataType::String(), DataType::Long()), false),
                                   false)},
           {"sub", StructType{{"t", DataType::Array(DataType::Timestamp(), false)},
                              {"dec", DataType::Decimal(5, 0)}}},
       })},
      {"lookup", DataType::Map(DataType::String(),
                               StructType{{"x", DataType::Double()},
                                          {"tags", DataType::Array(DataType::String())}})},
      {"matrix", DataType::Array(DataType::Array(DataType::Integer()), false), true,
       R"({"nested":{"a":{"b":{"c":[0.5]}}}})"},
  };
}

// The schema of the example in PySpark's printSchema documentation, plus nested containers.
StructType tree_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"tags", DataType::Array(DataType::String())},
      {"attrs", DataType::Map(DataType::String(), DataType::Long())},
      {"meta", StructType{{"lastUpdated", DataType::Timestamp()}}},
      {"items",
       DataType::Array(
           StructType{{"code", DataType::Decimal(10, 2), false},
                      {"m", DataType::Map(DataType::String(),
                                          DataType::Array(DataType::Integer(), false), false)}},
           false)},
      {"tab\there", DataType::String()},
  };
}

TEST(SchemaJson, NestedSchemaMatchesPySparkGolden) {
  const std::string golden = read_testdata("nested_schema.json");
  ASSERT_FALSE(golden.empty());
  EXPECT_EQ(nested_schema().json(), golden);
}

TEST(SchemaJson, NestedSchemaRoundTrips) {
  const std::string golden = read_testdata("nested_schema.json");
  const StructType parsed = parse_struct_type(golden);
  EXPECT_EQ(parsed, nested_schema());
  EXPECT_EQ(parsed.json(), golden);
  EXPECT_EQ(parse_struct_type(nested_schema().json()), nested_schema());
}

TEST(SchemaJson, PrimitivesUsePySparkTypeNames) {
  EXPECT_EQ(DataType::Long().json(), R"("long")");
  EXPECT_EQ(DataType::Integer().json(), R"("integer")");
  EXPECT_EQ(DataType::Short().json(), R"("short")");
  EXPECT_EQ(DataType::Byte().json(), R"("byte")");
  EXPECT_EQ(DataType::Double().json(), R"("double")");
  EXPECT_EQ(DataType::Float().json(), R"("float")");
  EXPECT_EQ(DataType::Decimal(10, 2).json(), R"j("decimal(10,2)")j");
  EXPECT_EQ(DataType::Decimal().json(), R"j("decimal(10,0)")j");
  EXPECT_EQ(DataType::String().json(), R"("string")");
  EXPECT_EQ(DataType::Boolean().json(), R"("boolean")");
  EXPECT_EQ(DataType::Date().json(), R"("date")");
  EXPECT_EQ(DataType::Timestamp().json(), R"("timestamp")");
  EXPECT_EQ(DataType::TimestampNtz().json(), R"("timestamp_ntz")");
  EXPECT_EQ(DataType::Binary().json(), R"("binary")");
  EXPECT_EQ(DataType::Variant().json(), R"("variant")");
  EXPECT_EQ(DataType().json(), R"("string")");
}

TEST(SchemaJson, ContainersAndStructsHaveSortedKeys) {
  EXPECT_EQ(DataType::Array(DataType::String()).json(),
            R"({"containsNull":true,"elementType":"string","type":"array"})");
  EXPECT_EQ(DataType::Map(DataType::String(), DataType::Long()).json(),
            R"({"keyType":"string","type":"map","valueContainsNull":true,"valueType":"long"})");
  EXPECT_EQ((StructType{{"id", DataType::Long(), false}}).json(),
            R"({"fields":[{"metadata":{},"name":"id","nullable":false,"type":"long"}],)"
            R"("type":"struct"})");
  EXPECT_EQ(StructType().json(), R"({"fields":[],"type":"struct"})");
}

TEST(SchemaJson, EveryTypeRoundTripsThroughParse) {
  const DataType types[] = {
      DataType::Long(),
      DataType::Integer(),
      DataType::Short(),
      DataType::Byte(),
      DataType::Double(),
      DataType::Float(),
      DataType::Decimal(1, 0),
      DataType::Decimal(38, 38),
      DataType::String(),
      DataType::Boolean(),
      DataType::Date(),
      DataType::Timestamp(),
      DataType::TimestampNtz(),
      DataType::Binary(),
      DataType::Variant(),
      DataType::Array(DataType::Long(), false),
      DataType::Map(DataType::Date(), DataType::Binary(), false),
      nested_schema(),
  };
  for (const DataType& type : types) {
    EXPECT_EQ(parse_data_type(type.json()), type) << type.json();
    EXPECT_EQ(parse_data_type(type.json()).json(), type.json());
  }
}

TEST(SchemaJson, ParseAcceptsPySparkVariants) {
  EXPECT_EQ(parse_data_type(R"("decimal")"), DataType::Decimal(10, 0));
  EXPECT_EQ(parse_data_type(R"j("decimal( 12 , 3 )")j"), DataType::Decimal(12, 3));
  EXPECT_EQ(parse_data_type(R"("integer")"), DataType::Integer());
  // nullable and metadata are optional in PySpark's StructField.fromJson; null metadata is {}.
  const StructType parsed =
      parse_struct_type(R"({"type":"struct","fields":[{"name":"a","type":"long"},)"
                        R"({"name":"b","type":"string","nullable":false,"metadata":null}]})");
  EXPECT_EQ(parsed, (StructType{{"a", DataType::Long()}, {"b", DataType::String(), false}}));
}

TEST(SchemaJson, ParseCanonicalizesMetadata) {
  const StructType parsed =
      parse_struct_type(R"({"type":"struct","fields":[{"name":"a","type":"long","nullable":true,)"
                        R"("metadata":{ "z" : 1E2, "a" : {"y":[1.0], "b":"\u00e9"} }}]})");
  EXPECT_EQ(parsed.fields()[0].metadata_json, R"({"a":{"b":"\u00e9","y":[1.0]},"z":100.0})");
}

TEST(SchemaJson, RepeatedKeysKeepTheirLastValue) {
  // As JsonValue::parse (and Python's json.loads) reads them, whichever path parses the schema.
  EXPECT_EQ(parse_struct_type(R"({"type":"struct","fields":[{"name":"a","type":"long",)"
                              R"("nullable":true,"name":"b","type":"string","nullable":false}]})"),
            (StructType{{"b", DataType::String(), false}}));
  EXPECT_EQ(
      parse_data_type(R"({"type":"array","elementType":"long","containsNull":true,)"
                      R"("elementType":{"type":"map","keyType":"string","valueType":)"
                      R"j("decimal(5,2)","valueContainsNull":false},"containsNull":false})j"),
      DataType::Array(DataType::Map(DataType::String(), DataType::Decimal(5, 2), false), false));
  // A field with metadata beside fields without: each keeps its own.
  const StructType mixed = parse_struct_type(
      R"({"type":"struct","fields":[{"name":"a","type":"long","metadata":{}},)"
      R"({"name":"b","type":"long","metadata":{"k":"v"}},{"name":"c","type":"long"}]})");
  EXPECT_EQ(mixed.fields()[0].metadata_json, "{}");
  EXPECT_EQ(mixed.fields()[1].metadata_json, R"({"k":"v"})");
  EXPECT_EQ(mixed.fields()[2].metadata_json, "{}");
}

TEST(StructField, ConstructorCanonicalizesMetadata) {
  EXPECT_EQ(StructField("x", DataType::Long(), true, R"({ "b" : 1, "a" : [1.0] })").metadata_json,
            R"({"a":[1.0],"b":1})");
  EXPECT_EQ(StructField("x", DataType::Long(), true, "null").metadata_json, "{}");
  EXPECT_EQ(StructField("x", DataType::Long()).metadata_json, "{}");
  EXPECT_EQ(StructField("x", DataType::Long(), true, R"({"a":1})"),
            StructField("x", DataType::Long(), true, R"( {"a" : 1} )"));
}

TEST(StructField, ConstructorRejectsBadMetadata) {
  EXPECT_THROW(StructField("x", DataType::Long(), true, "{"), SchemaError);
  try {
    StructField("x", DataType::Long(), true, "[1]");
    ADD_FAILURE();
  } catch (const SchemaError& e) {
    EXPECT_THAT(e.what(), HasSubstr("field 'x': metadata must be a JSON object"));
  }
}

TEST(SchemaStrings, SimpleString) {
  EXPECT_EQ(DataType::Long().simple_string(), "bigint");
  EXPECT_EQ(DataType::Integer().simple_string(), "int");
  EXPECT_EQ(DataType::Short().simple_string(), "smallint");
  EXPECT_EQ(DataType::Byte().simple_string(), "tinyint");
  EXPECT_EQ(DataType::Double().simple_string(), "double");
  EXPECT_EQ(DataType::Float().simple_string(), "float");
  EXPECT_EQ(DataType::Decimal(10, 2).simple_string(), "decimal(10,2)");
  EXPECT_EQ(DataType::String().simple_string(), "string");
  EXPECT_EQ(DataType::Boolean().simple_string(), "boolean");
  EXPECT_EQ(DataType::Date().simple_string(), "date");
  EXPECT_EQ(DataType::Timestamp().simple_string(), "timestamp");
  EXPECT_EQ(DataType::TimestampNtz().simple_string(), "timestamp_ntz");
  EXPECT_EQ(DataType::Binary().simple_string(), "binary");
  EXPECT_EQ(DataType::Variant().simple_string(), "variant");
  EXPECT_EQ(DataType::Array(DataType::String()).simple_string(), "array<string>");
  EXPECT_EQ(DataType::Map(DataType::String(), DataType::Long()).simple_string(),
            "map<string,bigint>");
  EXPECT_EQ((StructType{{"id", DataType::Long()}, {"name", DataType::String()}}).simple_string(),
            "struct<id:bigint,name:string>");
  EXPECT_EQ(tree_schema().simple_string(),
            "struct<id:bigint,tags:array<string>,attrs:map<string,bigint>,"
            "meta:struct<lastUpdated:timestamp>,"
            "items:array<struct<code:decimal(10,2),m:map<string,array<int>>>>,"
            "tab\there:string>");
}

TEST(SchemaStrings, Sql) {
  EXPECT_EQ(DataType::Long().sql(), "BIGINT");
  EXPECT_EQ(DataType::Integer().sql(), "INT");
  EXPECT_EQ(DataType::Short().sql(), "SMALLINT");
  EXPECT_EQ(DataType::Byte().sql(), "TINYINT");
  EXPECT_EQ(DataType::Double().sql(), "DOUBLE");
  EXPECT_EQ(DataType::Float().sql(), "FLOAT");
  EXPECT_EQ(DataType::Decimal(10, 2).sql(), "DECIMAL(10,2)");
  EXPECT_EQ(DataType::String().sql(), "STRING");
  EXPECT_EQ(DataType::Boolean().sql(), "BOOLEAN");
  EXPECT_EQ(DataType::Date().sql(), "DATE");
  EXPECT_EQ(DataType::Timestamp().sql(), "TIMESTAMP");
  EXPECT_EQ(DataType::TimestampNtz().sql(), "TIMESTAMP_NTZ");
  EXPECT_EQ(DataType::Binary().sql(), "BINARY");
  EXPECT_EQ(DataType::Variant().sql(), "VARIANT");
  EXPECT_EQ(DataType::Array(DataType::String()).sql(), "ARRAY<STRING>");
  EXPECT_EQ(DataType::Map(DataType::String(), DataType::Long()).sql(), "MAP<STRING, BIGINT>");
  EXPECT_EQ((StructType{{"id", DataType::Long(), false},
                        {"name", DataType::String(), true, R"({"comment":"x"})"}})
                .sql(),
            "STRUCT<`id`: BIGINT NOT NULL, `name`: STRING COMMENT 'x'>");
}

TEST(SchemaStrings, Ddl) {
  EXPECT_EQ((StructType{{"id", DataType::Long(), false},
                        {"name", DataType::String(), true, R"({"comment":"x"})"}})
                .ddl(),
            "`id` BIGINT NOT NULL,`name` STRING COMMENT 'x'");
  const StructType tricky{
      {"we`ird", DataType::Array(DataType::Map(DataType::String(), DataType::Decimal(10, 2))), true,
       R"({"comment":"it's","other":1})"},
      {"s", StructType{{"id", DataType::Long(), false},
                       {"n", DataType::String(), false, R"({"comment":"a 'b'"})"}}},
      {"c", DataType::Long(), true, R"({"comment":42})"},  // Spark ignores a non-string comment
  };
  EXPECT_EQ(tricky.ddl(),
            "`we``ird` ARRAY<MAP<STRING, DECIMAL(10,2)>> COMMENT 'it\\'s',"
            "`s` STRUCT<`id`: BIGINT NOT NULL, `n`: STRING NOT NULL COMMENT 'a \\'b\\''>,"
            "`c` BIGINT");
  EXPECT_EQ(StructType().ddl(), "");
}

TEST(SchemaStrings, TreeStringMatchesPrintSchema) {
  EXPECT_EQ(tree_schema().tree_string(),
            "root\n"
            " |-- id: long (nullable = false)\n"
            " |-- tags: array (nullable = true)\n"
            " |    |-- element: string (containsNull = true)\n"
            " |-- attrs: map (nullable = true)\n"
            " |    |-- key: string\n"
            " |    |-- value: long (valueContainsNull = true)\n"
            " |-- meta: struct (nullable = true)\n"
            " |    |-- lastUpdated: timestamp (nullable = true)\n"
            " |-- items: array (nullable = true)\n"
            " |    |-- element: struct (containsNull = false)\n"
            " |    |    |-- code: decimal(10,2) (nullable = false)\n"
            " |    |    |-- m: map (nullable = true)\n"
            " |    |    |    |-- key: string\n"
            " |    |    |    |-- value: array (valueContainsNull = false)\n"
            " |    |    |    |    |-- element: integer (containsNull = false)\n"
            " |-- tab\\there: string (nullable = true)\n");
  EXPECT_EQ(StructType().tree_string(), "root\n");
}

TEST(SchemaStrings, TreeNames) {
  EXPECT_EQ(DataType::Integer().tree_name(), "integer");
  EXPECT_EQ(DataType::Decimal(5, 1).tree_name(), "decimal(5,1)");
  EXPECT_EQ(DataType::Array(DataType::Long()).tree_name(), "array");
  EXPECT_EQ(DataType::Map(DataType::Long(), DataType::Long()).tree_name(), "map");
  EXPECT_EQ(StructType().tree_name(), "struct");
}

TEST(StructType, IndexOfAndFindPath) {
  const StructType schema = tree_schema();
  EXPECT_EQ(schema.size(), 6u);
  EXPECT_EQ(schema.index_of("attrs"), 2u);
  EXPECT_EQ(schema.index_of("lastUpdated"), std::nullopt);
  const StructField* field = schema.find_path("meta.lastUpdated");
  ASSERT_NE(field, nullptr);
  EXPECT_EQ(field->type, DataType::Timestamp());
  ASSERT_NE(schema.find_path("id"), nullptr);
  EXPECT_EQ(schema.find_path("id")->name, "id");
  EXPECT_EQ(schema.find_path("meta.missing"), nullptr);
  EXPECT_EQ(schema.find_path("id.x"), nullptr);
  EXPECT_EQ(schema.find_path("items.code"), nullptr);  // arrays are not traversed
  EXPECT_EQ(schema.find_path("missing"), nullptr);
  EXPECT_EQ(schema.find_path(""), nullptr);
  EXPECT_EQ(schema.find_path("meta."), nullptr);
}

TEST(DataType, EqualityIsDeep) {
  EXPECT_EQ(nested_schema(), nested_schema());
  EXPECT_NE(DataType::Decimal(10, 2), DataType::Decimal(10, 3));
  EXPECT_NE(DataType::Array(DataType::Long()), DataType::Array(DataType::Long(), false));
  EXPECT_NE(DataType::Array(DataType::Long()), DataType::Array(DataType::Integer()));
  EXPECT_NE(DataType::Map(DataType::String(), DataType::Long()),
            DataType::Map(DataType::Long(), DataType::Long()));
  const StructType a{{"s", StructType{{"x", DataType::Long(), true}}}};
  const StructType b{{"s", StructType{{"x", DataType::Long(), false}}}};
  const StructType c{{"s", StructType{{"x", DataType::Long(), true, R"({"k":1})"}}}};
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(StructType(), (StructType{{"x", DataType::Long()}}));
  EXPECT_EQ(StructType(), StructType(std::vector<StructField>{}));
}

TEST(DataType, Accessors) {
  const DataType map = DataType::Map(DataType::String(), DataType::Array(DataType::Long()), false);
  EXPECT_TRUE(map.is_nested());
  EXPECT_FALSE(DataType::Long().is_nested());
  EXPECT_EQ(map.key_type(), DataType::String());
  EXPECT_EQ(map.value_type(), DataType::Array(DataType::Long()));
  EXPECT_FALSE(map.value_contains_null());
  EXPECT_EQ(map.value_type().element_type(), DataType::Long());
  EXPECT_TRUE(map.fields().empty());
  EXPECT_EQ(DataType::Decimal(12, 4).precision(), 12);
  EXPECT_EQ(DataType::Decimal(12, 4).scale(), 4);
  EXPECT_THROW(map.element_type(), SchemaError);
  EXPECT_THROW(DataType::Long().key_type(), SchemaError);
  EXPECT_THROW(DataType::Long().value_type(), SchemaError);
}

TEST(DataType, AsStructConvertsStructsOnly) {
  const DataType type = nested_schema();
  const StructType schema = type.as_struct();
  EXPECT_EQ(schema, nested_schema());
  EXPECT_EQ(schema.index_of("amount"), 6u);
  try {
    (void)DataType::Long().as_struct();
    ADD_FAILURE();
  } catch (const SchemaError& e) {
    EXPECT_THAT(e.what(), HasSubstr("expected a struct type, got bigint"));
  }
}

TEST(DataType, DecimalRangeIsValidated) {
  EXPECT_NO_THROW(DataType::Decimal(1, 0));
  EXPECT_NO_THROW(DataType::Decimal(38, 38));
  EXPECT_THROW(DataType::Decimal(0, 0), SchemaError);
  EXPECT_THROW(DataType::Decimal(39, 0), SchemaError);
  EXPECT_THROW(DataType::Decimal(10, 11), SchemaError);
  EXPECT_THROW(DataType::Decimal(10, -1), SchemaError);
}

// --- Parse errors ------------------------------------------------------------------------------

std::string parse_error(std::string_view json) {
  try {
    parse_data_type(json);
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kSchema);
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << json;
  return "";
}

TEST(SchemaParse, RejectsInvalidJson) {
  EXPECT_THAT(parse_error(R"({"type":"struct",)"), HasSubstr("invalid schema: "));
  EXPECT_THAT(parse_error(""), HasSubstr("invalid schema: "));
}

TEST(SchemaParse, UnknownTypeNamesItsPath) {
  EXPECT_THAT(parse_error(R"("lon")"), HasSubstr("invalid schema JSON: unknown type 'lon'"));
  EXPECT_THAT(parse_error(R"("bigint")"), HasSubstr("unknown type 'bigint'"));
  EXPECT_THAT(
      parse_error(
          R"({"type":"struct","fields":[{"name":"a","type":"long"},{"name":"b","type":"long"},)"
          R"({"name":"c","type":"long"},{"name":"d","type":{"type":"array",)"
          R"("elementType":"lon","containsNull":true}}]})"),
      HasSubstr("at fields[3].type.elementType: unknown type 'lon'"));
  EXPECT_THAT(parse_error(R"({"type":"map","keyType":"string","valueType":{"type":"struct",)"
                          R"("fields":[{"name":"x","type":"nope"}]},"valueContainsNull":true})"),
              HasSubstr("at valueType.fields[0].type: unknown type 'nope'"));
  EXPECT_THAT(parse_error(R"({"type":"udt","class":"x"})"),
              HasSubstr("at type: unknown type 'udt'"));
}

TEST(SchemaParse, RejectsBadDecimals) {
  EXPECT_THAT(parse_error(R"j("decimal(40,2)")j"),
              HasSubstr("invalid decimal type 'decimal(40,2)'"));
  EXPECT_THAT(parse_error(R"j("decimal(5,6)")j"), HasSubstr("invalid decimal type"));
  EXPECT_THAT(parse_error(R"j("decimal(0,0)")j"), HasSubstr("invalid decimal type"));
  EXPECT_THAT(parse_error(R"j("decimal(10,-1)")j"), HasSubstr("invalid decimal type"));
  EXPECT_THAT(parse_error(R"j("decimal(99999999999999999999,1)")j"), HasSubstr("invalid decimal"));
  EXPECT_THAT(parse_error(R"j("decimal(10,2)x")j"), HasSubstr("unknown type 'decimal(10,2)x'"));
  EXPECT_THAT(parse_error(R"j("decimal(10)")j"), HasSubstr("unknown type 'decimal(10)'"));
  EXPECT_THAT(
      parse_error(R"j({"type":"array","elementType":"decimal(50,1)","containsNull":true})j"),
      HasSubstr("at elementType: invalid decimal type"));
}

TEST(SchemaParse, RejectsMalformedObjects) {
  EXPECT_THAT(parse_error(R"({"type":"struct"})"), HasSubstr("missing \"fields\""));
  EXPECT_THAT(parse_error(R"({"type":"struct","fields":{}})"),
              HasSubstr("at fields: expected an array of fields"));
  EXPECT_THAT(parse_error(R"({"type":"struct","fields":[1]})"),
              HasSubstr("at fields[0]: expected a field object"));
  EXPECT_THAT(parse_error(R"({"type":"struct","fields":[{"type":"long"}]})"),
              HasSubstr("at fields[0]: missing \"name\""));
  EXPECT_THAT(parse_error(R"({"type":"struct","fields":[{"name":1,"type":"long"}]})"),
              HasSubstr("at fields[0].name: expected a string"));
  EXPECT_THAT(
      parse_error(R"({"type":"struct","fields":[{"name":"a","type":"long","nullable":1}]})"),
      HasSubstr("at fields[0].nullable: expected true or false"));
  EXPECT_THAT(
      parse_error(R"({"type":"struct","fields":[{"name":"a","type":"long","metadata":[]}]})"),
      HasSubstr("at fields[0].metadata: expected a JSON object"));
  EXPECT_THAT(parse_error(R"({"type":"array","elementType":"long"})"),
              HasSubstr("missing \"containsNull\""));
  EXPECT_THAT(parse_error(R"({"type":"map","keyType":"long","valueContainsNull":true})"),
              HasSubstr("missing \"valueType\""));
  EXPECT_THAT(parse_error(R"({"elementType":"long"})"), HasSubstr("missing \"type\""));
  EXPECT_THAT(parse_error("42"), HasSubstr("expected a type name or a type object, got 42"));
}

TEST(SchemaParse, StructTypeRejectsOtherTypes) {
  EXPECT_THROW(parse_struct_type(R"("long")"), SchemaError);
  try {
    parse_struct_type(R"({"type":"array","elementType":"long","containsNull":true})");
    ADD_FAILURE();
  } catch (const SchemaError& e) {
    EXPECT_THAT(e.what(), HasSubstr("expected a struct schema"));
  }
  EXPECT_THROW(parse_struct_type("not json"), SchemaError);
}

}  // namespace
}  // namespace lakeflow
