#include <gtest/gtest.h>

#include <statusz/detail/utf8.hpp>
#include <string>

namespace statusz::detail {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, AcceptsWellFormedSequences) {
  for (const char* ok :
       {"", "ascii", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
        "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(is_valid_utf8(ok)) << ok;
    EXPECT_EQ(to_valid_utf8(ok), ok);
  }
}

TEST(Utf8, RejectsOverlongsSurrogatesAndOutOfRange) {
  for (const char* bad :
       {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
        "\xF5\x80\x80\x80", "\x80", "\xC3", "\xE2\x82", "\xFF"}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
  }
}

TEST(Utf8, RepairReplacesEachBadByteWithFffd) {
  EXPECT_EQ(to_valid_utf8("a\xFF"
                          "b"),
            "a" + kFffd + "b");
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), kFffd + kFffd);
  EXPECT_EQ(to_valid_utf8("\xE2\x82"), kFffd + kFffd);  // truncated
  EXPECT_EQ(to_valid_utf8("\xE2\x82\xAC\xFF"), "\xE2\x82\xAC" + kFffd);
}

TEST(Utf8, AppendSequenceConsumesOneSequenceOrOneBadByte) {
  std::string out;
  const std::string s = "\xC3\xA9\xFFx";
  EXPECT_EQ(append_utf8_sequence(out, s, 0), 2u);
  EXPECT_EQ(append_utf8_sequence(out, s, 2), 1u);
  EXPECT_EQ(append_utf8_sequence(out, s, 3), 1u);
  EXPECT_EQ(out, "\xC3\xA9" + kFffd + "x");
}

}  // namespace
}  // namespace statusz::detail
