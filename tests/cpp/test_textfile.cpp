// statusz::write_textfile(): the exposition written atomically (temporary
// file + rename, mode 0644) for node_exporter's textfile collector.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <statusz/textfile.hpp>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace statusz {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() /
           (std::string("statusz_textfile_") + info->name() + "_" +
            std::to_string(
                std::hash<std::thread::id>{}(std::this_thread::get_id())));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path))
      out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

RegistryOptions named() {
  RegistryOptions o;
  o.host_name = "batch1";
  o.version = "1.0";
  return o;
}

TEST(Textfile, WritesTheTextExpositionWithMode0644) {
  TempDir dir;
  Registry reg(named());
  reg.counter("volumes.rows").set(1200);
  const fs::path file = dir.path / "batch.prom";
  PrometheusOptions om;
  om.format = ExpositionFormat::OpenMetrics100;  // the collector reads 0.0.4
  write_textfile(reg, file, om);
  const std::string text = read(file);
  EXPECT_EQ(text, to_prometheus(reg));
  EXPECT_NE(text.find("\nstatusz_volumes_rows 1200\n"), std::string::npos);
  EXPECT_EQ(text.find("# EOF"), std::string::npos);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::mask,
            fs::perms::owner_read | fs::perms::owner_write |
                fs::perms::group_read | fs::perms::others_read);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"batch.prom"});
  reg.counter("volumes.rows").set(1300);
  write_textfile(reg, file);
  EXPECT_NE(read(file).find("\nstatusz_volumes_rows 1300\n"),
            std::string::npos);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"batch.prom"});
}

TEST(Textfile, AReaderSeesWholeFilesOnly) {
  TempDir dir;
  const fs::path file = dir.path / "m.prom";
  std::vector<std::string> texts;
  for (int n : {1, 22, 333}) {
    std::string t;
    for (int i = 0; i < 200; ++i) {
      t += "volume_" + std::to_string(i) + " " + std::to_string(n * i) + "\n";
    }
    texts.push_back(t);
  }
  const std::set<std::string> expected(texts.begin(), texts.end());
  write_file_atomically(file, texts[0]);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      if (expected.count(read(file)) == 0) bad.fetch_add(1);
    }
  });
  for (int i = 0; i < 300; ++i)
    write_file_atomically(file, texts[static_cast<std::size_t>(i % 3)]);
  done.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"m.prom"});
}

TEST(Textfile, ErrorsThrowAndLeaveNothingBehind) {
  TempDir dir;
  Registry reg(named());
  EXPECT_THROW(write_textfile(reg, dir.path / "missing" / "m.prom"),
               std::system_error);
  fs::create_directory(dir.path / "dir.prom");
  EXPECT_THROW(write_textfile(reg, dir.path / "dir.prom"), std::system_error);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"dir.prom"});
}

}  // namespace
}  // namespace statusz
