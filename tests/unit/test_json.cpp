// JSON: the former hand-written reader (util/json.hpp, still used by the calibration and the
// regression) and the nlohmann-json helpers (util/json_text.hpp); CSV fields.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>

#include "bitscale/util/csv.hpp"
#include "bitscale/util/json.hpp"
#include "bitscale/util/json_text.hpp"

namespace {

namespace json = bitscale::util::json;

TEST(Json, ParsesNestedValuesAndKeepsNumberText) {
  const auto v =
      json::parse(R"( {"a": [1, -2.5e3, true, null], "b": {"c": "x\ny\u00e9"}, "big": 18446744073709551615} )");
  ASSERT_EQ(v.kind, json::Value::Kind::kObject);
  const auto* a = v.find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 4u);
  EXPECT_DOUBLE_EQ(a->items[1].number(), -2500.0);
  EXPECT_EQ(a->items[2].kind, json::Value::Kind::kBool);
  EXPECT_TRUE(a->items[2].b);
  EXPECT_EQ(a->items[3].kind, json::Value::Kind::kNull);
  EXPECT_EQ(v.find("b")->find("c")->text, "x\ny\xc3\xa9");  // \u00e9 as UTF-8
  // 2^64 - 1 survives as text (a double could not hold it).
  EXPECT_EQ(v.find("big")->text, "18446744073709551615");
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(Json, QuoteRoundTrips) {
  const std::string s = std::string("quote \" backslash \\ tab \t newline \n bell ") + '\x07';
  const std::string q = json::quote(s);
  EXPECT_EQ(q.front(), '"');
  EXPECT_EQ(q.find('\n'), std::string::npos);  // control characters are escaped
  EXPECT_EQ(json::parse(q).text, s);
}

TEST(Json, ErrorsNameTheSourceAndColumn) {
  try {
    (void)json::parse(R"({"a": 1,})", "calib.json");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    const std::string w = e.what();
    EXPECT_EQ(w.rfind("calib.json: invalid JSON at column", 0), 0u) << w;
  }
  EXPECT_THROW((void)json::parse(""), std::runtime_error);
  EXPECT_THROW((void)json::parse("[1, 2"), std::runtime_error);
  EXPECT_THROW((void)json::parse("\"unterminated"), std::runtime_error);
  EXPECT_THROW((void)json::parse("{} trailing"), std::runtime_error);
  EXPECT_THROW((void)json::parse(std::string(100, '[') + std::string(100, ']')), std::runtime_error);  // too deep
  EXPECT_THROW((void)json::parse("\"a\"").number(), std::runtime_error);                               // not a number
}

}  // namespace

// ---------------------------------------------------------------- nlohmann-json helpers, CSV

namespace {

namespace util = bitscale::util;

TEST(JsonText, SixtyFourBitCountersAreExact) {
  const util::Json j = util::parse_json(R"({"c": 18446744073709551615, "n": -9223372036854775808})");
  EXPECT_TRUE(j.at("c").is_number_unsigned());
  EXPECT_EQ(j.at("c").get<std::uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(j.at("n").get<std::int64_t>(), INT64_MIN);
}

TEST(JsonText, StringsRoundTripWithQuotesBackslashesAndControls) {
  const std::string s = "a\"b\\c\n\t\x01 é";
  const std::string q = util::json_string(s);
  EXPECT_EQ(q.find('\n'), std::string::npos);  // one line
  EXPECT_EQ(q.front(), '"');
  EXPECT_EQ(util::parse_json(q).get<std::string>(), s);
  EXPECT_EQ(util::json_string("plain"), "\"plain\"");
}

TEST(JsonText, ErrorsNameSourceLineAndColumn) {
  try {
    (void)util::parse_json("{\"a\": 1,\n \"b\": }", "calib.json");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("calib.json: invalid JSON at line 2, column 7"), std::string::npos) << w;
  }
  EXPECT_THROW((void)util::parse_json(""), std::runtime_error);
  EXPECT_THROW((void)util::parse_json("[1, 2"), std::runtime_error);
  EXPECT_THROW((void)util::parse_json("{} trailing"), std::runtime_error);
}

TEST(Csv, FieldsQuotedOnlyWhenNeeded) {
  EXPECT_EQ(util::csv_field("plain name"), "plain name");
  EXPECT_EQ(util::csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(util::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(util::csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(util::csv_field(""), "");
}

}  // namespace
