#include <iostream>
#include <statusz/statusz.hpp>

int main() {
  statusz::ManualClock clock;
  statusz::RegistryOptions options;
  options.clock = &clock;
  options.host_name = "consumer";
  statusz::Registry reg(options);
  reg.meter("applications.app.requests").mark(3);
  reg.probe("applications.app", [] { return statusz::Status::Ok; });
  const statusz::Value doc = reg.snapshot();
  const bool ok =
      doc.at("status").as_string() == "Ok" &&
      doc.at("applications").at("app").at("requests").at("count").as_int() == 3;
  std::cout << reg.to_json() << "\n";
  return ok ? 0 : 1;
}
