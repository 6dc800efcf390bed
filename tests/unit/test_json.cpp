// JSON: the nlohmann-json helpers (util/json_text.hpp); CSV fields.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>

#include "bitscale/util/csv.hpp"
#include "bitscale/util/json_text.hpp"

// ---------------------------------------------------------------- nlohmann-json helpers, CSV

namespace {

namespace util = bitscale::util;

TEST(JsonText, ParsesNestedValuesAndUnicodeEscapes) {
  const util::Json v = util::parse_json(R"( {"a": [1, -2.5e3, true, null], "b": {"c": "x\ny\u00e9"}} )");
  ASSERT_TRUE(v.is_object());
  const util::Json& a = v.at("a");
  ASSERT_EQ(a.size(), 4u);
  EXPECT_DOUBLE_EQ(a[1].get<double>(), -2500.0);
  EXPECT_TRUE(a[2].get<bool>());
  EXPECT_TRUE(a[3].is_null());
  EXPECT_EQ(v.at("b").at("c").get<std::string>(), "x\ny\xc3\xa9");  // \u00e9 as UTF-8
  EXPECT_FALSE(v.contains("missing"));
}

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
  EXPECT_THROW((void)util::parse_json("\"unterminated"), std::runtime_error);
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
