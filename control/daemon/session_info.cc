// show version and show users (see regfront/daemon/session_info.h).
#include "regfront/daemon/session_info.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace regfront::daemon {

namespace {

void unit(std::string& out, std::uint64_t n, const char* name) {
  if (!out.empty()) out += ", ";
  out += std::to_string(n) + " " + name + (n == 1 ? "" : "s");
}

std::string hms(std::uint64_t s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
                static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
  return buf;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

std::string format_uptime(std::uint64_t seconds) {
  const std::uint64_t minutes = seconds / 60 % 60, hours = seconds / 3600 % 24, days = seconds / 86400 % 7,
                      weeks = seconds / 604800;
  std::string out;
  if (weeks) unit(out, weeks, "week");
  if (!out.empty() || days) unit(out, days, "day");
  if (!out.empty() || hours) unit(out, hours, "hour");
  unit(out, minutes, "minute");
  return out;
}

std::string render_version(const VersionInfo& v) {
  std::string out = "regfront Software, Version " + v.version + "\n";
  out += "SIP registration front end and SBC for Linux\n";
  if (!v.build.empty()) out += "Compiled by " + v.build + "\n";
  out += "\n";
  out += v.hostname + " uptime is " + format_uptime(v.uptime_s) + "\n";
  if (!v.image.empty()) out += "System image file is \"" + v.image + "\"\n";
  out += "\n";
  if (!v.system.empty()) out += v.system + "\n";
  out += std::to_string(v.workers) + " worker" + (v.workers == 1 ? "" : "s") + ", I/O " + v.io + "\n";
  out += "Configuration file is \"" + v.config_path + "\"\n";
  return out;
}

std::string render_users(const std::vector<UserRow>& rows) {
  // IOS's columns (Line, User, Host(s), Idle, Location); regfront's Mode after them.
  std::string out = "    Line       User       Host(s)              Idle       Location         Mode\n";
  for (const UserRow& r : rows) {
    char line[16];
    std::snprintf(line, sizeof line, "%3u", r.line);
    out += r.self ? "*" : " ";
    out += line;
    out += " " + pad("vty " + std::to_string(r.line), 9);
    out += " " + pad(r.user, 10);
    out += " " + pad("idle", 20);
    out += " " + pad(hms(r.idle_s), 10);
    out += " " + pad(r.location, 16);
    out += " " + r.mode;
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  return out;
}

std::string render_version_json(const VersionInfo& v) {
  nlohmann::json j;
  j["version"] = v.version;
  j["build"] = v.build;
  j["hostname"] = v.hostname;
  j["uptime_seconds"] = v.uptime_s;
  j["image"] = v.image;
  j["system"] = v.system;
  j["workers"] = v.workers;
  j["io"] = v.io;
  j["config_file"] = v.config_path;
  return j.dump() + "\n";
}

std::string render_users_json(const std::vector<UserRow>& rows) {
  nlohmann::json j;
  j["users"] = nlohmann::json::array();
  for (const UserRow& r : rows) {
    j["users"].push_back({{"line", r.line},
                          {"name", "vty " + std::to_string(r.line)},
                          {"self", r.self},
                          {"user", r.user},
                          {"host", "idle"},
                          {"idle_seconds", r.idle_s},
                          {"location", r.location},
                          {"mode", r.mode}});
  }
  return j.dump() + "\n";
}

}  // namespace regfront::daemon
