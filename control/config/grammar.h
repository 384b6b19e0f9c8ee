// control/config/grammar.h — the command tree and the walker shared by the loader and the CLI.
//
// A mode's grammar is a graph of `Node`s. The root's `next` holds the first words of the mode's
// commands; every node lists the words that may follow it. A node that may end a command is
// `terminal` and names the handler to call. Optional parameters that IOS accepts in any order
// (`registrar … [expires S] [tcp] …`) are wired as an option set: the last node of each option
// points back to the whole set, and the option's first keyword is `once`, so the walker offers
// it only while it has not been used in this line.
//
// The walker (walk()) matches one token at a time against the candidates of the current node:
//   1. keywords: an exact match wins; otherwise a unique prefix; several prefixes are ambiguous
//      unless exactly one of them is `preferred` (IOS keyword priority: `reg` is `registrar`
//      although `registration` exists);
//   2. parameters (word, number range, address …), in the order they are listed.
// It never touches the configuration: it only produces the arguments for one handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/config/commands.h"

namespace regfront::config::actions {
class Index;
}

namespace regfront::config::grammar {

enum class Kind : std::uint8_t {
  root,
  keyword,     // literal text, abbreviable
  word,        // any token (WORD)
  number,      // decimal in [lo, hi]
  e164,        // digits with an optional leading '+' (credentials number)
  pattern,     // a dial pattern (any word: validate_dial_pattern() in the action decides)
  hostname,    // IOS hostname (letters, digits, '-')
  reg_addr,    // dns:NAME | ipv4:A.B.C.D | ipv6:[X:X::X], each with an optional :PORT
  dns_addr,    // dns:NAME
  rest,        // the rest of the line, spaces included (LINE: `| include REGEX`)
  ipv4,        // A.B.C.D
  ipv6,        // X:X:X:X::X
  ipv6_prefix, // X:X:X:X::X/<0-128>
  ifname,      // dpdkN or dpdkN.V (parse_interface_name(), model.h)
  ipv4_prefix, // A.B.C.D/<0-32>
  ipv4_target, // session target ipv4:A.B.C.D[:PORT]
  dns_target,  // session target dns:NAME[:PORT]
};

struct Args;
struct Context {
  Config& cfg;
  Session& session;
  ExecHooks* hooks = nullptr;         // exec commands that need the daemon; null: refused
  actions::Index* index = nullptr;    // bulk-load lookup tables; null: linear searches
};
using Handler = Result (*)(Context&, const Args&);

struct Node {
  Kind kind = Kind::keyword;
  std::string text;  // keyword text, or the placeholder shown by help ("WORD", "<1-6>")
  std::string help;
  std::uint64_t lo = 0, hi = 0;  // number range
  std::string slot;              // where the matched value goes in Args (empty: nowhere)
  bool once = false;             // option keyword: at most once per line
  bool preferred = false;        // wins an abbreviation tie (IOS keyword priority)
  bool any_case = false;         // keyword matched case-insensitively (`dot1q` is `dot1Q`)
  bool terminal = false;         // the command may end here
  Handler handler = nullptr;     // called when the command ends here
  std::vector<const Node*> next;
};

// Values collected while walking: slot -> value as typed (keywords store their full text).
struct Args {
  struct Value {
    std::string text;
    std::size_t offset = 0;  // where the token starts in the line
  };
  std::map<std::string, Value, std::less<>> values;

  bool has(std::string_view slot) const { return values.find(slot) != values.end(); }
  const std::string& get(std::string_view slot) const;  // "" when absent
  std::uint64_t number(std::string_view slot, std::uint64_t dflt = 0) const;
  std::size_t offset(std::string_view slot) const;
};

// Owns the nodes of every mode. Built once, immutable afterwards (shared by all sessions).
class Grammar {
 public:
  static const Grammar& instance();
  const Node* root(Mode m) const { return roots_[static_cast<int>(m)]; }
  // Mode::dial_peer has one tree per dial peer type (one prompt, as IOS); the other modes one.
  const Node* root(Mode m, DialPeerType t) const {
    return m == Mode::dial_peer && t == DialPeerType::voip ? voip_dial_peer_ : root(m);
  }

  // Builder interface (used while constructing instance()).
  Node* make(Kind k, std::string text, std::string help);

 private:
  Grammar();
  static constexpr int kModes = static_cast<int>(Mode::keepalive) + 1;
  std::deque<Node> nodes_;
  const Node* roots_[kModes] = {};
  const Node* voip_dial_peer_ = nullptr;
};

struct Token {
  std::string_view text;
  std::size_t offset = 0;
};
std::vector<Token> tokenize(std::string_view line);

// Outcome of walking one line through one mode's tree.
struct Walk {
  SyntaxError error = SyntaxError::none;
  std::size_t marker = 0;            // invalid_input: offset of the offending token
  std::size_t matched = 0;           // tokens matched before stopping (to pick the best error)
  Handler handler = nullptr;
  Args args;
};
Walk walk(const Node* root, const std::vector<Token>& tokens);

// Interpreter::execute() with the lookup tables of a bulk load (load_startup_config() owns
// `index` and the Config for the whole load; nobody else edits that Config meanwhile).
Result execute(Config& cfg, ExecHooks* hooks, actions::Index* index, std::string_view line,
               Session& s);

// Parses a registrar address token (dns:/ipv4:/ipv6: with an optional port).
bool parse_registrar_address(std::string_view token, RegistrarAddress& out);

// Parses a session target token: ipv4:A.B.C.D[:PORT] or dns:NAME[:PORT].
bool parse_session_target(std::string_view token, SessionTarget& out);

// Address parameters (ipv4/ipv6/ipv6_prefix/ipv4_prefix nodes); IPv4 in host order.
bool parse_ipv4(std::string_view token, std::uint32_t& out);
bool parse_ipv4_prefix(std::string_view token, Ipv4Prefix& out);
bool parse_ipv6(std::string_view token, Ipv6Address& out);
bool parse_ipv6_prefix(std::string_view token, Ipv6Prefix& out);

// Whether `token` is acceptable for the parameter node `n` (not for keywords).
bool accepts(const Node& n, std::string_view token);

// Candidates for the word after `tokens` (for `?` help and completion): the nodes reachable
// from where `tokens` lead, filtered by the prefix `partial`. `cr` tells whether the command
// may end there.
struct Candidates {
  bool valid = false;  // false when `tokens` themselves do not parse
  bool cr = false;
  std::vector<const Node*> nodes;
};
Candidates candidates(const Node* root, const std::vector<Token>& tokens, std::string_view partial);

}  // namespace regfront::config::grammar
