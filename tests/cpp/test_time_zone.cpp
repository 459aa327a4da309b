#include <gtest/gtest.h>

#include <chrono>
#include <statusz/time_zone.hpp>
#include <stdexcept>

namespace statusz {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

// 2019-03-26 17:40:49 UTC: the seed document's date.
const system_clock::time_point kSeed{1553622049s};

TEST(TimeZone, UtcIsTheDefaultAndWritesTheSeedsFormat) {
  const TimeZone utc = TimeZone::utc();
  EXPECT_FALSE(utc.is_local());
  EXPECT_EQ(utc.offset(), 0min);
  EXPECT_EQ(utc.format(kSeed), "2019-03-26 17:40:49");
  EXPECT_EQ(TimeZone::parse("UTC").format(kSeed), "2019-03-26 17:40:49");
  EXPECT_EQ(TimeZone::parse("Z").offset(), 0min);
}

TEST(TimeZone, FixedOffsetsShiftTheWallTimeAcrossDays) {
  EXPECT_EQ(TimeZone::parse("+02:00").format(kSeed), "2019-03-26 19:40:49");
  EXPECT_EQ(TimeZone::parse("+06:30").format(kSeed), "2019-03-27 00:10:49");
  EXPECT_EQ(TimeZone::parse("-18:00").format(kSeed), "2019-03-25 23:40:49");
  EXPECT_EQ(TimeZone::fixed(-330min).offset(), -330min);
}

TEST(TimeZone, ParseRejectsAnythingElse) {
  for (const char* bad : {"", "utc+1", "+2:00", "+24:00", "+01:60", "02:00",
                          "+0a:00", "Europe/Paris", "+01:00 "}) {
    EXPECT_THROW(TimeZone::parse(bad), std::invalid_argument) << bad;
  }
  EXPECT_THROW(TimeZone::fixed(24h), std::invalid_argument);
  EXPECT_THROW(TimeZone::fixed(-24h), std::invalid_argument);
}

TEST(TimeZone, LocalIsMarkedAndFormatsAsTheSeed) {
  const TimeZone local = TimeZone::parse("local");
  EXPECT_TRUE(local.is_local());
  EXPECT_EQ(local.format(kSeed).size(), 19u);  // YYYY-MM-DD HH:MM:SS
}

}  // namespace
}  // namespace statusz
