// control/config/type7.cc — Cisco type 7 password encoding.
//
// The public algorithm: byte i of the clear text is XORed with key[(seed + i) % 53]; the output
// is the seed as two decimal digits followed by one upper-case hex pair per byte. It hides a
// password from a glance at the screen, nothing more.
#include <cctype>
#include <string>
#include <string_view>

#include "regfront/config/commands.h"

namespace regfront::config {

namespace {

constexpr std::string_view kKey = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87";
static_assert(kKey.size() == 53);

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string type7_encode(std::string_view clear, unsigned seed) {
  seed %= 16;  // IOS draws its seed from 0..15
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(2 + clear.size() * 2);
  out += static_cast<char>('0' + seed / 10);
  out += static_cast<char>('0' + seed % 10);
  for (std::size_t i = 0; i < clear.size(); ++i) {
    auto b = static_cast<unsigned char>(clear[i] ^ kKey[(seed + i) % kKey.size()]);
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

bool type7_decode(std::string_view enc, std::string& clear) {
  if (enc.size() < 4 || enc.size() % 2 != 0) return false;
  if (!std::isdigit(static_cast<unsigned char>(enc[0])) ||
      !std::isdigit(static_cast<unsigned char>(enc[1]))) {
    return false;
  }
  unsigned seed = static_cast<unsigned>((enc[0] - '0') * 10 + (enc[1] - '0'));
  if (seed >= kKey.size()) return false;
  std::string out;
  for (std::size_t i = 2, k = 0; i < enc.size(); i += 2, ++k) {
    int hi = hex_value(enc[i]), lo = hex_value(enc[i + 1]);
    if (hi < 0 || lo < 0) return false;
    auto c = static_cast<char>((hi << 4 | lo) ^ kKey[(seed + k) % kKey.size()]);
    // A configuration word cannot hold blanks or control characters.
    if (!std::isgraph(static_cast<unsigned char>(c))) return false;
    out += c;
  }
  clear = std::move(out);
  return true;
}

}  // namespace regfront::config
