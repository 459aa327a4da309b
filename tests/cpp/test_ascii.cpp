#include <gtest/gtest.h>

#include <statusz/detail/ascii.hpp>

namespace statusz::detail {
namespace {

TEST(Ascii, ClassesAreAsciiOnlyAndLocaleFree) {
  static_assert(ascii_lower('Q') == 'q' && ascii_lower('q') == 'q');
  EXPECT_EQ(ascii_lower('@'), '@');        // the byte before 'A'
  EXPECT_EQ(ascii_lower('['), '[');        // the byte after 'Z'
  EXPECT_EQ(ascii_lower('\xC9'), '\xC9');  // not ASCII: unchanged
  EXPECT_TRUE(ascii_is_upper('A') && ascii_is_upper('Z') &&
              !ascii_is_upper('a'));
  EXPECT_TRUE(ascii_is_lower('a') && ascii_is_lower('z') &&
              !ascii_is_lower('`'));
  EXPECT_TRUE(ascii_is_digit('0') && ascii_is_digit('9') &&
              !ascii_is_digit('/'));
  EXPECT_FALSE(ascii_is_digit(':'));
}

}  // namespace
}  // namespace statusz::detail
