// Replays fuzz corpus files through LLVMFuzzerTestOneInput without libFuzzer, so that ctest
// exercises every checked-in input on every build (under ASan/UBSan in the Sanitize preset).
// Usage: fuzz_replay_NAME FILE_OR_DIR...
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
int replay_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", p.c_str());
    return 1;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Copy into an exactly sized heap buffer so that ASan catches any read past the input.
  auto* buf = new std::uint8_t[bytes.size() ? bytes.size() : 1];
  std::copy(bytes.begin(), bytes.end(), buf);
  LLVMFuzzerTestOneInput(buf, bytes.size());
  delete[] buf;
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 0;
  int failures = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
        if (e.is_regular_file()) {
          failures += replay_file(e.path());
          ++n;
        }
      }
    } else {
      failures += replay_file(arg);
      ++n;
    }
  }
  std::printf("replayed %zu inputs\n", n);
  return (failures == 0 && n > 0) ? 0 : 1;
}
