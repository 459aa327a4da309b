// The Prometheus exposition grammar the tests and the fuzzer hold the
// renderer to (text format 0.0.4 and OpenMetrics 1.0, as statusz writes
// them): every line ends with '\n'; comments are "# HELP <name> <text>" or
// "# TYPE <name> counter|gauge|histogram"; samples are
// <name>[{label="value",...}] <number>, label values escaped; OpenMetrics ends
// with "# EOF", text 0.0.4 has none. One checker, shared by test_stress.cpp and
// fuzz/fuzz_render.cpp.
#pragma once

#include <regex>
#include <string>

namespace statusz_test {

// "" if `text` follows the grammar, otherwise the first offending line and
// what is wrong with it.
inline std::string exposition_error(const std::string& text, bool openmetrics) {
  static const std::regex sample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? -?([0-9.e+-]+|NaN|\+Inf|-Inf)$)");
  static const std::regex comment(
      R"(^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* ([^\n\\]|\\[\\n])*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram))$)");
  const std::string eof = "# EOF\n";
  const bool has_eof =
      text.size() >= eof.size() &&
      text.compare(text.size() - eof.size(), eof.size(), eof) == 0;
  if (openmetrics != has_eof) {
    return openmetrics ? "no '# EOF' at the end" : "'# EOF' in text 0.0.4";
  }
  const std::size_t body = has_eof ? text.size() - eof.size() : text.size();
  std::size_t start = 0;
  while (start < body) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) return "the last line does not end with \\n";
    const std::string line = text.substr(start, end - start);
    const bool ok = line.rfind('#', 0) == 0 ? std::regex_match(line, comment)
                                            : std::regex_match(line, sample);
    if (!ok) return "malformed line: " + line;
    start = end + 1;
  }
  return "";
}

}  // namespace statusz_test
