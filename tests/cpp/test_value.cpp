#include <gtest/gtest.h>

#include <cstdint>
#include <statusz/value.hpp>
#include <stdexcept>
#include <string>

namespace statusz {
namespace {

TEST(Value, HoldsEachTypeAndSaysWhich) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_EQ(Value(true).type(), Value::Type::Bool);
  EXPECT_EQ(Value(42).as_int(), 42);
  EXPECT_EQ(Value(std::uint16_t{7}).as_int(), 7);
  EXPECT_EQ(Value(0.5).as_double(), 0.5);
  EXPECT_EQ(Value(3).as_double(), 3.0);  // an integer reads as a number
  EXPECT_TRUE(Value(3).is_number() && Value(0.5).is_number());
  EXPECT_EQ(Value("x").as_string(), "x");
  EXPECT_EQ(Value(std::string_view("y")).as_string(), "y");
  EXPECT_TRUE(Value(Array{1, 2}).is_array());
  EXPECT_TRUE(Value(Object{}).is_object());
}

TEST(Value, ReadingTheWrongTypeThrowsNamingTheWantedOne) {
  try {
    (void)Value("x").as_int();
    FAIL() << "expected logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("an integer"), std::string::npos);
  }
  EXPECT_THROW((void)Value(1).as_string(), std::logic_error);
  EXPECT_THROW((void)Value().as_object(), std::logic_error);
  EXPECT_THROW((void)Value(true).as_double(), std::logic_error);
}

TEST(Value, ObjectsKeepInsertionOrderAndFindByName) {
  Value v;
  v.add("b", 1);
  v.add("a", "two");
  v.add("b", 3);  // no duplicate check: the first one is found
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.as_object().size(), 3u);
  EXPECT_EQ(v.as_object()[0].first, "b");
  EXPECT_EQ(v.as_object()[1].first, "a");
  EXPECT_EQ(v.at("b").as_int(), 1);
  EXPECT_EQ(v.find("nope"), nullptr);
  EXPECT_EQ(Value(1).find("b"), nullptr);
  EXPECT_THROW((void)v.at("nope"), std::out_of_range);
  EXPECT_THROW(Value(1).add("k", 2), std::logic_error);
}

TEST(Value, EqualityComparesTypeAndContent) {
  EXPECT_EQ(Value(Array{1, "a"}), Value(Array{1, "a"}));
  EXPECT_NE(Value(1), Value(1.0));  // an integer is not a double
  EXPECT_NE(Value(Object{{"a", 1}}), Value(Object{{"a", 2}}));
}

}  // namespace
}  // namespace statusz
