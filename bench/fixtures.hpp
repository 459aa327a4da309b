// Shared fixtures of the benchmark suite: the sample server (the registry
// behind tests/data/serverstatus-sample.json, optionally with many more keys
// in errorsByBot), UUID-shaped keys, and the nlohmann::json baseline that
// builds and dumps the same document from plain variables.
//
// Every fixture is created once and never destroyed (leaked on purpose): a
// destroyed meter or key would hand its cell index back to statusz, and a
// later memory benchmark would then reuse cells that are already allocated
// and under-count. Leaking keeps every measurement independent of the order
// in which the benchmarks run (random interleaving included).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <statusz/statusz.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace statusz_bench {

// The 16 bot ids of the sample document and their counts, in its order.
inline const std::vector<std::pair<std::string, std::uint64_t>>& sample_bots() {
  static const auto* bots =
      new std::vector<std::pair<std::string, std::uint64_t>>{
          {"0df33792-2271-472b-a817-bb0f556c016d", 24},
          {"3c1556aa-c715-464e-8d0d-9655399c2323", 10},
          {"84e8cb21-ef29-4334-ac6b-027d61803807", 5},
          {"c868780f-78d4-44be-a369-d0922d0f3ede", 46},
          {"5826436b-01e8-4ce0-adc9-206e7d639aa6", 73},
          {"dfe48d5d-ab32-48be-a26e-1fe3eb3cc1ec", 103},
          {"06516c4f-9316-4164-a749-21c4f8fc0cb4", 3},
          {"6c510ad0-7d9d-4ce7-8827-6d22daa3ed37", 6},
          {"ef07a37a-2f38-44f1-a2c4-d2e71e7c6d20", 75},
          {"4e3aca48-e3a4-4f06-8355-94e2975de855", 11},
          {"0d78d5ab-5f98-4304-9cf7-08fea68f95fd", 6},
          {"1d332804-adc4-4e12-88b9-cbb0ef3a6a87", 263},
          {"1793f1cb-17dd-46d6-9f3e-7987e07dbd20", 290},
          {"428861e2-0b89-4d17-a698-7517279900b9", 3},
          {"b4ef36d7-8d70-46bf-a70c-ea9edc078399", 1},
          {"382e4eab-ff06-4b15-83bd-0cf8c8dde391", 98},
      };
  return *bots;
}

// The key the single-key hot-path benchmarks count (one of the sample's).
inline const std::string& hot_key() {
  static const std::string* key = new std::string(sample_bots()[11].first);
  return *key;
}

