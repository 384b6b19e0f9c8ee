// libFuzzer target for the SIP parser: parses the input, checks that every view lies inside it,
// then runs every value helper on every header field (and on every list element and parameter
// of them), so the helpers see hostile values as well as the framing code.
// Replayed by ctest through fuzz_replay_sip_message; fuzz_sip_message is the libFuzzer binary.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "regfront/sip/message.h"

namespace {

using namespace regfront::sip;

std::string_view g_input;

// A view must be empty or lie inside the input; anything else is a parser bug.
void check_inside(std::string_view v) {
  if (v.empty()) return;
  const char* b = g_input.data();
  const char* e = b + g_input.size();
  if (v.data() < b || v.data() + v.size() > e) __builtin_trap();
}

void check_inside(std::string_view v, std::string_view parent) {
  if (v.empty()) return;
  if (v.data() < parent.data() || v.data() + v.size() > parent.data() + parent.size()) {
    __builtin_trap();
  }
}

void walk_params(std::string_view params) {
  std::size_t pos = 0;
  std::string_view name;
  std::string_view value;
  int guard = 0;
  while (next_param(params, pos, name, value)) {
    check_inside(name, params);
    check_inside(value, params);
    check_inside(unquote(value), params);
    std::uint32_t seconds = 0;
    (void)parse_delta_seconds(value, seconds);
    if (pos > params.size() || ++guard > 100000) __builtin_trap();  // must advance and stop
  }
}

void walk_value(const Header& h) {
  check_inside(h.name);
  check_inside(h.value);
  (void)classify_header_name(h.name);
  if (h.name.size() == 1) (void)compact_form_long_name(h.name[0]);
  (void)iequals(h.name, "Via");

  CSeq cseq;
  (void)parse_cseq(h.value, cseq);
  check_inside(cseq.method, h.value);
  std::uint32_t seconds = 0;
  (void)parse_delta_seconds(h.value, seconds);
  check_inside(unquote(h.value), h.value);

  std::size_t pos = 0;
  std::size_t last = 0;
  std::string_view el;
  while (next_list_element(h.value, pos, el)) {
    check_inside(el, h.value);
    if (pos <= last && pos != h.value.size()) __builtin_trap();  // must make progress
    last = pos;
    Via via;
    if (parse_via(el, via)) {
      check_inside(via.protocol, el);
      check_inside(via.sent_by, el);
      check_inside(via.branch, el);
      check_inside(via.received, el);
      check_inside(via.rport, el);
    }
    NameAddr na;
    if (parse_name_addr(el, na)) {
      check_inside(na.display, el);
      check_inside(na.uri, el);
      check_inside(na.params, el);
      walk_params(na.params);
    }
    const std::size_t semi = el.find(';');
    if (semi != std::string_view::npos) walk_params(el.substr(semi + 1));
  }
  if (pos > h.value.size()) __builtin_trap();
  // The whole value as a single element too (From/To are not lists).
  NameAddr na;
  if (parse_name_addr(h.value, na)) walk_params(na.params);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  g_input = std::string_view(reinterpret_cast<const char*>(data), size);
  std::array<Header, kMaxHeaders> headers;
  Message msg;
  const ParseStatus st = parse(g_input, msg, headers);
  if (st != ParseStatus::ok) {
    if (msg.error == ParseError::none) __builtin_trap();
    return 0;
  }
  if (msg.error != ParseError::none || msg.consumed > size || msg.header_count > kMaxHeaders) {
    __builtin_trap();
  }
  check_inside(msg.method);
  check_inside(msg.request_uri);
  check_inside(msg.reason);
  check_inside(msg.body);
  if (msg.body.data() + msg.body.size() != g_input.data() + msg.consumed) __builtin_trap();
  if (!msg.is_request && (msg.status < 100 || msg.status > 699)) __builtin_trap();
  for (std::size_t i = 0; i < msg.header_count; ++i) {
    const Header& h = msg.headers[i];
    if (classify_header_name(h.name) != h.id) __builtin_trap();
    const Header* first = msg.first(h.id);
    if (first == nullptr || first > &h) __builtin_trap();
    walk_value(h);
  }
  return 0;
}
