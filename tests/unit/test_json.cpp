// The project's JSON reader and string quoting (host/json.hpp).
#include <gtest/gtest.h>

#include <string>

#include "bitscale/util/json.hpp"

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
