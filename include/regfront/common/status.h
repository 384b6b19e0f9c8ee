// regfront/common/status.h — the outcome of a control-plane or set-up operation: a code and a
// plain-language reason, or a value (StatusOr).
//
// One convention for everything that can fail outside the hot path (configuration, start-up,
// DNS, the control socket): functions return a Status (or a StatusOr<T> when they also produce
// something) instead of `bool f(…, std::string& err)` or exceptions. Messages are plain text
// without IOS decoration; the CLI edge turns them into IOS `%` lines (config::format_error,
// the daemon's start-up report). The data plane's per-packet code does not use this: parsers
// and state machines return enums.
//
//   regfront::Status open_socket(const std::string& path) {
//     if (path.size() >= 108) return regfront::Status::invalid_argument("socket path too long");
//     …
//     return {};                                      // OK
//   }
//   regfront::StatusOr<int> parse_port(std::string_view s);
//   auto port = parse_port("5060");
//   if (!port.ok()) return port.status().with_context("--listen");
//   use(*port);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace regfront {

// What kind of failure, for callers that act on it (the text is for people).
enum class StatusCode : std::uint8_t {
  ok,
  invalid_argument,     // the input is wrong whatever the state (bad value, bad syntax)
  failed_precondition,  // the input is refused in this state (a restriction, a missing part)
  not_found,            // a named thing does not exist (file, device, interface)
  already_exists,       // it exists and may not be created again
  out_of_range,         // a value outside its bounds
  resource_exhausted,   // a table, pool or queue is full
  unavailable,          // a service or peer cannot be reached now (DNS, a socket); may pass
  internal,             // a library or the system failed (errno, rte_errno, c-ares)
};

// The code's name, e.g. "invalid_argument" (logs and tests).
std::string_view status_code_name(StatusCode c);

class [[nodiscard]] Status {
 public:
  // OK.
  Status() = default;

  // Named constructors, one per failure code; `message` says what and why, without a `%`.
  static Status invalid_argument(std::string message) { return {StatusCode::invalid_argument, std::move(message)}; }
  static Status failed_precondition(std::string message) {
    return {StatusCode::failed_precondition, std::move(message)};
  }
  static Status not_found(std::string message) { return {StatusCode::not_found, std::move(message)}; }
  static Status already_exists(std::string message) { return {StatusCode::already_exists, std::move(message)}; }
  static Status out_of_range(std::string message) { return {StatusCode::out_of_range, std::move(message)}; }
  static Status resource_exhausted(std::string message) {
    return {StatusCode::resource_exhausted, std::move(message)};
  }
  static Status unavailable(std::string message) { return {StatusCode::unavailable, std::move(message)}; }
  static Status internal(std::string message) { return {StatusCode::internal, std::move(message)}; }

  bool ok() const { return code_ == StatusCode::ok; }
  StatusCode code() const { return code_; }
  // The reason; empty when ok().
  const std::string& message() const { return message_; }

  // The same failure with `context` in front ("context: message"); an OK status stays OK.
  Status with_context(std::string_view context) const& {
    Status s = *this;
    return std::move(s).with_context(context);
  }
  Status with_context(std::string_view context) && {
    if (!ok()) message_ = std::string(context) + ": " + message_;
    return std::move(*this);
  }

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Status(StatusCode c, std::string m) : code_(c), message_(std::move(m)) {}

  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

// A T, or the Status that says why there is none. Construct from a T (OK) or from a failed
// Status; constructing from an OK Status is a programming error (it becomes `internal`).
template <class T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit, as abseil's StatusOr
  StatusOr(Status s) : v_(std::move(s)) {      // NOLINT
    if (std::get<Status>(v_).ok()) v_ = Status::internal("StatusOr built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when there is a value, else the failure.
  Status status() const { return ok() ? Status{} : std::get<Status>(v_); }

  // The value; only when ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

inline std::string_view status_code_name(StatusCode c) {
  switch (c) {
    case StatusCode::ok: return "ok";
    case StatusCode::invalid_argument: return "invalid_argument";
    case StatusCode::failed_precondition: return "failed_precondition";
    case StatusCode::not_found: return "not_found";
    case StatusCode::already_exists: return "already_exists";
    case StatusCode::out_of_range: return "out_of_range";
    case StatusCode::resource_exhausted: return "resource_exhausted";
    case StatusCode::unavailable: return "unavailable";
    case StatusCode::internal: return "internal";
  }
  return "?";
}

}  // namespace regfront
