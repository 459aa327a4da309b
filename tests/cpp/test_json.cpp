#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <statusz/json.hpp>

namespace statusz {
namespace {

TEST(Json, RendersScalars) {
  EXPECT_EQ(to_json(Value()), "null");
  EXPECT_EQ(to_json(Value(true)), "true");
  EXPECT_EQ(to_json(Value(false)), "false");
  EXPECT_EQ(to_json(Value(42)), "42");
  EXPECT_EQ(to_json(Value(-7)), "-7");
  EXPECT_EQ(to_json(Value(std::numeric_limits<std::int64_t>::min())),
            "-9223372036854775808");
  EXPECT_EQ(to_json(Value("x")), "\"x\"");
}

TEST(Json, DoublesAreShortestRoundTripAndStayDoubles) {
  EXPECT_EQ(to_json(Value(5.906036065303805)), "5.906036065303805");
  EXPECT_EQ(to_json(Value(1.7346981279379943e-05)), "1.7346981279379943e-05");
  EXPECT_EQ(to_json(Value(0.0)), "0.0");
  EXPECT_EQ(to_json(Value(6.0)), "6.0");
  EXPECT_EQ(to_json(Value(-0.5)), "-0.5");
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = to_json(Value(d));
    const auto parsed = nlohmann::json::parse(text);
    ASSERT_TRUE(parsed.is_number_float()) << text;
    ASSERT_EQ(parsed.get<double>(), d) << text;
  }
}

TEST(Json, NonFiniteNumbersBecomeNull) {
  EXPECT_EQ(to_json(Value(std::nan(""))), "null");
  EXPECT_EQ(to_json(Value(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(to_json(Value(-std::numeric_limits<double>::infinity())), "null");
}

TEST(Json, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(to_json(Value("a\"b\\c")), R"("a\"b\\c")");
  EXPECT_EQ(to_json(Value("\n\r\t\b\f")), R"("\n\r\t\b\f")");
  EXPECT_EQ(to_json(Value(std::string("\x01\x1f\0", 3))),
            R"("\u0001\u001f\u0000")");
  EXPECT_EQ(to_json(Value("\x7f")), "\"\x7f\"");
}

TEST(Json, KeepsValidUtf8AndRepairsInvalidBytes) {
  EXPECT_EQ(to_json(Value("caf\xC3\xA9 \xF0\x9F\x98\x80")),
            "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
  // Lone continuation, truncated sequence, overlong, surrogate, > U+10FFFF.
  for (const char* bad : {"\x80", "\xC3", "\xC0\xAF", "\xED\xA0\x80",
                          "\xF4\x90\x80\x80", "\xFF"}) {
    const std::string text = to_json(Value(bad));
    EXPECT_TRUE(nlohmann::json::accept(text)) << text;
    EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos) << text;
  }
}

TEST(Json, RandomBytesAlwaysMakeValidJson) {
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    Value v{Object{}};
    v.add(s, Value(s));
    const std::string text = to_json(v, i % 2 == 0);
    ASSERT_TRUE(nlohmann::json::accept(text)) << i;
  }
}

TEST(Json, CompactAndPrettyLayouts) {
  Value v{Object{}};
  v.add("a", 1);
  Value& inner = v.add("b", Value(Object{}));
  inner.add("c", "d");
  v.add("e", Value(Object{}));
  v.add("f", Value(Array{Value(1), Value(2.5)}));
  EXPECT_EQ(to_json(v), R"({"a":1,"b":{"c":"d"},"e":{},"f":[1,2.5]})");
  EXPECT_EQ(to_json(v, true),
            "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"d\"\n  },\n  \"e\": {},\n"
            "  \"f\": [\n    1,\n    2.5\n  ]\n}");
}

}  // namespace
}  // namespace statusz
