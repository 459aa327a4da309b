#include <gtest/gtest.h>

#include <statusz/status.hpp>

namespace statusz {
namespace {

TEST(Status, ToStringSpellsTheDocumentValues) {
  EXPECT_EQ(to_string(Status::Ok), "Ok");
  EXPECT_EQ(to_string(Status::Warning), "Warning");
  EXPECT_EQ(to_string(Status::Unknown), "Unknown");
  EXPECT_EQ(to_string(Status::Ko), "Ko");
}

TEST(Status, ParseIsCaseInsensitiveAndRoundTrips) {
  for (Status s : {Status::Ok, Status::Warning, Status::Unknown, Status::Ko}) {
    EXPECT_EQ(parse_status(to_string(s)), s);
  }
  EXPECT_EQ(parse_status("ok"), Status::Ok);
  EXPECT_EQ(parse_status("WARNING"), Status::Warning);
  EXPECT_EQ(parse_status("uNkNoWn"), Status::Unknown);
  EXPECT_EQ(parse_status("KO"), Status::Ko);
}

TEST(Status, ParseRejectsAnythingElseWithTheText) {
  EXPECT_FALSE(try_parse_status("").has_value());
  EXPECT_FALSE(try_parse_status("okay").has_value());
  EXPECT_FALSE(try_parse_status("Ok ").has_value());
  try {
    parse_status("broken");
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'broken'"), std::string::npos);
  }
}

TEST(Status, WorstFollowsOkWarningUnknownKo) {
  const Status order[] = {Status::Ok, Status::Warning, Status::Unknown,
                          Status::Ko};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      EXPECT_EQ(worst(order[i], order[j]), order[std::max(i, j)]);
    }
  }
}

}  // namespace
}  // namespace statusz