// A deterministic, UUID-shaped (8-4-4-4-12 lowercase hex, 36 bytes) key.
inline std::string uuid_key(std::uint64_t i) {
  auto next = [&i]() {  // splitmix64
    std::uint64_t z = (i += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  const std::uint64_t a = next();
  const std::uint64_t b = next();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return std::string(buf, 36);
}

// `n` distinct UUID-shaped keys (the seed picks the family).
inline std::vector<std::string> uuid_keys(std::size_t n, std::uint64_t seed) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    keys.push_back(uuid_key(seed * 1000003 + i));
  return keys;
}

constexpr const char* kApps[] = {"runtime", "dialog",   "slogger",
                                 "website", "servlet",  "sso",
                                 "router",  "livechat", "analytic"};

// The sample server: every member of tests/data/serverstatus-sample.json,
// registered in its order, with its counts; meter rates come from ten
// simulated minutes on a ManualClock ending at the sample's date. With
// `keys` > 16, errorsByBot holds the 16 sample bots plus generated UUIDs up to
// `keys` keys (its max_keys raised to fit).
class SampleServer {
 public:
  SampleServer(std::size_t keys, bool probes_each_time)
      : clock_(std::chrono::system_clock::time_point(
            std::chrono::seconds(1553622049 - 600))),
        reg_({&clock_, "app1.earth.doyoudreamup.com", "49.2470 a543dff5"}) {
    const statusz::ProbeOptions probe_options{
        std::chrono::seconds(5),
        probes_each_time ? statusz::Nanos(0)
                         : statusz::Nanos(std::chrono::hours(24 * 365))};
    reg_.counter("volumes.connectedPeople").set(9);
    reg_.counter("volumes.connectedOperators").set(3);
    reg_.counter("volumes.currentDialogs").set(273);
    reg_.counter("volumes.currentLivechatDialogs").set(1);
    const std::string chat = "applications.servlet.requests.chatHttp.";
    for (const char* app : kApps) {
      const std::string base = std::string("applications.") + app;
      reg_.probe(
          base, [] { return statusz::Status::Ok; }, probe_options);
      if (base == "applications.website")
        reg_.counter(base + ".customs.sessions").set(16);
      if (base == "applications.servlet") {
        successes_ = &reg_.meter(chat + "successes");
        errors_ = &reg_.meter(chat + "errors");
        by_bot_ =
            &reg_.keyed(chat + "errorsByBot",
                        std::max(keys, statusz::KeyedCounter::kDefaultMaxKeys));
        ignored_ = &reg_.meter(chat + "ignored");
        reg_.ratio(chat + "fiveMinuteErrorsRatio", *errors_, *successes_);
        reg_.counter(base + ".customs.sessions").set(0);
      }
      if (base == "applications.router")
        reg_.counter(base + ".customs.sessions").set(4);
      if (base == "applications.livechat")
        reg_.counter(base + ".customs.sessions").set(168);
      if (base == "applications.analytic")
        reg_.counter(base + ".customs.sessions").set(0);
    }
    for (const auto& [bot, n] : sample_bots()) by_bot_->inc(bot, n);
    std::uint64_t i = 0;
    while (by_bot_->size() < keys) {
      by_bot_->inc(uuid_key(0xb07 + i), 1 + i % 97);
      ++i;
    }
    // Ten minutes of traffic, 120 ticks of 5 s, so the rates are real EWMAs.
    const std::uint64_t totals[3] = {1890598, 1017, 831534};
    statusz::Meter* meters[3] = {successes_, errors_, ignored_};
    for (int tick = 0; tick < 120; ++tick) {
      for (int m = 0; m < 3; ++m) {
        const std::uint64_t share = totals[m] / 120;
        const std::uint64_t so_far = meters[m]->count();
        if (tick == 119) {  // the last interval brings the sample's count
          meters[m]->mark(totals[m] > so_far ? totals[m] - so_far : 0);
        } else {  // uneven traffic, so the three EWMAs differ
          meters[m]->mark(tick % 7 == 0 ? share / 2 : share + share / 12);
        }
      }
      clock_.advance(std::chrono::seconds(5));
    }
    (void)reg_.snapshot();  // first run of the probes: later ones may reuse
  }

  statusz::Registry& registry() noexcept { return reg_; }
  statusz::ManualClock& clock() noexcept { return clock_; }

 private:
  statusz::ManualClock clock_;
  statusz::Registry reg_;
  statusz::Meter* successes_ = nullptr;
  statusz::Meter* errors_ = nullptr;
  statusz::Meter* ignored_ = nullptr;
  statusz::KeyedCounter* by_bot_ = nullptr;
};

// ---------------------------------------------------------------------------
// The nlohmann::json baseline: what a service would write by hand, keeping its
// figures in plain variables and building the document with nlohmann::json.

struct PlainMeter {
  std::uint64_t count = 0;
  double m1 = 0, m5 = 0, m15 = 0, mean = 0;
};

struct PlainApp {
  std::string name;
  std::string status;
  std::int64_t duration_ms = 0;
  bool has_sessions = false;
  std::int64_t sessions = 0;
};

struct PlainDoc {
  std::int64_t connected_people = 0, connected_operators = 0,
               current_dialogs = 0, current_livechat_dialogs = 0;
  std::vector<PlainApp> apps;
  PlainMeter successes, errors, ignored;
  std::vector<std::pair<std::string, std::uint64_t>> by_bot;
  double ratio = 0;
  std::string host_name, version;
  std::chrono::system_clock::time_point wall;
  std::int64_t duration_ms = 0;
};

// The plain figures, read once from a statusz document (so both renderers
// write the same values).
inline PlainDoc plain_from(const statusz::Value& doc,
                           std::chrono::system_clock::time_point wall) {
  PlainDoc p;
  const auto& vol = doc.at("volumes");
  p.connected_people = vol.at("connectedPeople").as_int();
  p.connected_operators = vol.at("connectedOperators").as_int();
  p.current_dialogs = vol.at("currentDialogs").as_int();
  p.current_livechat_dialogs = vol.at("currentLivechatDialogs").as_int();
  auto meter = [](const statusz::Value& m) {
    PlainMeter pm;
    pm.m5 = m.at("fiveMinuteRate").as_double();
    pm.m1 = m.at("oneMinuteRate").as_double();
    pm.m15 = m.at("fifteenMinuteRate").as_double();
    pm.count = static_cast<std::uint64_t>(m.at("count").as_int());
    pm.mean = m.at("meanRate").as_double();
    return pm;
  };
  for (const auto& [name, app] : doc.at("applications").as_object()) {
    PlainApp a;
    a.name = name;
    a.status = app.at("status").as_string();
    a.duration_ms = app.at("durationMs").as_int();
    if (const auto* customs = app.find("customs")) {
      a.has_sessions = true;
      a.sessions = customs->at("sessions").as_int();
    }
    if (const auto* requests = app.find("requests")) {
      const auto& chat = requests->at("chatHttp");
      p.successes = meter(chat.at("successes"));
      p.errors = meter(chat.at("errors"));
      p.ignored = meter(chat.at("ignored"));
      for (const auto& [bot, n] : chat.at("errorsByBot").as_object()) {
        p.by_bot.emplace_back(bot, static_cast<std::uint64_t>(n.as_int()));
      }
      p.ratio = chat.at("fiveMinuteErrorsRatio").as_double();
    }
    p.apps.push_back(std::move(a));
  }
  p.host_name = doc.at("hostName").as_string();
  p.version = doc.at("version").as_string();
  p.wall = wall;
  p.duration_ms = doc.at("durationMs").as_int();
  return p;
}

// Builds the document with nlohmann (Json = ordered_json keeps the member
// order of the real document; nlohmann::json sorts members) and dumps it.
template <class Json>
std::string nlohmann_document(const PlainDoc& p, bool pretty) {
  Json doc;
  doc["withDetails"] = true;
  Json& vol = doc["volumes"];
  vol["connectedPeople"] = p.connected_people;
  vol["connectedOperators"] = p.connected_operators;
  vol["currentDialogs"] = p.current_dialogs;
  vol["currentLivechatDialogs"] = p.current_livechat_dialogs;
  auto meter = [](Json& m, const PlainMeter& pm) {
    m["fiveMinuteRate"] = pm.m5;
    m["oneMinuteRate"] = pm.m1;
    m["fifteenMinuteRate"] = pm.m15;
    m["count"] = pm.count;
    m["meanRate"] = pm.mean;
  };
  int worst = 0;  // Ok < Warning < Unknown < Ko
  Json& apps = doc["applications"];
  for (const PlainApp& a : p.apps) {
    Json& app = apps[a.name];
    app["status"] = a.status;
    app["durationMs"] = a.duration_ms;
    if (a.status != "Ok")
      worst = std::max(worst, a.status == "Warning"   ? 1
                              : a.status == "Unknown" ? 2
                                                      : 3);
    if (a.name == "servlet") {
      Json& chat = app["requests"]["chatHttp"];
      meter(chat["successes"], p.successes);
      meter(chat["errors"], p.errors);
      Json& bots = chat["errorsByBot"];
      bots = Json::object();
      for (const auto& [bot, n] : p.by_bot) bots[bot] = n;
      meter(chat["ignored"], p.ignored);
      chat["fiveMinuteErrorsRatio"] = p.ratio;
    }
    if (a.has_sessions) app["customs"]["sessions"] = a.sessions;
  }
  static constexpr const char* kStatus[] = {"Ok", "Warning", "Unknown", "Ko"};
  doc["status"] = kStatus[worst];
  doc["hostName"] = p.host_name;
  const std::time_t t = std::chrono::system_clock::to_time_t(p.wall);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  doc["date"] = date;
  doc["version"] = p.version;
  doc["durationMs"] = p.duration_ms;
  return pretty ? doc.dump(2) : doc.dump();
}

}  // namespace statusz_bench
