#include <gtest/gtest.h>

#include <atomic>
#include <statusz/gauge.hpp>
#include <statusz/registry.hpp>
#include <stdexcept>

namespace statusz {
namespace {

using namespace std::chrono_literals;

TEST(Gauge, CallsItsFunctionOnEachRead) {
  std::atomic<int> calls{0};
  Gauge g([&] { return Value(++calls); });
  EXPECT_EQ(g.value().as_int(), 1);
  EXPECT_EQ(g.value().as_int(), 2);
}

TEST(Gauge, AThrowingFunctionReadsNull) {
  Gauge g([]() -> Value { throw std::runtime_error("down"); });
  EXPECT_TRUE(g.value().is_null());
}

TEST(Gauge, NeedsAFunctionAndKeepsTheOldOneIfGivenNone) {
  EXPECT_THROW(Gauge{Gauge::Function{}}, std::invalid_argument);
  Gauge g([] { return Value("first"); });
  EXPECT_THROW(g.set_function(Gauge::Function{}), std::invalid_argument);
  EXPECT_EQ(g.value().as_string(), "first");
  g.set_function([] { return Value("second"); });
  EXPECT_EQ(g.value().as_string(), "second");
}

TEST(Gauge, RatioIsErrorsOverAllFiveMinuteRatesAndZeroWhenIdle) {
  ManualClock clock;
  Meter errors(clock), successes(clock);
  Gauge ratio(ratio_gauge(errors, successes));
  EXPECT_EQ(ratio.value().as_double(), 0.0);
  errors.mark(1);
  successes.mark(3);
  clock.advance(6s);  // Dropwizard ticks once more than 5 s have passed
  EXPECT_DOUBLE_EQ(ratio.value().as_double(), 0.25);
}

}  // namespace
}  // namespace statusz
