// statusz::Meter against the real Dropwizard Metrics Meter: replays the
// timelines of tests/data/dropwizard-meter-reference.txt (written by
// scripts/dropwizard-reference from metrics-core's jar) on a ManualClock.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <statusz/meter.hpp>
#include <string>

namespace statusz {
namespace {

// Dropwizard's idle ticks are a loop, statusz's a closed form: ~1e-16 per tick.
void expect_same(double actual, double dropwizard, const std::string& what) {
  const double scale = std::max(std::abs(actual), std::abs(dropwizard));
  EXPECT_LE(std::abs(actual - dropwizard), 1e-11 * scale + 1e-290)
      << what << ": statusz " << actual << ", Dropwizard " << dropwizard;
}

// Java's Double.toString, subnormals and "Infinity" included (std::stod
// throws on subnormals).
double number(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

TEST(MeterDropwizard, SameFiguresAsTheRealJarOnRandomTimelines) {
  std::ifstream in(STATUSZ_TEST_DATA_DIR "/dropwizard-meter-reference.txt");
  ASSERT_TRUE(in) << "missing reference data";
  std::string line;
  std::unique_ptr<ManualClock> clock;
  std::unique_ptr<Meter> meter;
  int timelines = 0, reads = 0, resets = 0, boundary_reads = 0;
  std::int64_t start = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream is(line);
    std::string op;
    is >> op;
    if (op == "max_ticks") {
      std::int64_t max_ticks = 0;
      is >> max_ticks;
      EXPECT_EQ(Meter::kMaxTicks, max_ticks);
    } else if (op == "timeline") {
      is >> start;
      meter.reset();
      clock = std::make_unique<ManualClock>();
      clock->advance(Nanos(start));
      meter = std::make_unique<Meter>(*clock);
      ++timelines;
    } else if (op == "a") {
      std::int64_t d = 0;
      is >> d;
      clock->advance(Nanos(d));
    } else if (op == "m") {
      std::uint64_t n = 0;
      is >> n;
      meter->mark(n);
    } else if (op == "r") {
      std::uint64_t count = 0;
      std::string mean, m1, m5, m15;
      is >> count >> mean >> m1 >> m5 >> m15;
      const std::int64_t t = clock->now().count() - start;
      const std::string where = "timeline " + std::to_string(timelines) +
                                " at " + std::to_string(t) + " ns: ";
      const MeterSnapshot s = meter->snapshot();
      EXPECT_EQ(s.count, count) << where;
      const double dw_mean = number(mean);
      // Dropwizard divides by zero at the creation instant; statusz says 0.
      expect_same(s.mean_rate, std::isfinite(dw_mean) ? dw_mean : 0.0,
                  where + "mean");
      expect_same(s.one_minute_rate, number(m1), where + "m1");
      expect_same(s.five_minute_rate, number(m5), where + "m5");
      expect_same(s.fifteen_minute_rate, number(m15), where + "m15");
      ++reads;
      if (number(m1) == std::numeric_limits<double>::min() * 1e9) ++resets;
      if (t % 5'000'000'000 == 0) ++boundary_reads;
    } else {
      ASSERT_EQ(op, "end") << line;
    }
  }
  // The data exercises what it should.
  EXPECT_GE(timelines, 100);
  EXPECT_GE(reads, 1000);
  EXPECT_GE(resets, 5);
  EXPECT_GE(boundary_reads, 100);
}

}  // namespace
}  // namespace statusz
